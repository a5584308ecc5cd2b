import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampType } from '../db/column-types';

/**
 * Attempts counted per UTC hour, resolved region (0: none), outcome and enforcement. Kept by a
 * database trigger on activation_attempt (migration 8), so it changes in the same transaction as
 * the attempts it counts, whichever code inserts them. Counts add up across hours and regions;
 * distinct devices do not, so they are never read from here.
 */
@Entity('activation_hourly_rollup')
export class ActivationRollup {
  @PrimaryColumn({ type: timestampType })
  hourStart: Date;

  @PrimaryColumn({ type: 'integer' })
  regionKey: number;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  outcome: string;

  @PrimaryColumn({ type: 'boolean' })
  enforced: boolean;

  @Column({ type: 'integer' })
  attempts: number;
}

/**
 * The same counts per UTC day: a report in UTC days, weeks or months (or none) over whole days
 * reads a 24th of the rows. Kept by a trigger too (migration 9).
 */
@Entity('activation_daily_rollup')
export class ActivationDailyRollup {
  @PrimaryColumn({ type: timestampType })
  dayStart: Date;

  @PrimaryColumn({ type: 'integer' })
  regionKey: number;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  outcome: string;

  @PrimaryColumn({ type: 'boolean' })
  enforced: boolean;

  @Column({ type: 'integer' })
  attempts: number;
}
