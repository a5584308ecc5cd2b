import DataLoader from 'dataloader';
import { DataSource, EntityTarget, In, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ConnectionData, PageWindow, SortSpec, buildConnection } from './connection';
import { countByParent, pageRowsByParent } from './sql-pagination';

/**
 * A batch function must answer in key order with one result per key. Rows come back from the
 * database in any order and some keys have no row: those get `null`.
 */
export function orderByKeys<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): (V | null)[] {
  const rowByKey = new Map<K, V>();
  for (const row of rows) rowByKey.set(keyOf(row), row);
  return keys.map((key) => rowByKey.get(key) ?? null);
}

/** Loads rows of one entity by a unique property (`id`, `code`, `imei` …), one statement per batch. */
export function createEntityLoader<T extends ObjectLiteral, K extends string | number>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  property: keyof T & string = 'id',
): DataLoader<K, T | null> {
  return new DataLoader<K, T | null>(async (keys) => {
    const rows = await dataSource.getRepository(entity).findBy({ [property]: In([...keys]) } as never);
    return orderByKeys(keys, rows, (row) => row[property] as K);
  });
}

export interface ChildConnectionKey<F> {
  parentId: number;
  window: PageWindow;
  /** The list's filter; part of the cache key, so equal filters share a batch. */
  filter?: F;
}

export interface ChildConnectionOptions<T extends ObjectLiteral, F> {
  entity: EntityTarget<T>;
  parentProperty: string;
  sortFor: (key: ChildConnectionKey<F>) => SortSpec<T>;
  applyFilter?: (qb: SelectQueryBuilder<T>, filter: F) => void;
}

/**
 * A connection under each of many parents (device → attempts). Keys that share page arguments
 * and filter are answered by one windowed query; `totalCount`, when asked for, by one GROUP BY.
 */
export function createChildConnectionLoader<T extends ObjectLiteral & { id: number }, F = undefined>(
  dataSource: DataSource,
  options: ChildConnectionOptions<T, F>,
): DataLoader<ChildConnectionKey<F>, ConnectionData<T>, string> {
  const shapeOf = (key: ChildConnectionKey<F>) => JSON.stringify([key.window, key.filter ?? null]);
  const filterOf = (filter: F | undefined) =>
    filter === undefined || !options.applyFilter
      ? undefined
      : (qb: SelectQueryBuilder<T>) => options.applyFilter!(qb, filter);

  const countLoader = new DataLoader<{ parentId: number; filter?: F }, number, string>(
    async (keys) => {
      const byFilter = groupBy(keys, (key) => JSON.stringify(key.filter ?? null));
      const totals = new Map<string, number>();
      for (const group of byFilter.values()) {
        const counts = await countByParent(
          dataSource,
          options.entity,
          options.parentProperty,
          group.map((key) => key.parentId),
          filterOf(group[0].filter),
        );
        for (const key of group) totals.set(countKeyOf(key), counts.get(key.parentId) ?? 0);
      }
      return keys.map((key) => totals.get(countKeyOf(key)) ?? 0);
    },
    { cacheKeyFn: (key) => countKeyOf(key) },
  );
  const countKeyOf = (key: { parentId: number; filter?: F }) => `${key.parentId}|${JSON.stringify(key.filter ?? null)}`;

  return new DataLoader<ChildConnectionKey<F>, ConnectionData<T>, string>(
    async (keys) => {
      const results = new Map<string, ConnectionData<T>>();
      for (const group of groupBy(keys, shapeOf).values()) {
        const { window, filter } = group[0];
        const sort = options.sortFor(group[0]);
        const rowsByParent = await pageRowsByParent(dataSource, {
          entity: options.entity,
          parentProperty: options.parentProperty,
          parentIds: [...new Set(group.map((key) => key.parentId))],
          sort,
          window,
          applyFilter: filterOf(filter),
        });
        for (const key of group) {
          const rows = rowsByParent.get(key.parentId) ?? [];
          results.set(
            `${key.parentId}|${shapeOf(key)}`,
            buildConnection(rows, window, sort, () => countLoader.load({ parentId: key.parentId, filter })),
          );
        }
      }
      return keys.map((key) => results.get(`${key.parentId}|${shapeOf(key)}`)!);
    },
    { cacheKeyFn: (key) => `${key.parentId}|${shapeOf(key)}` },
  );
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}
