import { DataSource } from 'typeorm';
import { PageArgs, PageWindow, resolvePageWindow } from './common/connection';
import { Settings } from './config';
import { Loaders, createLoaders } from './loaders';

/** Everything a resolver may use for one request. Loaders are per request: caches never outlive it. */
export interface GraphQLContext {
  dataSource: DataSource;
  settings: Settings;
  loaders: Loaders;
  requestId: string;
  /** Who is acting, for the audit trail. */
  actor: string;
  pageWindow(args: PageArgs): PageWindow;
}

export function createContext(
  dataSource: DataSource,
  settings: Settings,
  requestId: string,
  actor: string,
): GraphQLContext {
  return {
    dataSource,
    settings,
    loaders: createLoaders(dataSource),
    requestId,
    actor,
    pageWindow: (args) => resolvePageWindow(args, settings.maxPageSize),
  };
}
