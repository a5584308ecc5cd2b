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

/** A committed batch's devices, for the metrics. */
interface BatchCounts {
  action: string;
  examined: number;
  changed: number;
}

/** Counts a committed batch's devices in the metrics (nothing for a batch that examined none). */
function countDevices({ action, examined, changed }: BatchCounts): void {
  if (!examined) return;
  sweepDevices.inc({ action, changed: 'true' }, changed);
  sweepDevices.inc({ action, changed: 'false' }, examined - changed);
}

/**
 * How a batch written beside the one before it ended: committed, or rolled back because the sweep
 * is no longer this instance's to run (paused, cancelled, taken over) or because what it was read
 * from no longer holds (the batch before it did not commit, the cursor or the rules moved on).
 */
type OverlappedOutcome = 'continue' | 'lost' | 'stale';

/** Thrown inside a batch's transaction to roll it back with this outcome. */
class RolledBack extends Error {
  constructor(readonly outcome: Exclude<OverlappedOutcome, 'continue'>) {
    super(`sweep batch rolled back: ${outcome}`);
  }
}

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

  /**
   * Two batches written at once, each on its own connection (PostgreSQL, reading ahead): the
   * server's write of a batch (≈ 200 ms of a backend for 1,000 devices) is most of a sweep's time,
   * and one backend at a time left the second core idle for it.
   */
  private get overlapsWrites(): boolean {
    return this.dataSource.options.type === 'postgres' && this.readsAhead && (this.sweeps.overlapWrites ?? true);
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
    if (this.overlapsWrites) return this.runOverlapped(sweep, context);
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
          outcome = await this.afterFailedBatch(sweep, context, error);
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
   * `run` with two batches written at once (`overlapsWrites`). The service reads, judges and
   * builds batch N+2 while the server writes N and N+1 on two connections; N+1's write begins
   * once it is built, whether N has committed or not, and N+2's once N has. Each batch still
   * commits whole with its cursor and progress, and in cursor order: it takes the sweep's row
   * (FOR UPDATE) only after its devices are written and the batch before it has committed, and
   * commits only if that left the cursor where it was read from, the sweep RUNNING under this
   * instance's lease and the rules as they were judged by (`writeOverlapped`). Otherwise it rolls
   * back, its writes undone, and so does every batch after it: the sweep reads on from the cursor
   * committed last, exactly as after a crash. So resuming is unchanged, and a pause or cancel is
   * seen at the latest by the next batch to commit.
   *
   * Why the two transactions cannot deadlock with each other or with decisions: their device sets
   * are disjoint (ids after different cursors); the rows they insert (history, partner events,
   * audit) reference only their own devices (the foreign keys' KEY SHARE locks fall on rows the
   * batch has locked itself) and the sweep's row not at all; the only row both lock is the
   * sweep's, each at its very end and in order. A decision locks one device: it waits for the
   * batch holding that device (now up to two batches' time), and that batch waits only for the
   * batch before it, which never waits for a device of a later one.
   */
  private async runOverlapped(claimed: Sweep, context: RequestScope): Promise<void> {
    const limit = this.sweeps.batchSize;
    for (;;) {
      // From the cursor committed last: at the start, or after batches rolled back.
      const sweep = await this.dataSource.manager.findOneBy(Sweep, { id: claimed.id });
      if (!sweep || sweep.status !== SweepStatus.RUNNING || sweep.leaseOwner !== this.owner) return;
      // Batches written and not yet known committed, in cursor order (at most two).
      const inFlight: Promise<OverlappedOutcome>[] = [];
      let after = sweep.cursor;
      let ended: OverlappedOutcome | 'stopped' | 'read again';
      let failure: unknown = null;
      try {
        for (;;) {
          if (this.stopped) {
            ended = 'stopped';
            break;
          }
          const scope = await this.sweepScopeOf(this.dataSource.manager, sweep);
          const judged = await this.readAhead(sweep.id, context, scope, after, limit);
          // Nothing more after the cursor, or a failed read: the one-batch path reads it again in its transaction.
          if (!judged || judged.candidates.devices.length === 0) {
            ended = 'read again';
            break;
          }
          if (inFlight.length === 2) {
            const outcome = await inFlight.shift()!;
            if (outcome !== 'continue') {
              ended = outcome;
              break;
            }
          }
          if (this.sweeps.batchPauseMs) await new Promise((resolve) => setTimeout(resolve, this.sweeps.batchPauseMs));
          const writing = this.writeOverlapped(sweep, context, judged, inFlight[inFlight.length - 1] ?? null);
          // Its failure is seen where it is awaited (below, or by the batch after it).
          writing.catch(() => undefined);
          inFlight.push(writing);
          const ids = judged.candidates.devices;
          after = ids[ids.length - 1].id;
        }
      } catch (error) {
        ended = 'stale';
        failure = error;
      }
      // The batches in flight settle in order; the first that did not commit decides what follows.
      for (const writing of inFlight) {
        try {
          const outcome = await writing;
          if (outcome !== 'continue' && failure === null && ended !== 'lost' && ended !== 'stale') ended = outcome;
        } catch (error) {
          if (failure === null) failure = error;
          ended = 'stale';
        }
      }
      if (failure !== null) {
        if ((await this.afterFailedBatch(claimed, context, failure)) !== 'continue') return;
        continue;
      }
      if (ended === 'stopped' || ended === 'lost') return;
      if (ended === 'read again') {
        // The last batch (it completes the sweep when nothing is left), or one whose read failed.
        let outcome: BatchOutcome;
        try {
          outcome = (await this.batch(claimed.id, context, limit, null, false)).outcome;
        } catch (error) {
          outcome = await this.afterFailedBatch(claimed, context, error);
        }
        if (outcome !== 'continue') return;
      }
      // 'stale' or a batch more: read on from the cursor committed last.
    }
  }

  /**
   * One batch of `runOverlapped` in its own transaction: its devices written first (the guarded
   * UPDATE: each only if still in the status it was read in), then — once `previous`, the batch
   * before it, has committed — the sweep's row locked and checked, the cursor and progress moved
   * on, and committed. Rolled back (`RolledBack`'s outcome) when `previous` did not commit, the
   * sweep is no longer RUNNING under this lease, its cursor is not where this batch was read from,
   * or the rules changed since it was judged.
   */
  private async writeOverlapped(
    sweep: Sweep,
    context: RequestScope,
    judged: JudgedBatch,
    previous: Promise<OverlappedOutcome> | null,
  ): Promise<OverlappedOutcome> {
    const counts = { action: '', examined: 0, changed: 0 };
    let outcome: OverlappedOutcome;
    try {
      outcome = await inTransaction(this.dataSource, async (manager): Promise<OverlappedOutcome> => {
        const applied = await applyChanges(manager, context, sweep, judged.changes, judged.prepared);
        // In cursor order: this batch commits only after the one before it did.
        if (previous && (await previous.catch(() => 'stale' as const)) !== 'continue') throw new RolledBack('stale');
        const locked = await lockSweep(manager, sweep.id);
        if (!locked || locked.status !== SweepStatus.RUNNING || locked.leaseOwner !== this.owner)
          throw new RolledBack('lost');
        if (locked.cursor !== judged.after) throw new RolledBack('stale');
        // Still allowed to sweep (a UserErrorsAbort otherwise), under the rules it was judged by.
        const scope = await this.sweepScopeOf(manager, locked);
        if (scope.rules !== judged.rules) throw new RolledBack('stale');
        const ids = judged.candidates.devices.map((device) => device.id);
        Object.assign(counts, await this.recordProgress(manager, locked, ids, applied, new Date()));
        return 'continue';
      });
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
      return error.outcome;
    }
    countDevices(counts);
    return outcome;
  }

  /**
   * A batch's progress, in its transaction: the cursor moved to its last device, the devices
   * examined and changed counted with their breakdown, the lease renewed, and the sweep's
   * watchers told. Answers the counts, for the metrics once the batch has committed.
   */
  private async recordProgress(
    manager: EntityManager,
    sweep: Sweep,
    ids: readonly number[],
    applied: readonly SweepChange[],
    now: Date,
  ): Promise<BatchCounts> {
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
    return { action: sweep.action, examined: ids.length, changed: applied.length };
  }

  /**
   * Reads and judges the batch after `after` outside the writing transaction, and builds the rows
   * its changes write: on PostgreSQL on a connection of the pool, so that the service does its
   * share of the next batch while the server writes this one; on a SQLite file on this run's reader
   * thread (`SqliteSweepReader`), so that the service's thread only writes. It writes nothing; a
   * failed read answers null and the batch is read again in its own transaction. A reader thread
   * that stopped (it crashed, or its connection could not open) is not started again for the run:
   * its batches are read ahead on this thread, with one warning instead of one a batch.
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
    const reader = this.reader?.stopped ? null : this.reader;
    const judged: Promise<JudgedBatch> = reader
      ? reader
          .read(context, sweepId, scope, after, limit)
          .then((read) => ({ after, limit, rules: scope.rules, ...read }))
      : judgeBatch(this.dataSource.manager, scope, after, limit).then(async (judged) => ({
          ...judged,
          prepared: await prepareChanges(this.dataSource, context, sweepId, judged.changes),
        }));
    return judged.catch((error: unknown) => {
      // A stopped thread is said once: its batches are read on this thread from now on (closed with the run).
      if (reader?.stopped)
        this.logger?.warn({ err: error }, "the sweep's reader thread stopped; this run reads on the service's thread");
      else this.logger?.warn({ err: error }, 'sweep read-ahead failed; the batch is read again when written');
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
    /** False for a caller that writes batches one at a time and would only drop the batch read after it. */
    readsNext = true,
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
        if (readsNext && this.readsAhead && ids.length === limit)
          next = this.readAhead(sweep.id, context, scope, ids[ids.length - 1], limit);
        const applied = await applyChanges(manager, context, sweep, judged.changes, judged.prepared);
        Object.assign(counts, await this.recordProgress(manager, sweep, ids, applied, now));
        return 'continue';
      });
    } catch (error) {
      // The batch rolled back: what was read after it is not used (the next try reads from the cursor).
      await next;
      throw error;
    }
    countDevices(counts);
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

  /**
   * After a batch that failed (and rolled back): a sweep its policy no longer allows (retired or
   * changed mid-way: a user error) is cancelled and stops ('done'); otherwise its devices are
   * tried one by one (`deviceByDevice`), which answers how the sweep goes on.
   */
  private async afterFailedBatch(sweep: Sweep, context: RequestScope, error: unknown): Promise<BatchOutcome> {
    if (error instanceof UserErrorsAbort) {
      await this.finish(sweep.id, context, SweepStatus.CANCELLED, error.userErrors[0].message);
      return 'done';
    }
    this.logger?.warn({ err: error, sweepId: sweep.globalId }, 'sweep batch failed; retrying device by device');
    return this.deviceByDevice(sweep.id, context);
  }

  /** After a failed batch: each device alone, and one that still fails is counted and skipped. */
  private async deviceByDevice(sweepId: number, context: RequestScope): Promise<BatchOutcome> {
    for (let index = 0; index < this.sweeps.batchSize; index += 1) {
      try {
        const { outcome } = await this.batch(sweepId, context, 1, null, false);
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
