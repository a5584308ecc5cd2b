/** A worker thread replaying attempts for a what-if (see simulation-replay.ts). */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { serveWorkerPool } from '../common/worker-threads';
import { CompiledPolicy } from '../decisions/engine/types';
import { PortableRules, rulesFromPortable } from '../decisions/portable-rules';
import { replayBatch, ReplayBatch, replayEngines, ReplayOutcome } from './simulation-replay';

const { rules, simulated } = workerData as { rules: PortableRules; simulated: CompiledPolicy };
const current = rulesFromPortable(rules);
const engines = replayEngines(current.engine, current.engineData, simulated);
serveWorkerPool<ReplayBatch, ReplayOutcome>((batch) => replayBatch(batch, engines, current.modelCodeById));
