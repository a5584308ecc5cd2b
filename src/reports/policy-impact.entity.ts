import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampType } from '../db/column-types';

/*
 * What policyImpact reports, kept by triggers on activation_attempt (migration 1765750000000) in
 * the transaction of the attempts they count, whichever code inserts them; the bulk path counts a
 * SQLite load per commit with the same result (sqlite-batch-counts.ts). Only attempts that carry a
 * policy version are counted. The report's window — from each version's effectiveFrom, up to an
 * optional `to` — is applied when it is read, not here: a draft's effectiveFrom can still change,
 * and `to` is any instant. Whole hours come from the rollup; the parts of an hour at either end from
 * the attempts and the first-attempt rows (policy-impact.ts). Retiring a month of attempts touches
 * neither table, so dropped months keep their figures.
 */

/** The keys of one report line: the version that decided, region (0: none), outcome, enforcement, refusal of an already-locked device. */
abstract class ImpactLine {
  @PrimaryColumn({ type: 'integer' })
  policyVersionId: number;

  @PrimaryColumn({ type: 'integer' })
  regionKey: number;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  outcome: string;

  @PrimaryColumn({ type: 'boolean' })
  enforced: boolean;

  /** The attempt was refused because its device was locked already (its first reason DEVICE_ALREADY_LOCKED). */
  @PrimaryColumn({ type: 'boolean' })
  alreadyLocked: boolean;
}

/**
 * Per UTC hour and report line: the attempts, and the devices whose first attempt on the line lies
 * in that hour. Both add up across hours: the devices of a window starting at or before a
 * device's first attempt on the line count it once, in its first hour.
 */
@Entity('policy_impact_rollup')
export class PolicyImpactRollup extends ImpactLine {
  @PrimaryColumn({ type: timestampType })
  hourStart: Date;

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ type: 'integer' })
  devices: number;
}

/** A device's first attempt on a report line: which hour of the rollup counts it, and the exact instant for a window's partial hours. */
@Entity('policy_impact_device')
@Index('policy_impact_device_first_idx', ['policyVersionId', 'firstAt'])
export class PolicyImpactDevice extends ImpactLine {
  @PrimaryColumn({ type: 'integer' })
  deviceId: number;

  @Column({ type: timestampType })
  firstAt: Date;
}
