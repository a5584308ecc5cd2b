import { access } from '../auth/roles';
import { Authorized, Field, Float, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn, ManyToOne, JoinColumn } from 'typeorm';
import { Device } from '../devices/device.entity';
import { Region } from '../regions/region.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Node } from '../common/node';
import { encodeGlobalId } from '../common/global-id';
import { jsonType, timestampType } from '../db/column-types';

/** The evidence of a decision as stored with its attempt (plain JSON, stable field names). */
export interface StoredExplanation {
  signals: {
    source: string;
    regionCode: string | null;
    usable: boolean;
    finding: string;
    detail: string;
    /** How the signal was read (the engine's SignalAssessment); missing on attempts decided before fixes were judged. */
    assessment?: string;
  }[];
  policies: { policyVersionId: number; policyKey: string; finding: string; detail: string }[];
}
export enum DecisionOutcome {
  ALLOW = 'ALLOW',
  LOCK = 'LOCK',
  REVIEW = 'REVIEW',
}
registerEnumType(DecisionOutcome, {
  name: 'DecisionOutcome',
  description: 'What the decision says must happen to the device.',
  valuesConfig: {
    ALLOW: { description: 'The device may activate.' },
    LOCK: { description: 'A policy forbids activation here: the device is locked (when enforced).' },
    REVIEW: { description: 'The evidence is inconclusive or a REVIEW policy applies: a person decides.' },
  },
});

export enum RegionSource {
  GPS = 'GPS',
  CELL = 'CELL',
  SIM = 'SIM',
  IP = 'IP',
  NONE = 'NONE',
}
registerEnumType(RegionSource, {
  name: 'RegionSource',
  description: 'Which signal the resolved region came from.',
  valuesConfig: {
    GPS: { description: 'A usable GPS fix (not mocked, not stale, accurate enough, no impossible travel).' },
    CELL: { description: "The serving cell's network: where the radio is attached now." },
    SIM: { description: "The SIM's home network: where the card was issued." },
    IP: { description: 'The country of the client IP address; never locks on its own.' },
    NONE: { description: 'No usable signal.' },
  },
});

// Each signal class is both the output type and the input of decideActivation (`…Input`).
@ObjectType({ description: 'A satellite position fix reported by the device.' })
@InputType('GeoPointInput', { description: 'A satellite position fix.' })
export class GeoPoint {
  @Field(() => Float, { description: 'Latitude in degrees, -90 to 90.' })
  latitude: number;

  @Field(() => Float, { description: 'Longitude in degrees, -180 to 180.' })
  longitude: number;

  @Field(() => Float, { nullable: true, description: 'Horizontal accuracy radius in metres, when known.' })
  accuracyMeters?: number | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Timestamp when the fix was taken (the attempt's occurredAt when missing). A fix taken more than STALE_FIX_MINUTES (60 by default) before occurredAt is stale: kept as evidence, never deciding. May lie at most 5 minutes after occurredAt (clock skew).",
  })
  fixedAt?: Date | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Indicates the OS reported the fix as coming from a mock location provider (Android `Location.isMock()` / `isFromMockProvider()`). A mocked fix neither decides nor clears; the decision carries GPS_MOCKED.',
  })
  mock?: boolean | null;
}

@ObjectType({
  description: 'The mobile network the radio was attached to (MCC and MNC only: no cell or tower identity).',
})
@InputType('CellInput', {
  description:
    "The serving network the radio is attached to: where the phone is now, unlike the SIM's home network. MCC and MNC only (no cell identity is accepted or kept).",
})
export class CellInfo {
  @Field({ description: 'Mobile country code of the serving network (3 digits).' })
  mcc: string;

  @Field(() => String, {
    nullable: true,
    description: 'Mobile network code of the serving network (2 or 3 digits), when known.',
  })
  mnc?: string | null;
}

@ObjectType({ description: "The SIM card's network identity." })
@InputType('SimInput', { description: "The SIM card's network identity." })
export class SimInfo {
  @Field({ description: 'Mobile country code (3 digits).' })
  mcc: string;

