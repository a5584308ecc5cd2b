import { EntityManager } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';

export type ColumnValue = string | number | boolean | Date | null | object;

/**
 * Multi-row INSERT for the seed generator, bypassing entity hydration (a million rows through the
 * ORM's insert path is an order of magnitude slower). Values are converted the way TypeORM stores
 * them, so rows read back through entities exactly as if the ORM had written them.
 */
export async function insertRows(
  manager: EntityManager,
  table: string,
  columns: string[],
  rows: ColumnValue[][],
): Promise<void> {
  if (rows.length === 0) return;
  const postgres = manager.connection.driver.options.type === 'postgres';
  const escape = (name: string) => manager.connection.driver.escape(name);
  const convert = (value: ColumnValue): unknown => {
    if (value instanceof Date) return postgres ? value.toISOString() : DateUtils.mixedDateToUtcDatetimeString(value);
    if (typeof value === 'boolean') return postgres ? value : value ? 1 : 0;
    if (value !== null && typeof value === 'object') return JSON.stringify(value);
    return value;
  };
  const rowsPerStatement = Math.floor(30000 / columns.length);
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const parameters: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = row.map((value) => {
        parameters.push(convert(value));
        return postgres ? `$${parameters.length}` : '?';
      });
      return `(${placeholders.join(',')})`;
    });
    await manager.query(
      `INSERT INTO ${escape(table)} (${columns.map(escape).join(',')}) VALUES ${tuples.join(',')}`,
      parameters,
    );
  }
}
