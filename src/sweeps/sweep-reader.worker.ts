/** A sweep's reader thread (see sweep-reader.ts): reads, judges and builds a SQLite sweep's next batch. */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { serveWorkerPool } from '../common/worker-threads';
import { entities } from '../db/entities';
import { SQLITE_READER_OPTIONS } from '../db/sqlite-reader';
import type { CompiledRules } from '../decisions/evaluator';
import { rulesFromPortable } from '../decisions/portable-rules';
import type { SweepReadRequest } from './sweep-reader';
import { SqliteReadBatch, readSqliteBatch } from './sweep.service';

const { file } = workerData as { file: string };

// The ORM on a read-only connection of its own: the same statements, hydration and value
// conversions as the service's thread, reading committed rows beside its writes (WAL).
const dataSource = new DataSource({
  type: 'better-sqlite3',
  database: file,
  ...SQLITE_READER_OPTIONS,
  entities,
  synchronize: false,
});
const ready = dataSource.initialize();

// The rules last sent: compiled here once per change of the service's rules, not per batch.
let rules: { generation: number; compiled: CompiledRules } | null = null;

serveWorkerPool<SweepReadRequest, SqliteReadBatch>(async (request) => {
  await ready;
  if (request.rules) rules = { generation: request.rulesGeneration, compiled: rulesFromPortable(request.rules) };
  if (!rules || rules.generation !== request.rulesGeneration)
    throw new Error(`the reader thread has not been sent rules ${request.rulesGeneration}`);
  return readSqliteBatch(
    dataSource,
    request.caller,
    request.sweepId,
    { ...request.scope, rules: rules.compiled },
    request.after,
    request.limit,
  );
});