  @Field(() => String, { nullable: true, description: 'Mobile network code (2 or 3 digits), when known.' })
  mnc?: string | null;
}

@ObjectType({ description: 'The location signals an activation attempt carried.' })
@InputType('ActivationSignalsInput', { description: 'The location signals of an activation; any may be missing.' })
export class ActivationSignals {
  // Raw coordinates are personal data: partners get the resolved region and the evidence instead.
  @Authorized(access.readRawLocation)
  @Field(() => GeoPoint, {
    nullable: true,
    description: 'GPS fix, when the device had one, rounded to the stored precision. Not shown to partners.',
  })
  gps?: GeoPoint | null;

  @Field(() => CellInfo, {
    nullable: true,
    description:
      'The serving network (MCC and MNC), when the radio was attached to one. Ranks after a usable fix and before the SIM.',
  })
  cell?: CellInfo | null;

  @Field(() => SimInfo, { nullable: true, description: 'SIM network identity, when a SIM was present.' })
  sim?: SimInfo | null;

  @Field(() => String, {
    nullable: true,
    description: 'ISO 3166-1 alpha-2 country of the client IP, as the gateway looked it up.',
  })
  ipCountry?: string | null;
}

export enum ReviewStatus {
  OPEN = 'OPEN',
  ALLOWED = 'ALLOWED',
  LOCKED = 'LOCKED',
}
registerEnumType(ReviewStatus, {
  name: 'ReviewStatus',
  description: 'Where a REVIEW decision stands in the review queue.',
  valuesConfig: {
    OPEN: { description: 'Waiting for a person to decide.' },
    ALLOWED: { description: 'Resolved: the device may activate.' },
    LOCKED: { description: 'Resolved: the device was locked.' },
  },
});

/**
 * Indexes that statements name on SQLite (INDEXED BY), which plans without statistics and may
 * otherwise pick another: the (deviceId, occurredAt, id) index for a device's own attempts, and the
 * partial index over the OPEN reviews (migration 1765750000001) holding every column
 * reviewQueueStats reads, and (occurredAt, id). One name each, here, so a statement cannot name an index that is gone.
 */
export const DEVICE_ATTEMPTS_INDEX = 'activation_attempt_device_idx';
export const OPEN_REVIEWS_INDEX = 'activation_attempt_open_review_idx';
/** (occurredAt, id): a window's ids, read by simulatePolicy from the index alone. */
export const ATTEMPTS_BY_TIME_INDEX = 'activation_attempt_occurred_at_idx';

@Entity('activation_attempt')
@Index('activation_attempt_review_idx', ['reviewStatus', 'occurredAt'])
// The open review queue alone, with what reviewQueueStats reads of it: the report reads this small
// index (per month) without visiting the wide rows, one page per open review before.
@Index(OPEN_REVIEWS_INDEX, ['receivedAt', 'resolvedRegionId', 'policyVersionId', 'deviceId'], {
  where: `"reviewStatus" = 'OPEN'`,
})
@Index(DEVICE_ATTEMPTS_INDEX, ['deviceId', 'occurredAt', 'id'])
@Index('activation_attempt_region_idx', ['resolvedRegionId', 'occurredAt'])
@Index('activation_attempt_outcome_idx', ['outcome', 'occurredAt'])
@Index(ATTEMPTS_BY_TIME_INDEX, ['occurredAt', 'id'])
// Covers the reports: a window of attempts is read from this index alone, not from the wide rows.
@Index('activation_attempt_report_idx', [
  'occurredAt',
  'resolvedRegionId',
  'outcome',
  'enforced',
  'deviceId',
  'policyVersionId',
])
@ObjectType({
  implements: Node,
  description: 'One activation of a device as the gateway reported it, with the decision taken.',
})
export class ActivationAttempt extends Node {
  @PrimaryGeneratedColumn()
  id: number;

