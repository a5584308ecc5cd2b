import type BetterSqlite3 from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';
import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { openGenericPlanPool, postgresPoolOf } from '../db/pool';
import { EntityStatements } from '../db/prepared';
import { onSqliteConnection } from '../db/transactions';
import { Device, DeviceStatus } from '../devices/device.entity';
import { DecisionDeviceChange, DecisionLifecycle, checkGuard } from '../devices/device-lifecycle';
import { readPrivacySettings } from '../config';
import { TRAVEL_WINDOW_MS } from './engine/travel';
import { NeighbourFix } from './engine/types';

/** What a decision needs to know about the device. */
export interface DeviceForDecision {
  id: number;
  status: DeviceStatus;
  modelId: number;
  partnerId: number;
  activatedAt: Date | null;
  /** The policy version that caused the device's lock (its lockPolicyVersionId), when it is locked. */
  lockedByVersionId: number | null;
  /** The usable fixes of the attempts just before and just after the one being decided, in occurredAt order. */
  neighbourFixes: NeighbourFix[];
}

/** SQL expressions bounding every neighbour a statement reads on each side, whatever its row. */
interface Span {
  before: { from: string; until: string };
  after: { from: string; until: string };
}

/** Neighbours further than this from the attempt (in occurredAt) are not read: the travel rule looks back and ahead one day. */
const NEIGHBOUR_WINDOW_MS = TRAVEL_WINDOW_MS;

/**
 * How far a stored coordinate may lie from the fix it was rounded from: half a unit of the last
 * kept decimal on each axis, at most about 111 km per degree, as a diagonal.
 */
export function roundingUncertaintyMeters(decimals: number): number {
  return 0.5 * 10 ** -decimals * 111_320 * Math.SQRT2;
}

export type AttemptRow = Omit<ActivationAttempt, 'id' | 'globalId'>;

/** Rows per multi-row INSERT: 13 parameters each, far below PostgreSQL's 65,535. */
const MAX_ROWS_PER_INSERT = 200;

/** Multi-row INSERTs up to this many rows are prepared statements, one per row count. */
const NAMED_INSERT_MAX_ROWS = 64;

const DEVICE_PROPERTIES = ['id', 'status', 'modelId', 'partnerId', 'activatedAt'] as const;
const ATTEMPT_PROPERTIES = [
  'deviceId',
  'occurredAt',
  'usableFixAt',
  'fixSpeedKmh',
  'receivedAt',
  'signals',
  'resolvedRegionId',
  'regionSource',
  'outcome',
  'enforced',
  'policyVersionId',
  'reasonCodes',
  'explanation',
  'reviewStatus',
  'idempotencyKey',
  'requestFingerprint',
] as const;
/**
 * The decision hot path's reads and writes: the device lookup and the attempt with its
 * consequences, as prepared statements in one short transaction — group-committed on SQLite, a
 * single auto-committed INSERT on PostgreSQL when the attempt changes nothing else (the common case).
 */
export class DecisionStore {
  private readonly devices: EntityStatements<Device>;
  private readonly attempts: EntityStatements<ActivationAttempt>;
  private readonly findDeviceSql: string;
  private readonly findDevicesSql: string;
  private readonly insertAttempt: ReturnType<EntityStatements<ActivationAttempt>['insert']>;
  private readonly sqliteStatements = new Map<string, BetterSqlite3.Statement>();
  /** The device's status changes a decision brings, written by their owner's statements. */
  readonly lifecycle: DecisionLifecycle;

