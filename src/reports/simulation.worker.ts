/** A worker thread replaying attempts for a what-if (see simulation-replay.ts). */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { serveWorkerPool } from '../common/worker-threads';
import { CompiledPolicy } from '../decisions/engine/types';
import { PortableRules, rulesFromPortable } from '../decisions/portable-rules';
import type { Database, Statement } from 'better-sqlite3';
import { openSqliteReader } from '../db/sqlite-reader';
import { replayBatch, ReplayBatch, replayEngines, ReplayOutcome, SqliteSlice } from './simulation-replay';

const { rules, simulated } = workerData as { rules: PortableRules; simulated: CompiledPolicy };
const current = rulesFromPortable(rules);
const engines = replayEngines(current.engine, current.engineData, simulated);

// One read-only connection per thread, opened at its first slice; every slice of a window is the same statement.
let reader: { file: string; database: Database; statements: Map<string, Statement> } | null = null;
function read(slice: SqliteSlice): ReplayBatch {
  if (reader?.file !== slice.file) {
    reader?.database.close();
    // Forgotten before the next opens: if that fails, no closed connection is left to be used.
    reader = null;
    reader = { file: slice.file, database: openSqliteReader(slice.file), statements: new Map() };
  }
  let statement = reader.statements.get(slice.sql);
  if (!statement) reader.statements.set(slice.sql, (statement = reader.database.prepare(slice.sql).raw()));
  return { kind: 'rows', rows: statement.all(...slice.parameters) as unknown[][] };
}

serveWorkerPool<ReplayBatch | SqliteSlice, ReplayOutcome>((batch) =>
  replayBatch(batch.kind === 'sqlite' ? read(batch) : batch, engines, current.modelCodeById),
);
