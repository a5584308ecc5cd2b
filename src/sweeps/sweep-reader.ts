import { extname, join } from 'node:path';
import { AuditCaller } from '../audit/audit.service';
import { RequestScope } from '../common/request-scope';
import { WorkerPool } from '../common/worker-threads';
import type { CompiledRules } from '../decisions/evaluator';
import { PortableRules, portableRules } from '../decisions/portable-rules';
import { PreparedChanges, SqliteReadBatch, SweepScope, preparedSqliteChanges } from './sweep.service';

/** A batch asked of the reader thread. */
export interface SweepReadRequest {
  sweepId: number;
  caller: AuditCaller;
  scope: Omit<SweepScope, 'rules'>;
  /** Which rules judge it; `rules` is sent only when they changed since the last request. */
  rulesGeneration: number;
  rules?: PortableRules;
  after: number;
  limit: number;
}

/**
 * SQLite: a sweep's next batch read, judged and built on a thread of its own, with a read-only
 * connection to the file, while the service's thread writes the batch before. SQLite has one
 * connection that writes, and a batch's own work besides the write — reading the candidates with
 * their evidence, judging them, building and converting four rows per device — was more than half
 * of the service's processor time in a sweep (2,000,000 devices did not fit 5 minutes on one
 * thread). The batch it hands over is written as one read ahead on PostgreSQL is: only from the
 * cursor it was read after, under the rules it was judged by, each device only if it is still in
 * the status it was read in. Its instants (lockedAt, the history's and audit's) are the thread's,
 * earlier than the commit by about a batch's time. One per sweep run; `close` ends the thread.
 */
export class SqliteSweepReader {
  private readonly thread: WorkerPool<SweepReadRequest, SqliteReadBatch>;
  /** The rules the thread holds, as this thread's object, and their number. */
  private sent: { rules: CompiledRules; generation: number } | null = null;
  private generations = 0;

  constructor(file: string) {
    this.thread = new WorkerPool(join(__dirname, 'sweep-reader.worker'), extname(__filename), { file }, 1);
  }

  async read(
    context: RequestScope,
    sweepId: number,
    scope: SweepScope,
    after: number,
    limit: number,
  ): Promise<Pick<SqliteReadBatch, 'candidates' | 'changes'> & { prepared: PreparedChanges }> {
    const fresh = this.sent?.rules !== scope.rules;
    if (fresh) this.sent = { rules: scope.rules, generation: (this.generations += 1) };
    const { rules: _rules, ...plainScope } = scope;
    try {
      const batch = await this.thread.run({
        sweepId,
        caller: { actor: context.actor, viewer: context.viewer, requestId: context.requestId },
        scope: plainScope,
        rulesGeneration: this.sent!.generation,
        rules: fresh ? portableRules(scope.rules) : undefined,
        after,
        limit,
      });
      return { ...batch, prepared: preparedSqliteChanges(context, sweepId, batch) };
    } catch (error) {
      // The thread may not hold the rules sent with a request that failed: sent again with the next.
      if (fresh) this.sent = null;
      throw error;
    }
  }

  /** Whether the thread has stopped (it crashed, or was closed): every read is refused from then on. */
  get stopped(): boolean {
    return this.thread.failed;
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
