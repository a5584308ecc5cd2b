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

  /**
   * INSERTs of many rows of these properties, as few statements as the database allows: on
   * PostgreSQL one `INSERT … SELECT … FROM json_populate_recordset(…)` of the rows as one JSON
   * document, whatever their number (a VALUES list of 5,000 parameters took longer to send, parse
   * and plan than to run; typed arrays per column cost the client as much again, escaping each
   * JSON value into an array literal); on SQLite multi-row VALUES lists within its 32,766 parameters.
   */
  insertMany(properties: readonly (keyof T & string)[]): (rows: readonly Partial<T>[]) => Statement[] {
    const columns = properties.map((property) => this.column(property)).join(', ');
    if (this.postgres) {
      const names = properties.map((property) => this.columnOf(property).databaseName);
      const sql =
        `INSERT INTO "${this.table}" (${columns}) ` +
        `SELECT ${columns} FROM json_populate_recordset(NULL::"${this.table}", $1::json)`;
      return (rows) => {
        if (rows.length === 0) return [];
        const document = rows.map((row) => {
          const record: Record<string, unknown> = {};
          properties.forEach((property, index) => (record[names[index]] = this.jsonValue(property, row[property])));
          return record;
        });
        return [{ sql, parameters: [JSON.stringify(document)] }];
      };
    }
    const perStatement = Math.floor(SQLITE_MAX_PARAMETERS / properties.length);
    const row = `(${properties.map(() => '?').join(', ')})`;
    return (rows) => {
      const statements: Statement[] = [];
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        statements.push({
          sql: `INSERT INTO "${this.table}" (${columns}) VALUES ${chunk.map(() => row).join(', ')}`,
          parameters: chunk.flatMap((values) =>
            properties.map((property) => this.persisted(property, values[property])),
          ),
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
   * One `UPDATE … FROM (rows)` for many rows writing the same properties, each row only while its
   * `guard` property still has the value given (`WHERE id = ? AND guard = ?` row by row):
   * `RETURNING "id"` names the rows it changed. Row ids must differ (an id twice would be updated
   * once, by either). The rows are one JSON document on PostgreSQL (`json_to_recordset`; a VALUES
   * list of thousands of cast parameters took longer to parse and plan than to run, and typed
   * arrays per column longer to build on the client) and a VALUES list on SQLite.
   */
  updateMany(
    guard: keyof T & string,
    properties: readonly (keyof T & string)[],
    rows: readonly { id: number; guard: unknown; changes: Partial<T> }[],
  ): { sql: string; parameters: unknown[] } {
    const columns: [keyof T & string, (row: (typeof rows)[number]) => unknown][] = [
      ['id' as keyof T & string, (row) => row.id],
      [guard, (row) => row.guard],
      ...properties.map((property): [keyof T & string, (row: (typeof rows)[number]) => unknown] => [
        property,
        (row) => row.changes[property],
      ]),
    ];
    const table = `"${this.table}"`;
    // The rows' columns are column1, column2, … (VALUES names them so on SQLite; unnest is aliased alike).
    const assignments = properties.map((property, index) => `${this.column(property)} = v.column${index + 3}`);
    const where = `WHERE ${table}."id" = v.column1 AND ${table}.${this.column(guard)} = v.column2 RETURNING ${table}."id"`;
    if (this.postgres) {
      const types = columns.map(
        ([property], index) => `column${index + 1} ${this.dataSource.driver.normalizeType(this.columnOf(property))}`,
      );
      const document = rows.map((row) => {
        const record: Record<string, unknown> = {};
        columns.forEach(
          ([property, valueOf], index) => (record[`column${index + 1}`] = this.jsonValue(property, valueOf(row))),
        );
        return record;
      });
      return {
        sql:
          `UPDATE ${table} SET ${assignments.join(', ')} FROM json_to_recordset($1::json) ` +
          `AS v(${types.join(', ')}) ${where}`,
        parameters: [JSON.stringify(document)],
      };
    }
    const parameters = rows.flatMap((row) =>
      columns.map(([property, valueOf]) => this.persisted(property, valueOf(row))),
    );
    const values = rows.map(() => `(${columns.map(() => '?').join(', ')})`);
    return {
      sql: `UPDATE ${table} SET ${assignments.join(', ')} FROM (VALUES ${values.join(', ')}) AS v ${where}`,
      parameters,
    };
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

  /** The property's column, qualified by the alias. */
  column(property: keyof T & string): string {
    return `${this.alias}.${this.statements.column(property)}`;
  }
}

/** An array or an object literal: what a `json` document holds as the text `JSON.stringify` writes for it. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
}
