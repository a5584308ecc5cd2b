import type BetterSqlite3 from 'better-sqlite3';
import type { Pool, PoolClient } from 'pg';
import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
import { orderByKeys } from '../common/loaders';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { AuditEventRow } from '../audit/audit.service';
import { postgresPoolOf } from '../db/pool';
import { EntityStatements } from '../db/prepared';
import { onSqliteConnection } from '../db/transactions';
import { Device, DeviceStatus } from '../devices/device.entity';
import { DeviceStatusChange, DeviceStatusChangeRow } from '../devices/device-status-change.entity';
import { PartnerEvent, PartnerEventRow } from '../webhooks/partner-event.entity';

/** What a decision needs to know about the device. */
export interface DeviceForDecision {
  id: number;
  status: DeviceStatus;
  modelId: number;
  partnerId: number;
  activatedAt: Date | null;
  /** The policy version of the attempt that locked the device, when it is locked. */
  lockedByVersionId: number | null;
}

export type AttemptRow = Omit<ActivationAttempt, 'id' | 'globalId'>;

/** What recording a decision writes besides the attempt, given the attempt's id. */
export interface Consequences {
  deviceChanges(attemptId: number): Partial<Device>;
  audit(attemptId: number): AuditEventRow | null;
  /** The device's history entry, when its status changes. */
  statusChange(attemptId: number): DeviceStatusChangeRow | null;
  /** Events for the device's partner (the webhook outbox), in the same transaction. */
  events(attemptId: number): PartnerEventRow[];
}

/** Rows per multi-row INSERT: 13 parameters each, far below PostgreSQL's 65,535. */
const MAX_ROWS_PER_INSERT = 200;

const DEVICE_PROPERTIES = ['id', 'status', 'modelId', 'partnerId', 'activatedAt'] as const;
const ATTEMPT_PROPERTIES = [
  'deviceId',
  'occurredAt',
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
] as const;
const STATUS_CHANGE_PROPERTIES = [
  'deviceId',
  'occurredAt',
  'fromStatus',
  'toStatus',
  'cause',
  'attemptId',
  'sweepId',
  'actor',
  'reason',
] as const;
const EVENT_PROPERTIES = ['partnerId', 'deviceId', 'type', 'occurredAt', 'data', 'fannedOutAt'] as const;
const AUDIT_PROPERTIES = [
  'occurredAt',
  'actor',
  'actorRole',
  'actorKeyId',
  'action',
  'targetType',
  'targetId',
  'before',
  'after',
  'requestId',
] as const;

/**
 * The decision hot path's reads and writes: the device lookup and the attempt with its
 * consequences, as prepared statements in one short transaction — group-committed on SQLite, a
 * single auto-committed INSERT on PostgreSQL when the attempt changes nothing else (the common case).
 */
