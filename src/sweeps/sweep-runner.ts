import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource, EntityManager } from 'typeorm';
import { Logger } from 'pino';
import { recordAuditEvent } from '../audit/audit.service';
import { UserErrorsAbort } from '../common/errors';
import { SweepSettings } from '../config';
import { RequestScope, internalScope } from '../common/request-scope';
import { Settings } from '../config';
import { inTransaction } from '../db/transactions';
import { BackgroundWorker } from '../ops/background-worker';
import { sweepDevices } from '../ops/metrics';
import type { Evaluator } from '../decisions/evaluator';
import { Sweep, SweepStatus } from './sweep.entity';
import type { CompiledRules } from '../decisions/evaluator';
import {
  SweepCandidates,
  SweepChange,
  SweepPolicyRows,
  SweepScope,
  PreparedChanges,
  applyChanges,
  candidateIds,
  countChange,
  nextCandidates,
  plannedChanges,
  prepareChanges,
  scopeOf,
  sweepPolicyRows,
} from './sweep.service';
import { announceLive } from '../db/live-events';
import { sqliteDatabaseOf } from '../db/pool';
import { SqliteSweepReader } from './sweep-reader';

type BatchOutcome = 'continue' | 'done' | 'lost';

/** A batch read and judged, not yet written. */
interface JudgedBatch {
  /** The cursor it was read after, and how many it asked for: it is written only from that cursor. */
  after: number;
  limit: number;
  /** The rules it was judged by: it is written only while they are the rules in force. */
  rules: CompiledRules;
  candidates: SweepCandidates;
  changes: SweepChange[];
  /** Read ahead: the changes' rows, built before the batch's transaction. */
  prepared?: PreparedChanges;
}

/** The candidates after `after` and what the sweep does to each, judged against the rules as of now. */
async function judgeBatch(
  manager: EntityManager,
  scope: SweepScope,
  after: number,
  limit: number,
): Promise<JudgedBatch> {
  const candidates = await nextCandidates(manager, scope, after, limit);
  return { after, limit, rules: scope.rules, candidates, changes: plannedChanges(scope, candidates, new Date()) };
}

/** Reads a sweep for a change, locking its row on PostgreSQL (SQLite serialises writers anyway). */
export async function lockSweep(manager: EntityManager, id: number): Promise<Sweep | null> {
  const query = manager.createQueryBuilder(Sweep, 'sweep').where('sweep.id = :id', { id });
  if (manager.connection.driver.options.type === 'postgres') query.setLock('pessimistic_write');
  return query.getOne();
}

/**
 * Works through RUNNING sweeps, one batch per transaction. An instance claims a sweep with a lease
 * that each batch renews; a sweep whose instance died (or was restarted) is claimed again once the
 * lease lapses, and carries on after its last committed batch.
 */
export class SweepRunner extends BackgroundWorker {
  /** This instance, as it signs its leases. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: Settings,
    private readonly evaluator: Evaluator,
    logger?: Logger,
  ) {
    super(logger, 'sweep runner');
  }

  /**
   * The swept policy's rows as read under the rules built last: read again when the rules change
   * (a policy retired, a version activated), not in every batch. Each batch still judges, against
   * those rules and its own clock, whether the policy may sweep.
   */
  private policyRows?: { sweepId: number; rules: CompiledRules; rows: SweepPolicyRows };

  private get sweeps(): SweepSettings {
    return this.settings.sweeps;
  }

  /**
   * Whether the next batch is read while one is written: on PostgreSQL on a pooled connection, on a
   * SQLite file by a reader thread (`SqliteSweepReader`). An in-memory SQLite database has no
   * connection but the service's: read ahead there on this thread it only cost processor time.
   */
  private get readsAhead(): boolean {
    return this.sweeps.readAhead ?? (this.dataSource.options.type === 'postgres' || this.sqliteFile() !== null);
  }