  constructor(
    private readonly dataSource: DataSource,
    /** GPS_STORED_DECIMALS: how the neighbouring fixes this store reads were rounded when stored. */
    storedCoordinateDecimals = readPrivacySettings({}).storedCoordinateDecimals,
  ) {
    this.storedFixRounding = roundingUncertaintyMeters(storedCoordinateDecimals);
    this.devices = new EntityStatements(dataSource, Device);
    this.attempts = new EntityStatements(dataSource, ActivationAttempt);
    this.lifecycle = new DecisionLifecycle(dataSource);
    const d = (property: (typeof DEVICE_PROPERTIES)[number]) => `d.${this.devices.column(property)} AS "${property}"`;
    const attempt = (property: keyof ActivationAttempt & string) => this.attempts.column(property);
    // The device's neighbouring usable fixes come with it, in the same statement: the attempt just
    // before and just after this one in occurredAt order (a late attempt has both), found through
    // the (deviceId, occurredAt, id) index. `at`, `from` and `until` are the attempt's instant and
    // the window around it, as SQL expressions.
    const window = (before: boolean, at: string, bound: string) =>
      `x.${attempt('deviceId')} = d."id" AND ` +
      (before
        ? `x.${attempt('occurredAt')} <= ${at} AND x.${attempt('occurredAt')} >= ${bound}`
        : `x.${attempt('occurredAt')} > ${at} AND x.${attempt('occurredAt')} <= ${bound}`);
    const order = (before: boolean) =>
      before
        ? `ORDER BY x.${attempt('occurredAt')} DESC, x."id" DESC LIMIT 1`
        : `ORDER BY x.${attempt('occurredAt')} ASC, x."id" ASC LIMIT 1`;
    // PostgreSQL takes the neighbour's columns from a LATERAL subquery: joined back by id, the
    // partitioned table would run the subquery once per month partition probed for the id.
    // SQLite has no LATERAL; its one table is joined back by id.
    const neighbour = (alias: string, at: string, bound: string, before: boolean, span?: Span) => {
      // The batch's span on each side as plain parameters lets PostgreSQL prune the month
      // partitions when it plans (k.at is known only row by row): planning each of the two
      // subqueries over every month kept (13 and more in production) cost more than running them.
      // Each side has its own span, so that the side before the attempt reads one month but on a
      // month's first day: over two partitions, one of them new and not yet analyzed, the planner
      // may sort every fix of the device in the window (an Append under a Sort) instead of reading
      // the one nearest through the index, a cost growing with the device's recent attempts.
      const bounds = span ? (before ? span.before : span.after) : null;
      const spanned = bounds
        ? ` AND x.${attempt('occurredAt')} >= ${bounds.from} AND x.${attempt('occurredAt')} <= ${bounds.until}`
        : '';
      return this.attempts.postgres
        ? `LEFT JOIN LATERAL (SELECT x.${attempt('signals')}, x.${attempt('usableFixAt')} FROM "${this.attempts.table}" x ` +
            `WHERE ${window(before, at, bound)}${spanned} AND x.${attempt('usableFixAt')} IS NOT NULL ${order(before)}) ${alias} ON true`
        : `LEFT JOIN "${this.attempts.table}" ${alias} ON ${alias}."id" = (SELECT x."id" FROM "${this.attempts.table}" x ` +
            `WHERE ${window(before, at, bound)}${spanned} AND x.${attempt('usableFixAt')} IS NOT NULL ${order(before)})`;
    };
    // `lookup` is what the devices are found by: its key column (if any) leads the SELECT list,
    // its FROM clause names the devices `d`.
    const columns = (lookup: { key: string; from: string }, at: string, from: string, until: string, span?: Span) =>
      `SELECT ${lookup.key}${DEVICE_PROPERTIES.map(d).join(', ')}, d.${this.devices.column('lockPolicyVersionId')} AS "lockedByVersionId", ` +
      `p.${attempt('signals')} AS "previousSignals", p.${attempt('usableFixAt')} AS "previousFixAt", ` +
      `n.${attempt('signals')} AS "nextSignals", n.${attempt('usableFixAt')} AS "nextFixAt" ` +
      `${lookup.from} ` +
      `${neighbour('p', at, from, true, span)} ${neighbour('n', at, until, false, span)} `;
    this.findDeviceSql = `${columns(
      { key: '', from: `FROM "${this.devices.table}" d` },
      '@at',
      '@from',
      '@until',
    )}WHERE d.${this.devices.column('imei')} = @imei`;
    // PostgreSQL: the lookups of concurrent decisions in one statement, one row per (IMEI, instant) pair.
    this.findDevicesSql = columns(
      {
        key: 'k.ordinality AS "key", ',
        from:
          `FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS k(imei, at, ordinality) ` +
          // A device per IMEI through its unique index whatever the table's size: the statement has
          // one plan for every batch (see hotPool), and joined plainly a small table (the demo's)
          // would be read whole into a hash for every batch.
          `JOIN LATERAL (SELECT * FROM "${this.devices.table}" e WHERE e.${this.devices.column('imei')} = k.imei LIMIT 1) d ON true`,
      },
      'k.at',
      "k.at - interval '1 millisecond' * $3",
      "k.at + interval '1 millisecond' * $3",
      {
        before: { from: '$4::timestamptz', until: '$5::timestamptz' },
        after: { from: '$6::timestamptz', until: '$7::timestamptz' },
      },
    );
    this.insertAttempt = this.attempts.insert(ATTEMPT_PROPERTIES);
  }

