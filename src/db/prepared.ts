import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/** A statement with its parameters, in the dialect's placeholder form. */
export interface Statement {
  sql: string;
  parameters: unknown[];
}

/** Parameters SQLite binds in one statement (SQLITE_MAX_VARIABLE_NUMBER of the better-sqlite3 build). */
export const SQLITE_MAX_PARAMETERS = 32_766;

/**
 * SQLite: `count` rows split into multi-row statements of at most `max` rows, each a power of two
 * (the largest that fits `max` as often as it fits, then the remainder's binary digits: 931 rows
 * of at most 3,276 are 512 + 256 + 128 + 32 + 2 + 1). A sweep's batches change a number of rows
 * that varies from batch to batch: one statement of each count was a new SQL text each time,
 * prepared anew (a tenth of the writing thread's time) and pushing the decision path's statements
 * out of the driver's cache of 100. These few shapes are prepared once and found in the cache.
 */
export function statementShapes(count: number, max: number): number[] {
  let largest = 1;
  while (largest * 2 <= max) largest *= 2;
  const shapes: number[] = [];
  let left = count;
  while (left >= largest) {
    shapes.push(largest);
    left -= largest;
  }
  for (let shape = largest / 2; shape >= 1; shape /= 2) {
    if (left >= shape) {
      shapes.push(shape);
      left -= shape;
    }
  }
  return shapes;
}

/** The rows' values one after the other, as a multi-row statement binds them. */
function concatenated(rows: readonly (readonly unknown[])[]): unknown[] {
  const values: unknown[] = [];
  for (const row of rows) for (const value of row) values.push(value);
  return values;
}

/**
 * Hand-written SQL for the few statements on the decision hot path, where building each query
 * through TypeORM's query builder costs more than running it. Column names, value conversion
 * (dates, JSON, booleans) and placeholders still come from the entity metadata and the driver, so
 * these statements cannot drift from the entities.
 */
export class EntityStatements<T extends ObjectLiteral> {
  readonly table: string;
  private readonly columns: Map<string, ColumnMetadata>;
  readonly postgres: boolean;