  /** The SQLite file a reader thread can open beside the service's connection; null on PostgreSQL or in memory. */
  private sqliteFile(): string | null {
    const sqlite = sqliteDatabaseOf(this.dataSource);
    return sqlite && !sqlite.memory ? sqlite.name : null;
  }

  /** Polls at half the lease: a sweep left by a dead instance is taken over soon after its lease lapses. */
  override startPolling(): void {
    super.startPolling(Math.max(1_000, Math.floor(this.sweeps.leaseMs / 2)));
  }

  /** Stops after the batch in flight and gives up the lease, so another instance may carry on at once. */
  override async stop(): Promise<void> {
    await super.stop();
    // A database closed already (an outage, a test that closed it) holds no lease this instance could give up.
    if (!this.dataSource.isInitialized) return;
    await inTransaction(this.dataSource, (manager) =>
      manager
        .createQueryBuilder()
        .update(Sweep)
        .set({ leaseOwner: null, leaseUntil: null })
        .where('leaseOwner = :owner', { owner: this.owner })
        .execute(),
    );
  }

  protected async work(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const sweep = await this.claim();
      if (!sweep) return;
      await this.run(sweep);
    }
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.sweeps.leaseMs);
  }

  /** Claims the oldest RUNNING sweep nobody holds (or whose holder's lease has lapsed). */
  private async claim(): Promise<Sweep | null> {
    const running = await this.dataSource.getRepository(Sweep).find({
      select: { id: true },
      where: { status: SweepStatus.RUNNING },
      order: { id: 'ASC' },
    });
    for (const { id } of running) {
      const claimed = await inTransaction(this.dataSource, async (manager) => {
        const sweep = await lockSweep(manager, id);
        const now = new Date();
        const heldByOther =
          sweep?.leaseOwner && sweep.leaseOwner !== this.owner && sweep.leaseUntil && sweep.leaseUntil > now;
        if (!sweep || sweep.status !== SweepStatus.RUNNING || heldByOther) return null;
        await manager.update(Sweep, { id }, { leaseOwner: this.owner, leaseUntil: this.leaseFrom(now) });
        return sweep;
      });
      if (claimed) return claimed;
    }
    return null;
  }

  private scopeOf(sweep: Sweep): RequestScope {
    return internalScope(
      this.dataSource,
      this.settings,
      `sweep ${sweep.globalId} started by ${sweep.startedBy}`,
      `sweep-${sweep.id}`,
    );
  }

  private async run(sweep: Sweep): Promise<void> {
    const context = this.scopeOf(sweep);
    // The next batch, read and judged while this one is written (at most one ahead).
    let ahead: Promise<JudgedBatch | null> | null = null;
    try {
      for (;;) {
        if (this.stopped) return;
        let outcome: BatchOutcome;
        try {
          const done = await this.batch(sweep.id, context, this.sweeps.batchSize, ahead);
          outcome = done.outcome;
          ahead = done.next;
        } catch (error) {
          ahead = null;
          if (error instanceof UserErrorsAbort) {
            // The policy no longer allows the sweep (retired or changed mid-way): it stops.
            await this.finish(sweep.id, context, SweepStatus.CANCELLED, error.userErrors[0].message);
            return;
          }
          this.logger?.warn({ err: error, sweepId: sweep.globalId }, 'sweep batch failed; retrying device by device');
          outcome = await this.deviceByDevice(sweep.id, context);
        }
        if (outcome !== 'continue') return;
        if (this.sweeps.batchPauseMs) await new Promise((resolve) => setTimeout(resolve, this.sweeps.batchPauseMs));
      }
    } finally {
      // A read still in flight is left to finish (its result unused), so that nothing of this run outlives it.
      await ahead;
      await this.reader?.close();
      this.reader = null;
    }
  }

  /** This run's SQLite reader thread, started at its first read ahead (a sweep of one batch starts none). */
  private reader: SqliteSweepReader | null = null;

  /**
   * Reads and judges the batch after `after` on a connection of the pool (not the writing
   * transaction's), and builds the rows its changes write, so that the service does its share of
   * the next batch while the server writes this one (and the rest between batches, when it is no
   * longer). It writes nothing; a failed read answers null and the batch is read again in its own
   * transaction.
   */
  private readAhead(
    sweepId: number,
    context: RequestScope,
    scope: SweepScope,
    after: number,
    limit: number,
  ): Promise<JudgedBatch | null> {
    const file = this.sqliteFile();
    if (file) this.reader ??= new SqliteSweepReader(file);
    const judged: Promise<JudgedBatch> = this.reader
      ? this.reader
          .read(context, sweepId, scope, after, limit)
          .then((read) => ({ after, limit, rules: scope.rules, ...read }))
      : judgeBatch(this.dataSource.manager, scope, after, limit).then(async (judged) => ({
          ...judged,
          prepared: await prepareChanges(this.dataSource, context, sweepId, judged.changes),
        }));
    return judged.catch((error: unknown) => {
      this.logger?.warn({ err: error }, 'sweep read-ahead failed; the batch is read again when written');
      return null;
    });
  }

  /**
   * One batch in one transaction: the next devices after the cursor, judged and changed, and the
   * sweep's progress with them — so a crash loses the batch whole or keeps it whole. The batch is
   * the one read ahead (`ahead`) when it was read from the cursor the sweep still has, under the
   * rules in force now; otherwise it is read here. Judged ahead or here, each device is written
   * only if it is still in the status it was read in (the lifecycle's guarded UPDATE). While it
   * is written, the next batch is read ahead (`next`).
   */
  private async batch(
    sweepId: number,
    context: RequestScope,
    limit: number,
    ahead: Promise<JudgedBatch | null> | null = null,
  ): Promise<{ outcome: BatchOutcome; next: Promise<JudgedBatch | null> | null }> {
    // Counted once the batch has committed.
    const counts = { action: '', examined: 0, changed: 0 };
    let next: Promise<JudgedBatch | null> | null = null;
    let outcome: BatchOutcome;
    // Awaited before the transaction opens: it holds the sweep's row only once the batch's rows are built.
    const readAhead = await ahead;
    try {
      outcome = await inTransaction(this.dataSource, async (manager): Promise<BatchOutcome> => {
        const sweep = await lockSweep(manager, sweepId);
        if (!sweep || sweep.status !== SweepStatus.RUNNING || sweep.leaseOwner !== this.owner) return 'lost';
        const scope = await this.sweepScopeOf(manager, sweep);
        const judged =
          readAhead && readAhead.after === sweep.cursor && readAhead.limit === limit && readAhead.rules === scope.rules
            ? readAhead
            : await judgeBatch(manager, scope, sweep.cursor, limit);
        const ids = judged.candidates.devices.map((device) => device.id);
        const now = new Date();
        if (ids.length === 0) {
          await this.close(manager, context, sweep, SweepStatus.COMPLETED, null, now);
          return 'done';
        }
        // A full batch may have more after it: read it while this one is written.
        if (this.readsAhead && ids.length === limit)
          next = this.readAhead(sweep.id, context, scope, ids[ids.length - 1], limit);
        const applied = await applyChanges(manager, context, sweep, judged.changes, judged.prepared);
        Object.assign(counts, { action: sweep.action, examined: ids.length, changed: applied.length });
        const breakdown = sweep.breakdown;
        applied.forEach((change) => countChange(breakdown, change));
        const processed = sweep.processed + ids.length;
        await manager.update(
          Sweep,
          { id: sweep.id },
          {
            cursor: ids[ids.length - 1],
            processed,
            // An estimated total is never left below the devices examined.
            total: Math.max(sweep.total, processed),
            changed: sweep.changed + applied.length,
            breakdown,
            updatedAt: now,
            leaseUntil: this.leaseFrom(now),
          },
        );
        await announceLive(manager, { kind: 'sweep', sweepId: sweep.id });
        return 'continue';
      });
    } catch (error) {
      // The batch rolled back: what was read after it is not used (the next try reads from the cursor).
      await next;
      throw error;
    }
    if (counts.examined) {
      sweepDevices.inc({ action: counts.action, changed: 'true' }, counts.changed);
      sweepDevices.inc({ action: counts.action, changed: 'false' }, counts.examined - counts.changed);
    }
    if (outcome === 'continue') return { outcome, next };
    await next;
    return { outcome, next: null };
  }

  /** The sweep's scope under the rules in force, its policy's rows read again only when they change. */
  private async sweepScopeOf(manager: EntityManager, sweep: Sweep): Promise<SweepScope> {
    const rules = await this.evaluator.current();
    let cached = this.policyRows;
    if (!cached || cached.sweepId !== sweep.id || cached.rules !== rules) {
      cached = { sweepId: sweep.id, rules, rows: await sweepPolicyRows(manager, { id: sweep.policyId }) };
      this.policyRows = cached;
    }
    return scopeOf(rules, cached.rows, sweep.action);
  }

  /** After a failed batch: each device alone, and one that still fails is counted and skipped. */
  private async deviceByDevice(sweepId: number, context: RequestScope): Promise<BatchOutcome> {
    for (let index = 0; index < this.sweeps.batchSize; index += 1) {
      try {
        const { outcome } = await this.batch(sweepId, context, 1);
        if (outcome !== 'continue') return outcome;
      } catch (error) {
        this.logger?.error({ err: error, sweepId }, 'a device failed in a sweep; it is skipped and counted');
        const skipped = await inTransaction(this.dataSource, async (manager) => {
          const sweep = await lockSweep(manager, sweepId);
          if (!sweep || sweep.status !== SweepStatus.RUNNING || sweep.leaseOwner !== this.owner) return false;
          const [failing] = await candidateIds(manager, await this.sweepScopeOf(manager, sweep), sweep.cursor, 1);
          if (failing === undefined) return false;
          await manager.update(
            Sweep,
            { id: sweep.id },
            {
              cursor: failing,
              processed: sweep.processed + 1,
              total: Math.max(sweep.total, sweep.processed + 1),
              failed: sweep.failed + 1,
              updatedAt: new Date(),
            },
          );
          await announceLive(manager, { kind: 'sweep', sweepId: sweep.id });
          return true;
        });
        if (!skipped) return 'lost';
      }
    }
    return 'continue';
  }

  private async finish(sweepId: number, context: RequestScope, status: SweepStatus, why: string): Promise<void> {
    await inTransaction(this.dataSource, async (manager) => {
      const sweep = await lockSweep(manager, sweepId);
      if (sweep && sweep.status === SweepStatus.RUNNING)
        await this.close(manager, context, sweep, status, why, new Date());
    });
  }

  private async close(
    manager: EntityManager,
    context: RequestScope,
    sweep: Sweep,
    status: SweepStatus,
    why: string | null,
    now: Date,
  ): Promise<void> {
    await manager.update(
      Sweep,
      { id: sweep.id },
      {
        status,
        finishedAt: now,
        updatedAt: now,
        leaseOwner: null,
        leaseUntil: null,
        // Every device examined: the total, estimated at the start, is now exact.
        ...(status === SweepStatus.COMPLETED ? { total: sweep.processed } : {}),
      },
    );
    await announceLive(manager, { kind: 'sweep', sweepId: sweep.id });
    await recordAuditEvent(manager, context, {
      action: status === SweepStatus.COMPLETED ? 'sweep.complete' : 'sweep.cancel',
      targetType: 'Sweep',
      targetRowId: sweep.id,
      before: { status: sweep.status },
      after: { status, processed: sweep.processed, changed: sweep.changed, failed: sweep.failed, why },
    });
  }
}
