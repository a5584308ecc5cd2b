/** A worker thread making chunks of generated attempts (see attempt-generator.ts). */
import 'reflect-metadata';
import { workerData } from 'node:worker_threads';
import { serveWorkerPool } from '../common/worker-threads';
import { PortableRules, rulesFromPortable } from '../decisions/portable-rules';
import { AttemptPlan, encodedChunk, EncodedChunk, worldOf } from './attempt-generator';

const { plan, rules, marketCodes } = workerData as { plan: AttemptPlan; rules: PortableRules; marketCodes: string[] };
const world = worldOf(plan.regions, rulesFromPortable(rules), marketCodes);
serveWorkerPool<number, EncodedChunk>((index) => encodedChunk(plan, world, index));