  constructor(
    private readonly dataSource: DataSource,
    entity: EntityTarget<T>,
  ) {
    const metadata = dataSource.getMetadata(entity);
    this.table = metadata.tableName;
    this.columns = new Map(metadata.columns.map((column) => [column.propertyName, column]));
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `$n` on PostgreSQL, `?` on SQLite. */
  placeholder(index: number): string {
    return this.postgres ? `$${index}` : '?';
  }

  column(property: keyof T & string): string {
    return `"${this.columnOf(property).databaseName}"`;
  }

  /** A property's value as the driver stores it. */
  persisted(property: keyof T & string, value: unknown): unknown {
    const persisted = this.dataSource.driver.preparePersistentValue(value, this.columnOf(property));
    // better-sqlite3 binds no booleans.
    return !this.postgres && typeof persisted === 'boolean' ? Number(persisted) : persisted;
  }

  /**
   * `INSERT … RETURNING id` for these properties, with its parameters for a row; `sqlForRows(n)`
   * inserts n rows at once (parameters of the rows one after the other).
   */
  insert(properties: readonly (keyof T & string)[]): {
    sql: string;
    sqlForRows(rows: number): string;
    parameters(row: Partial<T>): unknown[];
  } {
    const head = `INSERT INTO "${this.table}" (${properties.map((property) => this.column(property)).join(', ')}) VALUES `;
    const valuesOfRow = (row: number) =>
      `(${properties.map((_, index) => this.placeholder(row * properties.length + index + 1)).join(', ')})`;
    const sqlForRows = (rows: number) =>
      `${head}${Array.from({ length: rows }, (_, row) => valuesOfRow(row)).join(', ')} RETURNING "id"`;
    return {
      sql: sqlForRows(1),
      sqlForRows,
      parameters: (row) => properties.map((property) => this.persisted(property, row[property])),
    };
  }

  /** A row's values of these properties, each as the driver stores it (`persisted`): what SQLite binds. */
  persistedRow(properties: readonly (keyof T & string)[], row: Partial<T>): unknown[] {
    return properties.map((property) => this.persisted(property, row[property]));
  }

  /**
   * SQLite: INSERTs of many rows converted already (`persistedRow`), as few multi-row VALUES lists
   * as its 32,766 parameters allow. (PostgreSQL takes many rows as one JSON document:
   * `insertFromJson`.) A sweep's reader thread converts the rows; the writing thread only binds.
   */
  insertManyValues(properties: readonly (keyof T & string)[]): (rows: readonly (readonly unknown[])[]) => Statement[] {
    const columns = properties.map((property) => this.column(property)).join(', ');
    const perStatement = Math.floor(SQLITE_MAX_PARAMETERS / properties.length);
    const row = `(${properties.map(() => '?').join(', ')})`;
    return (rows) => {
      const statements: Statement[] = [];
      let start = 0;
      for (const shape of statementShapes(rows.length, perStatement)) {
        const chunk = rows.slice(start, (start += shape));
        statements.push({
          sql: `INSERT INTO "${this.table}" (${columns}) VALUES ${chunk.map(() => row).join(', ')}`,
          parameters: concatenated(chunk),
        });
      }
      return statements;
    };
  }

  /** `UPDATE … WHERE id = ?` for the properties of `changes`. */
  update(id: number, changes: Partial<T>): { sql: string; parameters: unknown[] } {
    const properties = Object.keys(changes) as (keyof T & string)[];
    const assignments = properties.map(
      (property, index) => `${this.column(property)} = ${this.placeholder(index + 1)}`,
    );
    return {
      sql: `UPDATE "${this.table}" SET ${assignments.join(', ')} WHERE "id" = ${this.placeholder(properties.length + 1)}`,
      parameters: [...properties.map((property) => this.persisted(property, changes[property])), id],
    };
  }

  /**
   * SQLite: one `UPDATE … FROM (VALUES …)` for many rows writing the same properties, each row only
   * while its `guard` property still has the value given (`WHERE id = ? AND guard = ?` row by
   * row): `RETURNING "id"` names the rows it changed. Rows are converted already — each `[id,
   * guard, …the properties' values]` as the driver stores them. Row ids must differ (an id twice
   * would be updated once, by either).
   */
  updateManyValues(
    guard: keyof T & string,
    properties: readonly (keyof T & string)[],
    rows: readonly (readonly unknown[])[],
  ): Statement {
    const table = `"${this.table}"`;
    // The rows' columns are column1, column2, … (VALUES names them so on SQLite).
    const assignments = properties.map((property, index) => `${this.column(property)} = v.column${index + 3}`);
    const where = `WHERE ${table}."id" = v.column1 AND ${table}.${this.column(guard)} = v.column2 RETURNING ${table}."id"`;
    const row = `(${Array.from({ length: properties.length + 2 }, () => '?').join(', ')})`;
    return {
      sql: `UPDATE ${table} SET ${assignments.join(', ')} FROM (VALUES ${rows.map(() => row).join(', ')}) AS v ${where}`,
      parameters: concatenated(rows),
    };
  }

  /**
   * PostgreSQL: `INSERT … SELECT` of these properties from a JSON document of rows (`jsonDocument`)
   * bound as parameter `parameter`, the rows `where` keeps (`r` is a row, `r.ordinality` its place
   * from 1), in their order: for statements that write more beside it.
   */
  insertFromJson(properties: readonly (keyof T & string)[], parameter: number, where: string): string {
    const columns = properties.map((property) => this.column(property));
    return (
      `INSERT INTO "${this.table}" (${columns.join(', ')}) ` +
      `SELECT ${columns.map((column) => `r.${column}`).join(', ')} ` +
      `FROM json_populate_recordset(NULL::"${this.table}", $${parameter}::json) WITH ORDINALITY r ` +
      `WHERE ${where} ORDER BY r.ordinality`
    );
  }

  /**
   * PostgreSQL: the guarded UPDATE of many rows (as `updateManyValues`) from one JSON document —
   * `UPDATE … FROM json_to_recordset($parameter::json) AS v …`; a VALUES list of thousands of cast
   * parameters took longer to parse and plan than to run, and typed arrays per column longer to
   * build on the client — without a RETURNING, for statements that write more beside it. Each row of the document has its
   * `"$id"`, `"$guard"` and `"$n"` (its place in the rows, from 1: `v."$n"`), then the properties
   * under their columns' names — as they stand when they are the document already (`carriedAsIs`).
   */
  updateManyFromJson(
    guard: keyof T & string,
    properties: readonly (keyof T & string)[],
    parameter: number,
  ): { sql: string; document(rows: readonly { id: number; guard: unknown; changes: Partial<T> }[]): string } {
    const table = `"${this.table}"`;
    const type = (property: keyof T & string) => this.dataSource.driver.normalizeType(this.columnOf(property));
    const columns = properties.map((property) => this.column(property));
    const sql =
      `UPDATE ${table} SET ${properties.map((_, index) => `${columns[index]} = v.${columns[index]}`).join(', ')} ` +
      `FROM json_to_recordset($${parameter}::json) AS v("$id" integer, "$guard" ${type(guard)}, "$n" integer` +
      `${properties.map((property, index) => `, ${columns[index]} ${type(property)}`).join('')}) ` +
      `WHERE ${table}."id" = v."$id" AND ${table}.${this.column(guard)} = v."$guard"`;
    return {
      sql,
      document: (rows) => {
        const changes = this.jsonRecords(
          properties,
          rows.map((row) => row.changes),
        );
        return JSON.stringify(
          rows.map((row, index) => ({
            $id: row.id,
            $guard: this.jsonValue(guard, row.guard),
            $n: index + 1,
            ...changes[index],
          })),
        );
      },
    };
  }

  /**
   * Rows of these properties as one JSON document for PostgreSQL (`json_populate_recordset`,
   * `json_to_recordset`), each value under its column's name as `jsonValue` carries it. When the
   * rows are already that document (`carriedAsIs`), they are stringified as they stand: no
   * converted copy of every row (a sweep batch's 4,000 rows, whose copies and their garbage were
   * a fifth of the service's processor time).
   */
  jsonDocument(properties: readonly (keyof T & string)[], rows: readonly Partial<T>[]): string {
    return JSON.stringify(this.jsonRecords(properties, rows));
  }

  /** The rows as `jsonDocument` writes them: themselves when `carriedAsIs`, else converted copies. */
  private jsonRecords(properties: readonly (keyof T & string)[], rows: readonly Partial<T>[]): readonly object[] {
    if (this.carriedAsIs(properties, rows)) return rows;
    return rows.map((row) => {
      const record: Record<string, unknown> = {};
      for (const property of properties)
        record[this.columnOf(property).databaseName] = this.jsonValue(property, row[property]);
      return record;
    });
  }

  /**
   * Whether `JSON.stringify(rows)` is the document `jsonValue` would build: every column named as
   * its property, with no transformer, of a kind whose values JSON writes as PostgreSQL reads them
   * (text, integers, booleans, instants as ISO text, a simple-json column's plain object or array
   * as its own JSON text) — and every row holding only those properties, each value of its
   * column's kind (a string where an instant is expected, say, is converted by the driver instead).
   */
  carriedAsIs(properties: readonly (keyof T & string)[], rows: readonly Partial<T>[]): boolean {
    const kinds = properties.map((property) => this.jsonKindOf(property));
    if (kinds.includes(null)) return false;
    for (const row of rows) {
      for (const key in row) {
        const index = properties.indexOf(key as keyof T & string);
        if (index < 0 || !fitsJsonKind(kinds[index]!, row[key])) return false;
      }
    }
    return true;
  }

  private readonly jsonKinds = new Map<string, JsonKind | null>();

  /** How a property's values travel in a JSON document as they stand, or null when they must be converted. */
  private jsonKindOf(property: keyof T & string): JsonKind | null {
    let kind = this.jsonKinds.get(property);
    if (kind === undefined) {
      const column = this.columnOf(property);
      // A column that is also a relation's join column (history's and partner events' `deviceId`)
      // has its type as a constructor (`Number`): named as the driver names it, else those tables'
      // rows were never carried as they stand but converted value by value through the driver.
      // Only a constructor is named so: the driver names simple-json `text`, which would lose the
      // json kind those columns travel as.
      const type = typeof column.type === 'function' ? this.dataSource.driver.normalizeType(column) : column.type;
      kind =
        column.databaseName !== property || column.transformer || !this.postgres
          ? null
          : (JSON_KINDS[String(type)] ?? null);
      this.jsonKinds.set(property, kind);
    }
    return kind;
  }

  /**
   * A property's value as a JSON document carries it to PostgreSQL: a JSON column's value as itself,
   * not as text; so too a simple-json column's object or array, whose text PostgreSQL takes from the
   * `json` document as it stands there — what `JSON.stringify` writes for it alone, as the driver
   * would store it — instead of a string of it escaped once more inside the document (the
   * audit's and partner events' JSON, a thousand rows a sweep batch). Other simple-json values
   * (a string, a Date) go as the driver's text: PostgreSQL would store a JSON string unquoted.
   */
  private jsonValue(property: keyof T & string, value: unknown): unknown {
    const { type } = this.columnOf(property);
    if (type === 'json' || type === 'jsonb') return value ?? null;
    if (type === 'simple-json' && isPlainJson(value)) return value;
    return this.persisted(property, value) ?? null;
  }

  /** A raw row (columns aliased to property names) as the entity's property values. */
  hydrate(raw: Record<string, unknown>, properties: readonly (keyof T & string)[]): Partial<T> {
    const row: Partial<T> = {};
    for (const property of properties) {
      row[property] = this.dataSource.driver.prepareHydratedValue(raw[property], this.columnOf(property)) as never;
    }
    return row;
  }

  private columnOf(property: string): ColumnMetadata {
    const column = this.columns.get(property);
    if (!column) throw new Error(`${this.table} has no column for property ${property}`);
    return column;
  }
}

/**
 * The parameters of one hand-written statement, in the dialect's placeholder form (`$n` on
 * PostgreSQL, `?` on SQLite), collected in the order the SQL is written; values converted as the
 * entity's columns store them. Every report statement is built with one of these.
 */
export class SqlParameters<T extends ObjectLiteral = ObjectLiteral> {
  readonly values: unknown[] = [];
  constructor(private readonly statements: EntityStatements<T>) {}

