import { access } from '../auth/roles';
import { Authorized, Field, Float, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn, ManyToOne, JoinColumn } from 'typeorm';
import { Device } from '../devices/device.entity';
import { Region } from '../regions/region.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Node } from '../common/node';
import { jsonType, timestampType } from '../db/column-types';

/** The evidence of a decision as stored with its attempt (plain JSON, stable field names). */
export interface StoredExplanation {
  signals: { source: string; regionCode: string | null; usable: boolean; finding: string; detail: string }[];
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
  SIM = 'SIM',
  IP = 'IP',
  NONE = 'NONE',
}
registerEnumType(RegionSource, { name: 'RegionSource', description: 'Which signal the resolved region came from.' });

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

@Entity('activation_attempt')
@Index('activation_attempt_review_idx', ['reviewStatus', 'occurredAt'])
@Index('activation_attempt_device_idx', ['deviceId', 'occurredAt', 'id'])
@Index('activation_attempt_region_idx', ['resolvedRegionId', 'occurredAt'])
@Index('activation_attempt_outcome_idx', ['outcome', 'occurredAt'])
@Index('activation_attempt_occurred_at_idx', ['occurredAt', 'id'])
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

  @Index('activation_attempt_idempotency_key', { unique: true })
  @Column({ type: 'varchar', length: 200, nullable: true })
  @Field(() => String, { nullable: true, description: "The gateway's idempotency key, when it sent one." })
  idempotencyKey: string | null;
}
