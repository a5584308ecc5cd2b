import { Column, Entity, PrimaryColumn } from 'typeorm';

/*
 * Distinct devices per UTC day, kept exact by triggers on activation_attempt (migration 9) so that
 * they change in the transaction of the attempts they count. Distinct counts do not add up across
 * days or groups, so each is kept at the level a report asks for it:
 *  - per day and region or country: presence rows (one per device, day and group; a country's is
 *    written only for an attempt in one of its subdivisions, its own region's row standing for it
 *    otherwise: migration 1765820000000) and their counts;
 *  - over any window of whole days: each device's active days as a chain, counted by (day, the
 *    device's previous active day). The devices active in [from, to) are those with an active day
 *    in the window whose previous one lies before `from` (or that have none): one per device.
 */

/** That a device made at least one attempt on a UTC day. */
@Entity('activation_device_day')
export class ActivationDeviceDay {
  @PrimaryColumn({ type: 'integer' })
  deviceId: number;

  @PrimaryColumn({ type: 'date' })
  day: string;
}

/** The first day of the chain: a device's earliest active day has this as its previous one. */
export const NO_PREVIOUS_DAY = '0001-01-01';

/** How many devices were active on `day` with `previousDay` as their previous active day. */
@Entity('activation_device_day_link')
export class ActivationDeviceDayLink {
  @PrimaryColumn({ type: 'date' })
  day: string;

  @PrimaryColumn({ type: 'date' })
  previousDay: string;

  @Column({ type: 'integer' })
  devices: number;
}

/** Groupings whose distinct devices per day are kept: R by resolved region, C by country (0: none resolved). */
export type DeviceDayGrouping = 'R' | 'C';

/** The key of one group's day: which grouping, which UTC day, which region or country. */
abstract class GroupDay {
  @PrimaryColumn({ type: 'varchar', length: 1 })
  grouping: DeviceDayGrouping;

  @PrimaryColumn({ type: 'date' })
  day: string;

  @PrimaryColumn({ type: 'integer' })
  groupKey: number;
}

/** That a device made at least one attempt in a region (or, grouping C, in a subdivision of a country) on a UTC day. */
@Entity('activation_group_device_day')
export class ActivationGroupDeviceDay extends GroupDay {
  @PrimaryColumn({ type: 'integer' })
  deviceId: number;
}

/** Distinct devices per UTC day and region (or country): the presence rows above, counted. */
@Entity('activation_daily_devices')
export class ActivationDailyDevices extends GroupDay {
  @Column({ type: 'integer' })
  devices: number;
}