export class DecisionStore {
  private readonly devices: EntityStatements<Device>;
  private readonly attempts: EntityStatements<ActivationAttempt>;
  private readonly auditEvents: EntityStatements<AuditEvent>;
  private readonly findDeviceSql: string;
  private readonly findDevicesSql: string;
  private readonly insertAttempt: ReturnType<EntityStatements<ActivationAttempt>['insert']>;
  private readonly insertAudit: ReturnType<EntityStatements<AuditEvent>['insert']>;
  private readonly insertStatusChange: ReturnType<EntityStatements<DeviceStatusChange>['insert']>;
  private readonly insertEvent: ReturnType<EntityStatements<PartnerEvent>['insert']>;
  private readonly sqliteStatements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly dataSource: DataSource) {
    this.devices = new EntityStatements(dataSource, Device);
    this.attempts = new EntityStatements(dataSource, ActivationAttempt);
    this.auditEvents = new EntityStatements(dataSource, AuditEvent);
    const d = (property: (typeof DEVICE_PROPERTIES)[number]) => `d.${this.devices.column(property)} AS "${property}"`;
    this.findDeviceSql =
      `SELECT ${DEVICE_PROPERTIES.map(d).join(', ')}, a.${this.attempts.column('policyVersionId')} AS "lockedByVersionId" ` +
      `FROM "${this.devices.table}" d LEFT JOIN "${this.attempts.table}" a ON a."id" = d.${this.devices.column('lockedByAttemptId')} ` +
      `WHERE d.${this.devices.column('imei')} = ${this.devices.placeholder(1)}`;
    this.findDevicesSql = this.findDeviceSql
      .replace(' FROM ', `, d.${this.devices.column('imei')} AS "imei" FROM `)
      .replace(/= \$1$/, '= ANY($1)');
    this.insertAttempt = this.attempts.insert(ATTEMPT_PROPERTIES);
    this.insertAudit = this.auditEvents.insert(AUDIT_PROPERTIES);
    this.insertStatusChange = new EntityStatements(dataSource, DeviceStatusChange).insert(STATUS_CHANGE_PROPERTIES);
    this.insertEvent = new EntityStatements(dataSource, PartnerEvent).insert(EVENT_PROPERTIES);
  }

  async findDevice(imei: string): Promise<DeviceForDecision | null> {
    if (this.devices.postgres) return this.devicesByImei.load(imei);
    const raw = this.sqlite(this.findDeviceSql).get(imei);
    return raw ? this.deviceOf(raw as Record<string, unknown>) : null;
  }

  /**
   * On PostgreSQL the lookups of concurrent decisions share one round trip. Process-wide and
   * without a cache: each lookup reads the device as it is now.
   */
  private readonly devicesByImei = new DataLoader<string, DeviceForDecision | null>(
    async (imeis) => {
      const { rows } = await this.pool.query({
        name: 'decision_find_devices',
        text: this.findDevicesSql,
        values: [imeis],
      });
      const devices = rows.map((row: Record<string, unknown>) => ({
        imei: row.imei as string,
        device: this.deviceOf(row),
      }));
      return orderByKeys(imeis, devices, (entry) => entry.imei).map((entry) => entry?.device ?? null);
    },
    { cache: false, maxBatchSize: MAX_ROWS_PER_INSERT, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );

  private deviceOf(row: Record<string, unknown>): DeviceForDecision {
    return {
      ...(this.devices.hydrate(row, DEVICE_PROPERTIES) as Omit<DeviceForDecision, 'lockedByVersionId'>),
      lockedByVersionId: row.lockedByVersionId == null ? null : Number(row.lockedByVersionId),
    };
  }

  /**
   * Inserts the attempt and applies its consequences atomically; returns the attempt's id. A
   * repeated idempotency key fails with the database's unique violation, and nothing is written.
   */
  async record(attempt: AttemptRow, consequences: Consequences | null): Promise<number> {
    const attemptParameters = this.insertAttempt.parameters(attempt);
    if (!this.attempts.postgres) {
      return new Promise<number>((resolve, reject) => {
        this.pendingCommits.push({
          write: () => this.writeOnSqlite(attempt, attemptParameters, consequences),
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
      for (const statement of this.consequenceStatements(attempt.deviceId, id, consequences)) {
        await client.query(statement.sql, statement.parameters);
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

  private writeOnSqlite(attempt: AttemptRow, attemptParameters: unknown[], consequences: Consequences | null): number {
    const { id } = this.sqlite(this.insertAttempt.sql).get(...attemptParameters) as { id: number };
    if (consequences) {
      for (const statement of this.consequenceStatements(attempt.deviceId, id, consequences)) {
        this.sqlite(statement.sql).run(...statement.parameters);
      }
    }
    return id;
  }

  /** The device update, audit, history and outbox inserts that follow an attempt, for either database. */
  private consequenceStatements(deviceId: number, attemptId: number, consequences: Consequences) {
    const changes = consequences.deviceChanges(attemptId);
    const statements = Object.keys(changes).length ? [this.devices.update(deviceId, changes)] : [];
    const audit = consequences.audit(attemptId);
    if (audit) statements.push({ sql: this.insertAudit.sql, parameters: this.insertAudit.parameters(audit) });
    const statusChange = consequences.statusChange(attemptId);
    if (statusChange) {
      statements.push({
        sql: this.insertStatusChange.sql,
        parameters: this.insertStatusChange.parameters(statusChange),
      });
    }
    for (const event of consequences.events(attemptId)) {
      statements.push({ sql: this.insertEvent.sql, parameters: this.insertEvent.parameters(event) });
    }
    return statements;
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
        const inserted = await this.pool.query({
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
      const inserted = await this.pool.query(
        this.insertAttempt.sqlForRows(batch.length),
        batch.flatMap((pending) => pending.parameters),
      );
      batch.forEach((pending, index) => pending.resolve(Number(inserted.rows[index].id)));
    } catch {
      await Promise.all(batch.map(insertOne));
    }
  }

  private get pool(): Pool {
    return postgresPoolOf(this.dataSource)!;
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
