import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { RequestScope, createRequestScope } from './common/request-scope';
import { Settings } from './config';
import { Loaders, createLoaders } from './loaders';
import { RequestObservation } from './ops/observe';

/**
 * The transport edge's request: the scope services take, plus every module's loaders (per request:
 * caches never outlive it) and the request's log line.
 */
export interface GraphQLContext extends RequestScope {
  loaders: Loaders;
  /** The request's log line in the making (HTTP requests only). */
  observation?: RequestObservation;
}

export function createContext(
  dataSource: DataSource,
  settings: Settings,
  requestId: string,
  viewer: Viewer | null,
  observation?: RequestObservation,
): GraphQLContext {
  return {
    ...createRequestScope(dataSource, settings, requestId, viewer),
    loaders: createLoaders(dataSource),
    observation,
  };
}