  add(value: unknown): string {
    this.values.push(value);
    return this.statements.placeholder(this.values.length);
  }

  /** An instant compared with a timestamp column of the entity, in the form that column stores. */
  instant(value: Date, property: keyof T & string): string {
    const placeholder = this.add(this.statements.persisted(property, value));
    // Typed, so PostgreSQL can compare it wherever it stands (inside a CASE, too).
    return this.statements.postgres ? `${placeholder}::timestamptz` : placeholder;
  }

  /** A calendar day (`YYYY-MM-DD`, UTC) compared with a date column. */
  day(value: Date): string {
    const placeholder = this.add(value.toISOString().slice(0, 10));
    return this.statements.postgres ? `${placeholder}::date` : placeholder;
  }

  /** An IN list's items (`NULL` for none, which matches nothing). */
  list(values: readonly unknown[]): string {
    return values.length ? values.map((value) => this.add(value)).join(', ') : 'NULL';
  }
}

/**
 * A table under an alias in a hand-written statement, named as the entity metadata names it:
 * `attempt.from` is `"activation_attempt" a`, `attempt.column('occurredAt')` is `a."occurredAt"`.
 * A renamed table or column renames the statement with it, and a property the entity lacks fails
 * when the statement is built rather than answering a wrong figure.
 */
export class SqlTable<T extends ObjectLiteral> {
  readonly statements: EntityStatements<T>;

