import { DataSource } from 'typeorm';
import { Viewer, actorOf, internalViewer } from '../auth/viewer';
import { Settings } from '../config';
import { PageArgs, PageWindow, resolvePageWindow } from './connection';

/**
 * What a service needs to know about the request it works for: where the data is, the settings, who
 * asks and how the audit trail names them. Resolvers receive a GraphQLContext (which extends this);
 * background work (sweeps, seeding) and the CSV routes build a scope of their own. Loaders are not
 * part of it: a service that batches reads says which module's loaders it takes.
 */
export interface RequestScope {
  dataSource: DataSource;
  settings: Settings;
  requestId: string;
  /** The authenticated caller; null when the request carried no API key. */
  viewer: Viewer | null;
  /** How the audit trail names the caller. */
  actor: string;
  pageWindow(args: PageArgs): PageWindow;
  /** Told after a committed change to what decisions depend on; the composition root rebuilds the rules. */
  onRulesChanged?: () => void;
}

export function createRequestScope(
  dataSource: DataSource,
  settings: Settings,
  requestId: string,
  viewer: Viewer | null,
): RequestScope {
  return {
    dataSource,
    settings,
    requestId,
    viewer,
    actor: viewer ? actorOf(viewer) : 'anonymous',
    pageWindow: (args) => resolvePageWindow(args, settings.maxPageSize),
  };
}

/** The scope of work nobody asked for over HTTP (seeding, a sweep, a script), named in the audit trail. */
export function internalScope(
  dataSource: DataSource,
  settings: Settings,
  name: string,
  requestId = name,
): RequestScope {
  return createRequestScope(dataSource, settings, requestId, internalViewer(name));
}

/** A scope with the loaders of the modules a service batches reads from (GraphQLContext has them all). */
export type ScopeWithLoaders<Loaders> = RequestScope & { loaders: Loaders };
