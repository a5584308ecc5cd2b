import { parentPort, Transferable, Worker } from 'node:worker_threads';

/*
 * Work spread over worker threads (the generator's attempts, a what-if replay's decisions): a pool
 * that hands each input to the thread with the fewest inputs waiting (round robin among equals)
 * and answers each with a promise, so the caller takes results in the order it asked for them
 * whatever order the threads finish in. On a shared machine one thread often gets less of the
 * cores than the other for a while: it then gets fewer inputs rather than holding the others up.
 */

type Reply<Output> = { index: number; output: Output } | { index: number; error: string };

/**
 * A worker thread running the module `fileWithoutExtension` + `extension` (the caller passes
 * `extname(__filename)`). Compiled code runs the `.js` file; under ts-node or ts-jest (tests,
 * `npm run dev`) the thread registers ts-node first and loads the `.ts` file.
 */
function startWorker(fileWithoutExtension: string, extension: string, workerData: unknown): Worker {
  const file = `${fileWithoutExtension}${extension}`;
  if (extension !== '.ts') return new Worker(file, { workerData });
  const tsNode = require.resolve('ts-node');
  return new Worker(
    `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true }); require(${JSON.stringify(file)});`,
    { eval: true, workerData },
  );
}

export class WorkerPool<Input, Output> {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve(output: Output): void; reject(error: Error): void }>();
  /** Inputs handed to each thread and not yet answered. */
  private readonly queued: number[];
  private submitted = 0;
  private failure: Error | null = null;

  constructor(fileWithoutExtension: string, extension: string, workerData: unknown, threads: number) {
    this.queued = Array.from({ length: Math.max(1, threads) }, () => 0);
    this.workers = Array.from({ length: Math.max(1, threads) }, (_, number) => {
      const worker = startWorker(fileWithoutExtension, extension, workerData);
      worker.on('message', (reply: Reply<Output>) => {
        this.queued[number] -= 1;
        const pending = this.waiting.get(reply.index);
        this.waiting.delete(reply.index);
        if ('error' in reply) pending?.reject(new Error(reply.error));
        else pending?.resolve(reply.output);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a worker thread stopped (exit ${code})`));
      });
      return worker;
    });
  }

  /** `transfer`: buffers of the input handed over to the thread rather than copied (unusable here after). */
  run(input: Input, transfer: Transferable[] = []): Promise<Output> {
    if (this.failure) return Promise.reject(this.failure);
    const index = this.submitted;
    this.submitted += 1;
    const output = new Promise<Output>((resolve, reject) => this.waiting.set(index, { resolve, reject }));
    // Awaited in its turn; marked handled now so that a failure while earlier results are awaited is not unhandled.
    output.catch(() => undefined);
    let chosen = index % this.workers.length;
    for (let offset = 1; offset < this.workers.length; offset += 1) {
      const other = (index + offset) % this.workers.length;
      if (this.queued[other] < this.queued[chosen]) chosen = other;
    }
    this.queued[chosen] += 1;
    this.workers[chosen].postMessage({ index, input }, transfer);
    return output;
  }

  /** Whether a thread stopped or the pool was closed: every input is refused from then on. */
  get failed(): boolean {
    return this.failure !== null;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the worker pool is closed');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }
}

/**
 * In a worker thread of a pool: answers each input with `handle`'s output. A handler that answers
 * a promise (one reading through the ORM) is answered when it settles; inputs are then handled
 * concurrently, as they arrive.
 */
export function serveWorkerPool<Input, Output>(handle: (input: Input) => Output | Promise<Output>): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerPool runs in a worker thread');
  const fail = (index: number, error: unknown) =>
    port.postMessage({ index, error: error instanceof Error ? error.message : String(error) } satisfies Reply<Output>);
  port.on('message', ({ index, input }: { index: number; input: Input }) => {
    try {
      const output = handle(input);
      if (output instanceof Promise)
        output
          .then((settled) => port.postMessage({ index, output: settled } satisfies Reply<Output>))
          .catch((error) => fail(index, error));
      else port.postMessage({ index, output } satisfies Reply<Output>);
    } catch (error) {
      fail(index, error);
    }
  });
}
