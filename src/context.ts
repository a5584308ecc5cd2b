import { DataSource } from 'typeorm';
import { Viewer, actorOf } from './auth/viewer';
import { PageArgs, PageWindow, resolvePageWindow } from './common/connection';
import { Settings } from './config';
import { Loaders, createLoaders } from './loaders';
import { RequestObservation } from './ops/observe';

/** Everything a resolver may use for one request. Loaders are per request: caches never outlive it. */
export interface GraphQLContext {
  dataSource: DataSource;
  settings: Settings;
  loaders: Loaders;
  requestId: string;
  /** The authenticated caller; null when the request carried no API key. */
  viewer: Viewer | null;
  /** How the audit trail names the caller. */
  actor: string;
  /** The request's log line in the making (HTTP requests only). */
  observation?: RequestObservation;
  pageWindow(args: PageArgs): PageWindow;
}

export function createContext(
  dataSource: DataSource,
  settings: Settings,
  requestId: string,
  viewer: Viewer | null,
  observation?: RequestObservation,
): GraphQLContext {
  return {
    dataSource,
    settings,
    loaders: createLoaders(dataSource),
    requestId,
    viewer,
    actor: viewer ? actorOf(viewer) : 'anonymous',
    observation,
    pageWindow: (args) => resolvePageWindow(args, settings.maxPageSize),
  };
}