  /** The device as a decision at `occurredAt` needs it, with its neighbouring fixes; null when no device has the IMEI. */
  async findDevice(imei: string, occurredAt: Date): Promise<DeviceForDecision | null> {
    if (this.devices.postgres) return this.devicesByImei.load({ imei, occurredAt });
    const instant = (milliseconds: number) => this.attempts.persisted('occurredAt', new Date(milliseconds));
    const at = occurredAt.getTime();
    const raw = this.sqlite(this.findDeviceSql).get({
      imei,
      at: instant(at),
      from: instant(at - NEIGHBOUR_WINDOW_MS),
      until: instant(at + NEIGHBOUR_WINDOW_MS),
    });
    return raw ? this.deviceOf(raw as Record<string, unknown>) : null;
  }

  /**
   * On PostgreSQL the lookups of concurrent decisions share one round trip. Process-wide and
   * without a cache: each lookup reads the device as it is now.
   */
  private readonly devicesByImei = new DataLoader<{ imei: string; occurredAt: Date }, DeviceForDecision | null>(
    async (keys) => {
      const instants = keys.map((key) => key.occurredAt.getTime());
      const { rows } = await this.hotPool.query({
        name: 'decision_find_devices',
        text: this.findDevicesSql,
        values: [
          keys.map((key) => key.imei),
          keys.map((key) => key.occurredAt),
          NEIGHBOUR_WINDOW_MS,
          new Date(Math.min(...instants) - NEIGHBOUR_WINDOW_MS),
          new Date(Math.max(...instants)),
          new Date(Math.min(...instants)),
          new Date(Math.max(...instants) + NEIGHBOUR_WINDOW_MS),
        ],
      });
      const devices = keys.map((): DeviceForDecision | null => null);
      for (const row of rows as Record<string, unknown>[]) devices[Number(row.key) - 1] = this.deviceOf(row);
      return devices;
    },
    { cache: false, maxBatchSize: MAX_ROWS_PER_INSERT, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );

  private deviceOf(row: Record<string, unknown>): DeviceForDecision {
    return {
      ...(this.devices.hydrate(row, DEVICE_PROPERTIES) as Omit<
        DeviceForDecision,
        'lockedByVersionId' | 'neighbourFixes'
      >),
      lockedByVersionId: row.lockedByVersionId == null ? null : Number(row.lockedByVersionId),
      neighbourFixes: [
        this.neighbourFix(row.previousSignals, row.previousFixAt),
        this.neighbourFix(row.nextSignals, row.nextFixAt),
      ].filter((fix): fix is NeighbourFix => fix !== null),
    };
  }

  /** A neighbour's stored fix (its signals may have been purged since: then it has none). */
  private neighbourFix(signals: unknown, fixedAt: unknown): NeighbourFix | null {
    if (signals == null || fixedAt == null) return null;
    const stored = this.attempts.hydrate({ signals, usableFixAt: fixedAt }, ['signals', 'usableFixAt']);
    const gps = stored.signals?.gps;
    if (!gps || !stored.usableFixAt) return null;
    return {
      latitude: gps.latitude,
      longitude: gps.longitude,
      fixedAt: stored.usableFixAt.getTime(),
      uncertaintyMeters: (gps.accuracyMeters ?? 0) + this.storedFixRounding,
    };
  }

  /** Stored coordinates are rounded (personal data): a neighbour's position is known to this much less. */
  private readonly storedFixRounding: number;

  /**
   * Inserts the attempt and applies its consequences atomically; returns the attempt's id. A
   * repeated idempotency key fails with the database's unique violation, and nothing is written.
   */
  async record(attempt: AttemptRow, consequences: DecisionDeviceChange | null): Promise<number> {
    // A device that moved on since it was read fails its guarded update with DeviceMovedOn, and
    // nothing is written (the transaction, or on SQLite the savepoint, rolls back).
    const attemptParameters = this.insertAttempt.parameters(attempt);
    if (!this.attempts.postgres) {
      return new Promise<number>((resolve, reject) => {
        this.pendingCommits.push({
          write: () => this.writeOnSqlite(attempt.deviceId, attemptParameters, consequences),
          resolve,
          reject,
        });
        if (this.pendingCommits.length === 1) setImmediate(() => void this.commitPending());
      });
    }
    // PostgreSQL: the common case (an active device allowed again) changes nothing but the attempt;
    // those are inserted together, one auto-committed INSERT per turn of the event loop.
    if (!consequences) {
      return new Promise<number>((resolve, reject) => {
        this.pendingInserts.push({ parameters: attemptParameters, resolve, reject });
        if (this.pendingInserts.length === 1) setImmediate(() => void this.insertPending());
      });
    }
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query({
        name: 'decision_insert_attempt',
        text: this.insertAttempt.sql,
        values: attemptParameters,
      });
      const id = Number(inserted.rows[0].id);
      for (const statement of consequences.statements(id)) {
        const { rowCount } = await client.query(statement.sql, statement.parameters);
        checkGuard(statement, attempt.deviceId, rowCount ?? 0);
      }
      await client.query('COMMIT');
      return id;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Group commit on SQLite: the decisions that arrive within one turn of the event loop are written
   * in one transaction, each in its own savepoint (a failed one — a repeated idempotency key — rolls
   * back alone), and every caller is answered only after the commit. One WAL write then carries many
   * attempts instead of one each.
   */
  private readonly pendingCommits: {
    write: () => number;
    resolve: (id: number) => void;
    reject: (error: unknown) => void;
  }[] = [];

  private async commitPending(): Promise<void> {
    const batch = this.pendingCommits.splice(0);
    const outcomes: ({ id: number } | { error: unknown })[] = [];
    const writeAll = this.sqliteDatabase.transaction(() => {
      for (const pending of batch) {
        try {
          // A nested better-sqlite3 transaction is a savepoint.
          outcomes.push({ id: this.sqliteDatabase.transaction(pending.write)() });
        } catch (error) {
          outcomes.push({ error });
        }
      }
    });
    try {
      await onSqliteConnection(this.dataSource, () => writeAll());
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if ('id' in outcome) pending.resolve(outcome.id);
      else pending.reject(outcome.error);
    });
  }

  private writeOnSqlite(
    deviceId: number,
    attemptParameters: unknown[],
    consequences: DecisionDeviceChange | null,
  ): number {
    const { id } = this.sqlite(this.insertAttempt.sql).get(...attemptParameters) as { id: number };
    if (consequences) {
      for (const statement of consequences.statements(id)) {
        const { changes } = this.sqlite(statement.sql).run(...statement.parameters);
        checkGuard(statement, deviceId, changes);
      }
    }
    return id;
  }

  private readonly pendingInserts: {
    parameters: unknown[];
    resolve: (id: number) => void;
    reject: (error: unknown) => void;
  }[] = [];

  /**
   * Inserts the waiting attempts in one multi-row INSERT (one commit, one WAL flush). PostgreSQL
   * returns the rows of an INSERT … VALUES in the order of the VALUES lists. If the statement fails
   * (a repeated idempotency key), each attempt is retried alone so only the culprit fails.
   */
  private async insertPending(): Promise<void> {
    const batch = this.pendingInserts.splice(0, MAX_ROWS_PER_INSERT);
    if (this.pendingInserts.length > 0) setImmediate(() => void this.insertPending());
    const insertOne = async (pending: (typeof batch)[number]) => {
      try {
        const inserted = await this.hotPool.query({
          name: 'decision_insert_attempt',
          text: this.insertAttempt.sql,
          values: pending.parameters,
        });
        pending.resolve(Number(inserted.rows[0].id));
      } catch (error) {
        pending.reject(error);
      }
    };
    if (batch.length === 1) return insertOne(batch[0]);
    try {
      // Named per row count up to the sizes concurrent decisions make, so that each connection parses
      // and plans them once; a rarer larger batch is parsed each time rather than kept by every connection.
      const inserted = await this.hotPool.query({
        name: batch.length <= NAMED_INSERT_MAX_ROWS ? `decision_insert_attempts_${batch.length}` : undefined,
        text: this.insertAttempt.sqlForRows(batch.length),
        values: batch.flatMap((pending) => pending.parameters),
      });
      batch.forEach((pending, index) => pending.resolve(Number(inserted.rows[index].id)));
    } catch {
      await Promise.all(batch.map(insertOne));
    }
  }

  private get pool(): Pool {
    return postgresPoolOf(this.dataSource)!;
  }

  private genericPlanPool: Pool | null = null;

  /**
   * The hot path's named statements (the device read, the attempts' plain inserts) run on
   * connections of their own that plan each statement once: see openGenericPlanPool. Half the
   * main pool's size: one device read and one insert leave per turn of the event loop.
   */
  private get hotPool(): Pool {
    this.genericPlanPool ??= openGenericPlanPool(
      this.dataSource,
      Math.max(2, Math.ceil((this.pool.options.max ?? 10) / 2)),
    );
    return this.genericPlanPool;
  }

  /** Ends the hot path's connections (the server stops). */
  async close(): Promise<void> {
    const pool = this.genericPlanPool;
    this.genericPlanPool = null;
    await pool?.end();
  }

  private get sqliteDatabase(): BetterSqlite3.Database {
    return (this.dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
  }

  /** Prepared once per SQL text (a handful: the update's columns vary with the consequence). */
  private sqlite(sql: string): BetterSqlite3.Statement {
    let statement = this.sqliteStatements.get(sql);
    if (!statement) {
      statement = this.sqliteDatabase.prepare(sql);
      this.sqliteStatements.set(sql, statement);
    }
    return statement;
  }
}
