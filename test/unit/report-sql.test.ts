import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { SqlTable } from '../../src/db/prepared';
import { ActivationAttempt } from '../../src/activations/activation-attempt.entity';
import { openTestDatabase, TestDatabase } from '../support/database';

const reportsFolder = path.resolve(__dirname, '../../src/reports');

/** The report modules' source, entity files aside (they are where the names are declared). */
function reportSources(): { file: string; text: string }[] {
  return readdirSync(reportsFolder)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.entity.ts'))
    .map((file) => ({ file, text: readFileSync(path.join(reportsFolder, file), 'utf8') }));
}

/**
 * Metadata of every entity, built as the server builds it for the suite's own database: column types
 * differ between SQLite and PostgreSQL, so metadata built for one does not validate on the other.
 */
async function entityMetadata() {
  return openTestDatabase({ migrate: false });
}

describe('report SQL takes its names from the entity metadata', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  beforeAll(async () => {
    database = await entityMetadata();
    dataSource = database.dataSource;
  });
  afterAll(() => database.close());

  it('no report module writes a table name or an alias-qualified column by hand', async () => {
    const tables = dataSource.entityMetadatas.map((metadata) => metadata.tableName);
    expect(tables).toContain('activation_attempt');
    const found: string[] = [];
    for (const { file, text } of reportSources()) {
      for (const match of text.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+"([a-z_]+)"/g))
        if (tables.includes(match[1])) found.push(`${file}: ${match[0]}`);
      // `a."occurredAt"`: a column written by hand under a statement's alias.
      for (const match of text.matchAll(/\b[a-z]{1,3}\."[A-Za-z]+"/g)) found.push(`${file}: ${match[0]}`);
    }
    expect(found).toEqual([]);
  });

  it('SqlTable names a table and its columns as the metadata does, and refuses a property the entity lacks', async () => {
    const attempt = new SqlTable(dataSource, ActivationAttempt, 'a');
    expect(attempt.from).toBe('"activation_attempt" a');
    expect(attempt.column('occurredAt')).toBe('a."occurredAt"');
    expect(() => attempt.column('occuredAt' as never)).toThrow(
      'activation_attempt has no column for property occuredAt',
    );
  });
});
