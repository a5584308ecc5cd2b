import { DataSource, EntityMetadata, EntityTarget, In, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import {
  ConnectionData,
  Cursor,
  PageWindow,
  SortDirection,
  SortSpec,
  SortValueKind,
  buildConnection,
  checkCursor,
  scanDirection,
} from './connection';

const comparison = { [SortDirection.ASC]: '>', [SortDirection.DESC]: '<' } as const;
const opposite = { [SortDirection.ASC]: SortDirection.DESC, [SortDirection.DESC]: SortDirection.ASC } as const;

/** `(sortKey, id)` strictly past `cursor` when reading in `direction`, as a keyset condition. */
function addCursorCondition<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  property: string,
  direction: SortDirection,
  cursor: Cursor,
  name: string,
): void {
  const alias = qb.alias;
  const op = comparison[direction];
  qb.andWhere(
    `(${alias}.${property} ${op} :${name}Value OR (${alias}.${property} = :${name}Value AND ${alias}.id ${op} :${name}Id))`,
    { [`${name}Value`]: cursor.value, [`${name}Id`]: cursor.id },
  );
}

/** What a sort column holds, from its TypeORM column type: what a cursor's sort value must be. */
function sortValueKind(metadata: EntityMetadata, property: string): SortValueKind {
  const column = metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${metadata.name} has no column ${property} to sort by`);
  const type = column.type;
  if (
    type === Date ||
    ['datetime', 'timestamp', 'timestamp with time zone', 'timestamptz', 'date'].includes(type as string)
  )
    return 'instant';
  if (type === Number || ['integer', 'int', 'int4', 'smallint'].includes(type as string)) return 'integer';
  if (['real', 'float', 'double precision', 'decimal', 'numeric'].includes(type as string)) return 'number';
  if (type === String || ['varchar', 'character varying', 'text', 'simple-enum', 'enum'].includes(type as string))
    return 'text';
  throw new Error(`${metadata.name}.${property}: no cursor rule for column type ${String(type)}`);
}

function addWindowConditions<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  sort: SortSpec<T>,
  window: PageWindow,
  metadata: EntityMetadata,
) {
  const kind = sortValueKind(metadata, sort.property);
  if (window.after) checkCursor(kind, window.after, 'after');
  if (window.before) checkCursor(kind, window.before, 'before');
  if (window.after) addCursorCondition(qb, sort.property, sort.direction, window.after, 'afterCursor');
  if (window.before) addCursorCondition(qb, sort.property, opposite[sort.direction], window.before, 'beforeCursor');
}

/**
 * One page of a root list: the filtered query `qb` (not yet ordered or limited) becomes a keyset
 * page. The count runs on a copy made before the cursor conditions, and only when asked for.
 */
export async function paginateQuery<T extends ObjectLiteral & { id: number }>(
  qb: SelectQueryBuilder<T>,
  sort: SortSpec<T>,
  window: PageWindow,
): Promise<ConnectionData<T>> {
  const countQuery = qb.clone();
  addWindowConditions(qb, sort, window, qb.expressionMap.mainAlias!.metadata);
  const direction = scanDirection(sort as SortSpec<unknown>, window);
  const rows = await qb
    .orderBy(`${qb.alias}.${sort.property}`, direction)
    .addOrderBy(`${qb.alias}.id`, direction)
    .limit(window.limit + 1)
    .getMany();
  return buildConnection(rows, window, sort, () => countQuery.getCount());
}

export interface ParentPageRequest<T extends ObjectLiteral> {
  entity: EntityTarget<T>;
  /** Property holding the parent's row id, e.g. `deviceId`. */
  parentProperty: string;
  parentIds: readonly number[];
  sort: SortSpec<T>;
  window: PageWindow;
  /** Adds the list's filter to the query aliased `t`. */
  applyFilter?: (qb: SelectQueryBuilder<T>) => void;
}

/**
 * The same page of a child list for many parents at once (the last 5 attempts of each of 100
 * devices) in two statements, whatever the number of parents: a window function numbers each
 * parent's rows in page order, then the selected rows are loaded by id. One parent's page is one
 * statement reading only its rows.
 * Returns each parent's rows in scan order, up to limit + 1 (see buildConnection).
 */
export async function pageRowsByParent<T extends ObjectLiteral & { id: number }>(
  dataSource: DataSource,
  request: ParentPageRequest<T>,
): Promise<Map<number, T[]>> {
  const { entity, parentProperty, parentIds, sort, window } = request;
  const byParent = new Map<number, T[]>(parentIds.map((id) => [id, []]));
  if (parentIds.length === 0) return byParent;

  const repository = dataSource.getRepository(entity);
  if (parentIds.length === 1) {
    // One parent (a device's own page): a plain keyset page through the (parent, sort key, id)
    // index, reading only the page's rows. The numbered form below reads every row of its parents
    // before it keeps a page of each: 2 s for a device with 10,000 attempts at 10^7.
    const single = repository
      .createQueryBuilder('t')
      .where(`t.${parentProperty} = :parentId`, { parentId: parentIds[0] });
    request.applyFilter?.(single);
    addWindowConditions(single, sort, window, repository.metadata);
    const direction = scanDirection(sort as SortSpec<unknown>, window);
    const page = await single
      .orderBy(`t.${sort.property}`, direction)
      .addOrderBy('t.id', direction)
      .limit(window.limit + 1)
      .getMany();
    return new Map([[parentIds[0], page]]);
  }
  const inner = repository.createQueryBuilder('t');
  const column = (property: string) =>
    `${inner.escape('t')}.${inner.escape(repository.metadata.findColumnWithPropertyName(property)!.databaseName)}`;
  const direction = scanDirection(sort as SortSpec<unknown>, window);
  inner
    .select('t.id', 'id')
    .addSelect(`t.${parentProperty}`, 'parent')
    .addSelect(
      `ROW_NUMBER() OVER (PARTITION BY ${column(parentProperty)} ORDER BY ${column(sort.property)} ${direction}, ${column('id')} ${direction})`,
      'rn',
    )
    .where(`t.${parentProperty} IN (:...parentIds)`, { parentIds: [...parentIds] });
  request.applyFilter?.(inner);
  addWindowConditions(inner, sort, window, repository.metadata);

  const ranked: { id: number | string; parent: number | string; rn: number | string }[] = await dataSource
    .createQueryBuilder()
    .select('ranked.id', 'id')
    .addSelect('ranked.parent', 'parent')
    .addSelect('ranked.rn', 'rn')
    .from(`(${inner.getQuery()})`, 'ranked')
    .where('ranked.rn <= :rowsPerParent', { rowsPerParent: window.limit + 1 })
    .setParameters(inner.getParameters())
    .getRawMany();
  if (ranked.length === 0) return byParent;

  const rows = await repository.findBy({ id: In(ranked.map((row) => Number(row.id))) } as never);
  const rowById = new Map(rows.map((row) => [row.id, row]));
  ranked
    .sort((a, b) => Number(a.rn) - Number(b.rn))
    .forEach((rank) => byParent.get(Number(rank.parent))?.push(rowById.get(Number(rank.id))!));
  return byParent;
}

/** Counts a child list for many parents in one GROUP BY statement. */
export async function countByParent<T extends ObjectLiteral>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  parentProperty: string,
  parentIds: readonly number[],
  applyFilter?: (qb: SelectQueryBuilder<T>) => void,
): Promise<Map<number, number>> {
  const qb = dataSource
    .getRepository(entity)
    .createQueryBuilder('t')
    .select(`t.${parentProperty}`, 'parent')
    .addSelect('COUNT(*)', 'total')
    .where(`t.${parentProperty} IN (:...parentIds)`, { parentIds: [...parentIds] })
    .groupBy(`t.${parentProperty}`);
  applyFilter?.(qb);
  const counts: { parent: number | string; total: number | string }[] = await qb.getRawMany();
  return new Map(counts.map((row) => [Number(row.parent), Number(row.total)]));
}
