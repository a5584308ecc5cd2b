/**
 * Importing historic attempts through the bulk path (COPY on PostgreSQL, one prepared INSERT on
 * SQLite): a CSV export read back into another database gives the same attempts, and the rollups
 * and distinct-device tables equal what the raw attempts say; a file with a bad row writes nothing
 * (even after whole batches went in) and names every bad row by its line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivationAttempt } from '../src/activations/activation-attempt.entity';
import { importAttempts, ImportRejected } from '../src/activations/attempt-import';
import { attemptPartitions } from '../src/activations/attempt-partitions';
import { createApp } from '../src/app';
import { Device } from '../src/devices/device.entity';
import { Policy } from '../src/policies/policy.entity';
import { PolicyVersion } from '../src/policies/policy-version.entity';
import { Region } from '../src/regions/region.entity';
import { openTestDatabase, TestDatabase, usingPostgres } from './support/database';
import { expectedFrom, keptTables } from './support/device-days';
import { FIXED_UNTIL, seedDemo } from './support/fixtures';

const ADMIN_KEY = 'cgk_import-test-admin-key-0123456789abcdef';
let source: TestDatabase;
let target: TestDatabase;
let directory: string;
let exported: string;

beforeAll(async () => {
  [source, target] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  // The same seed makes the same devices; only the source gets attempts.
  await seedDemo(source.dataSource, 200, 2500, 'import');
  await seedDemo(target.dataSource, 200, 0, 'import');
  directory = mkdtempSync(join(tmpdir(), 'attempt-import-'));
  const app = await createApp(source.dataSource, { ...source.settings, adminKey: ADMIN_KEY });
  const server = app.httpServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const from = new Date(FIXED_UNTIL.getTime() - 365 * 86_400_000).toISOString();
    const response = await fetch(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/reports/activation-attempts.csv?from=${from}&to=${FIXED_UNTIL.toISOString()}`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    expect(response.status).toBe(200);
    exported = await response.text();
  } finally {
    await app.apollo.stop();
    server.close();
  }
});
afterAll(async () => {
  await source.close();
  await target.close();
  rmSync(directory, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

/** Attempts as the export shows them, by IMEI and policy key rather than ids (which differ between databases). */
async function comparable(database: TestDatabase) {
  const { dataSource } = database;
  const devices = new Map((await dataSource.getRepository(Device).find()).map((device) => [device.id, device.imei]));
  const regions = new Map((await dataSource.getRepository(Region).find()).map((region) => [region.id, region.code]));
  const policies = new Map((await dataSource.getRepository(Policy).find()).map((policy) => [policy.id, policy.key]));
  const versions = new Map(
    (await dataSource.getRepository(PolicyVersion).find()).map((version) => [
      version.id,
      `${policies.get(version.policyId)}@${version.number}`,
    ]),
  );
  const attempts = await dataSource.getRepository(ActivationAttempt).find();
  return attempts
    .map((attempt) => [
      attempt.occurredAt.toISOString(),
      devices.get(attempt.deviceId),
      attempt.resolvedRegionId === null ? null : regions.get(attempt.resolvedRegionId),
      attempt.regionSource,
      attempt.outcome,
      attempt.enforced,
      attempt.policyVersionId === null ? null : versions.get(attempt.policyVersionId),
      attempt.reasonCodes.join(' '),
    ])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function keptTablesMatch(database: TestDatabase) {
  const regions = new Map(
    (await database.dataSource.getRepository(Region).find()).map((region) => [region.id, region]),
  );
  const attempts = await database.dataSource.getRepository(ActivationAttempt).find();
  expect(await keptTables(database.dataSource)).toEqual(expectedFrom(attempts, regions));
}

const attemptCount = (database: TestDatabase) => database.dataSource.getRepository(ActivationAttempt).count();

describe('importing attempts', () => {
  it('refuses a file with bad rows, naming each by its line, and writes nothing — even after whole batches', async () => {
    const [header, ...lines] = exported.trimEnd().split('\r\n');
    expect(lines.length).toBeGreaterThan(2000); // more than one batch goes in before the bad rows
    const good = lines.slice(0, 2200);
    const columns = header.split(',');
    const withField = (line: string, column: string, value: string) => {
      const fields = line.split(',');
      fields[columns.indexOf(column)] = value;
      return fields.join(',');
    };
    const bad = [
      withField(good[0], 'imei', '490154203237518'),
      withField(good[0], 'outcome', 'MAYBE'),
      withField(good[0], 'occurredAt', 'yesterday'),
      withField(good[0], 'region', 'XX'),
      withField(good[0], 'enforced', 'yes'),
      withField(withField(good[0], 'policy', 'export-restricted-territories'), 'policyVersion', ''),
      withField(good[0], 'model', 'NO-SUCH-MODEL'),
      withField(good[0], 'imei', '12345'),
    ];
    const path = file('bad.csv', [header, ...good, ...bad, good[1]].join('\r\n'));
    const before = await keptTables(target.dataSource);
    const error = await importAttempts(target.dataSource, path, { format: 'csv' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImportRejected);
    const firstBad = good.length + 2; // the header is line 1
    expect((error as ImportRejected).badRows).toEqual([
      { line: firstBad, message: 'imei 490154203237518: no such device (register it first)' },
      { line: firstBad + 1, message: 'outcome "MAYBE" is not one of ALLOW, LOCK, REVIEW' },
      { line: firstBad + 2, message: 'occurredAt "yesterday" is not an ISO 8601 instant' },
      { line: firstBad + 3, message: 'region "XX" is not a known region code' },
      { line: firstBad + 4, message: 'enforced must be true or false; got "yes"' },
      { line: firstBad + 5, message: 'policy and policyVersion go together: give both or neither' },
      { line: firstBad + 6, message: expect.stringMatching(/^model "NO-SUCH-MODEL" is not the device's \(/) },
      { line: firstBad + 7, message: 'imei "12345" must be exactly 15 digits' },
    ]);
    expect((error as ImportRejected).message).toBe(`8 bad row(s) of ${good.length + 9}; nothing was imported`);
    expect(await attemptCount(target)).toBe(0);
    expect(await keptTables(target.dataSource)).toEqual(before);
  });

  it('refuses occurredAt outside the history (before ten years back, or in the future), naming the line, and writes nothing', async () => {
    const [header, ...lines] = exported.trimEnd().split('\r\n');
    const columns = header.split(',');
    const at = (line: string, occurredAt: string) => {
      const fields = line.split(',');
      fields[columns.indexOf('occurredAt')] = occurredAt;
      fields[columns.indexOf('receivedAt')] = occurredAt;
      return fields.join(',');
    };
    const importedAt = new Date('2026-11-30T12:00:00Z');
    const rows = [
      at(lines[0], '0001-01-01T00:00:00.000Z'),
      at(lines[1], '1970-01-01T00:00:00.000Z'),
      at(lines[2], '2016-10-31T23:59:59.999Z'), // one millisecond before the oldest month
      at(lines[3], '2016-11-01T00:00:00.000Z'), // the oldest month's first instant: kept
      at(lines[4], '2026-11-30T12:10:00.000Z'), // ten minutes ahead
      at(lines[5], '2026-11-30T12:04:00.000Z'), // within the clock skew: kept
    ];
    const error = await importAttempts(target.dataSource, file('horizon.csv', [header, ...rows].join('\r\n')), {
      format: 'csv',
      importedAt,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImportRejected);
    const past = 'lies before 2016-11-01T00:00:00.000Z: history reaches back 10 years';
    expect((error as ImportRejected).badRows).toEqual([
      { line: 2, message: `occurredAt 0001-01-01T00:00:00.000Z ${past}` },
      { line: 3, message: `occurredAt 1970-01-01T00:00:00.000Z ${past}` },
      { line: 4, message: `occurredAt 2016-10-31T23:59:59.999Z ${past}` },
      { line: 6, message: 'occurredAt 2026-11-30T12:10:00.000Z lies in the future' },
    ]);
    expect(await attemptCount(target)).toBe(0);
    if (usingPostgres) {
      // Nothing was written, not even a partition for the months the refused rows name.
      const partitions = (await attemptPartitions(target.dataSource)).map((partition) => partition.name);
      expect(partitions.filter((name) => name < 'activation_attempt_y2016m12')).toEqual([]);
    }
  });

  it('refuses a CSV without the export header or with a broken record', async () => {
    const noHeader = await importAttempts(target.dataSource, file('headless.csv', 'a,b\r\n1,2\r\n'), {
      format: 'csv',
    }).catch((caught: unknown) => caught);
    expect((noHeader as ImportRejected).badRows).toEqual([
      { line: 1, message: 'the header lacks occurredAt, imei, regionSource, outcome, enforced' },
    ]);
    const [header, first] = exported.split('\r\n');
    const broken = await importAttempts(
      target.dataSource,
      file('broken.csv', `${header}\r\n${first}\r\n"unclosed,1\r\n`),
      {
        format: 'csv',
      },
    ).catch((caught: unknown) => caught);
    expect((broken as ImportRejected).badRows).toEqual([
      { line: 3, message: expect.stringMatching(/^is not valid CSV: /) },
    ]);
    expect(await attemptCount(target)).toBe(0);
  });

  it('reads an export back: the same attempts, with the rollups and device counts the raw rows give', async () => {
    const report = await importAttempts(target.dataSource, file('export.csv', exported), { format: 'csv' });
    expect(report.imported).toBe(await attemptCount(source));
    expect(await comparable(target)).toEqual(await comparable(source));
    await keptTablesMatch(target);
    // The export has no raw signals: the imported attempts count as purged (what-if replays skip them).
    const unpurged = await target.dataSource
      .getRepository(ActivationAttempt)
      .createQueryBuilder('a')
      .where('a.signalsPurgedAt IS NULL')
      .getCount();
    expect(unpurged).toBe(0);
  });

  it('takes NDJSON with signals and idempotency keys, refusing keys already stored or repeated', async () => {
    const [device] = await target.dataSource.getRepository(Device).find({ take: 1, order: { id: 'ASC' } });
    const row = (key: string, at: string) =>
      JSON.stringify({
        occurredAt: at,
        imei: device.imei,
        region: 'CU',
        regionSource: 'IP',
        outcome: 'LOCK',
        enforced: true,
        policy: 'export-restricted-territories',
        policyVersion: 1,
        reasonCodes: ['REGION_RESTRICTED'],
        signals: { gps: null, sim: null, ipCountry: 'CU' },
        idempotencyKey: key,
      });
    const good = file(
      'good.ndjson',
      `${row('import-1', '2026-10-01T10:00:00Z')}\n\n${row('import-2', '2026-10-03T10:00:00Z')}\n`,
    );
    expect(await importAttempts(target.dataSource, good, { format: 'ndjson' })).toEqual({ imported: 2 });
    const stored = await target.dataSource
      .getRepository(ActivationAttempt)
      .findOneByOrFail({ idempotencyKey: 'import-2' });
    expect(stored.signals).toEqual({ gps: null, sim: null, ipCountry: 'CU' });
    expect(stored.signalsPurgedAt).toBeNull();
    expect(stored.reasonCodes).toEqual(['REGION_RESTRICTED']);
    await keptTablesMatch(target);

    const count = await attemptCount(target);
    const bad = file(
      'bad.ndjson',
      [
        row('import-3', '2026-10-04T10:00:00Z'),
        row('import-1', '2026-10-05T10:00:00Z'),
        '{"occurredAt":',
        row('import-3', '2026-10-06T10:00:00Z'),
      ].join('\n'),
    );
    const error = await importAttempts(target.dataSource, bad, { format: 'ndjson' }).catch((caught: unknown) => caught);
    expect((error as ImportRejected).badRows).toEqual([
      { line: 2, message: 'idempotencyKey "import-1" is already stored' },
      { line: 3, message: expect.stringMatching(/^is not JSON: /) },
      { line: 4, message: 'idempotencyKey "import-3" appears twice in the file' },
    ]);
    expect(await attemptCount(target)).toBe(count);
  });
});