  /**
   * The global ID names the month of occurredAt, the partition key (which never changes), so that
   * node(id:) and mutations taking an attempt's ID probe one month (see common/global-id.ts).
   */
  get globalId(): string {
    const month =
      this.occurredAt instanceof Date && !Number.isNaN(this.occurredAt.getTime()) ? this.occurredAt : undefined;
    return encodeGlobalId('ActivationAttempt', this.id, month);
  }

  @Column({ type: 'integer' })
  deviceId: number;

  @ManyToOne(() => Device, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'deviceId', foreignKeyConstraintName: 'activation_attempt_device_id_fkey' })
  deviceRelation?: Device;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when the phone tried to activate (reported by the gateway).' })
  occurredAt: Date;

  @Column({ type: timestampType })
  @Field({ description: 'Timestamp when this service received the attempt.' })
  receivedAt: Date;

  @Column({ type: jsonType })
  @Field(() => ActivationSignals, { description: 'The location signals the attempt carried.' })
  signals: ActivationSignals;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, {
    nullable: true,
    description:
      'Timestamp when the raw signals were purged under the retention setting (the decision and its evidence stay); null while they are kept.',
  })
  signalsPurgedAt: Date | null;

  /**
   * When the attempt's fix was taken, if the fix was usable evidence (not mocked, stale, inaccurate
   * or impossible travel): the travel rule compares later and earlier attempts with it.
   */
  @Column({ type: timestampType, nullable: true })
  usableFixAt: Date | null;

  /** The fastest speed (km/h) the fix implied from the device's neighbouring fixes when decided; null when none was near. */
  @Column({ type: 'double precision', nullable: true })
  fixSpeedKmh: number | null;

  @Column({ type: 'integer', nullable: true })
  resolvedRegionId: number | null;

  @ManyToOne(() => Region, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'resolvedRegionId', foreignKeyConstraintName: 'activation_attempt_resolved_region_id_fkey' })
  resolvedRegionRelation?: Region;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => RegionSource, { description: 'Which signal the resolved region came from.' })
  regionSource: RegionSource;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => DecisionOutcome, { description: "The decision's outcome (the would-be outcome when not enforced)." })
  outcome: DecisionOutcome;

  @Column({ type: 'boolean' })
  @Field({
    description: 'Indicates whether the outcome was enforced (false when the deciding policy is in MONITOR mode).',
  })
  enforced: boolean;

  @Column({ type: 'integer', nullable: true })
  policyVersionId: number | null;

  @ManyToOne(() => PolicyVersion, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policyVersionId', foreignKeyConstraintName: 'activation_attempt_policy_version_id_fkey' })
  policyVersionRelation?: PolicyVersion;

  @Column({ type: jsonType })
  @Field(() => [String], { description: 'Machine-readable reasons for the outcome.' })
  reasonCodes: string[];

  /** The decision's full evidence (readings and policies considered), as the engine produced it. */
  @Column({ type: jsonType, nullable: true })
  explanation: StoredExplanation | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  @Field(() => ReviewStatus, {
    nullable: true,
    description: 'Review state; null unless the outcome was an enforced REVIEW.',
  })
  reviewStatus: ReviewStatus | null;

  @Column({ type: timestampType, nullable: true })
  @Field(() => Date, { nullable: true, description: 'Timestamp when the review was resolved.' })
  reviewedAt: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: 'Who resolved the review.' })
  reviewedBy: string | null;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'Why the review was resolved as it was.' })
  reviewNote: string | null;

  // Unique through activation_idempotency_key (its own table: see idempotency-key.entity.ts).
  @Column({ type: 'varchar', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: "The gateway's idempotency key, when it sent one." })
  idempotencyKey: string | null;

  /**
   * SHA-256 of the request the idempotency key was first sent with (`requestFingerprint`): a retry
   * must be the same request, or it is refused instead of answered with another request's decision.
   * Null without a key, and for attempts recorded before fingerprints were kept.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  requestFingerprint: string | null;
}
