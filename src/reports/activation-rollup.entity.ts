import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampType } from '../db/column-types';

/**
 * Attempts counted per period (its start in the subclass), resolved region (0: none), outcome and
 * enforcement. Kept by database triggers on activation_attempt (migrations 8 and 9), so they change
 * in the same transaction as the attempts they count, whichever code inserts them. Counts add up
 * across periods and regions; distinct devices do not, so they are never read from here.
 */
abstract class AttemptCounts {
  @PrimaryColumn({ type: 'integer' })
  regionKey: number;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  outcome: string;

  @PrimaryColumn({ type: 'boolean' })
  enforced: boolean;

  @Column({ type: 'integer' })
  attempts: number;
}

/** Per UTC hour: reports in zones with whole-hour offsets and hour buckets. */
@Entity('activation_hourly_rollup')
export class ActivationRollup extends AttemptCounts {
  @PrimaryColumn({ type: timestampType })
  hourStart: Date;
}

/** Per UTC day: reports in UTC days, weeks or months (or none) over whole days read a 24th of the rows. */
@Entity('activation_daily_rollup')
export class ActivationDailyRollup extends AttemptCounts {
  @PrimaryColumn({ type: timestampType })
  dayStart: Date;
}