  constructor(
    dataSource: DataSource,
    entity: EntityTarget<T>,
    readonly alias: string,
  ) {
    this.statements = new EntityStatements(dataSource, entity);
  }

  /** `"table" alias`, for FROM and JOIN. */
  get from(): string {
    return `"${this.statements.table}" ${this.alias}`;
  }

  /**
   * `from`, read through the named index on SQLite (INDEXED BY: it plans without statistics and may
   * take an index whose reads grow with the history); PostgreSQL plans by its statistics.
   */
  through(index: string): string {
    return this.statements.postgres ? this.from : `${this.from} INDEXED BY "${index}"`;
  }

  /** The property's column, qualified by the alias. */
  column(property: keyof T & string): string {
    return `${this.alias}.${this.statements.column(property)}`;
  }
}

/** What a JSON document carries of a column's value as it stands in a row (see `carriedAsIs`). */
type JsonKind = 'text' | 'number' | 'boolean' | 'instant' | 'json';

/** Column types whose values travel in a JSON document as they stand, by kind. */
const JSON_KINDS: Record<string, JsonKind> = {
  varchar: 'text',
  'character varying': 'text',
  text: 'text',
  integer: 'number',
  int: 'number',
  boolean: 'boolean',
  timestamptz: 'instant',
  'timestamp with time zone': 'instant',
  'simple-json': 'json',
};

/** Whether a value of a row is of its column's kind (null and undefined are: both travel as NULL). */
function fitsJsonKind(kind: JsonKind, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  switch (kind) {
    case 'text':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'instant':
      return value instanceof Date;
    case 'json':
      return isPlainJson(value);
  }
}

/** An array or an object literal: what a `json` document holds as the text `JSON.stringify` writes for it. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
}
