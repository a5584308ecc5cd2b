import { DataSource } from 'typeorm';
import { ActivationAttempt } from '../activations/activation-attempt.entity';
import { SqlTable } from '../db/prepared';
import { DeviceModel } from '../device-models/device-model.entity';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { PolicyVersion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { ActivationDailyRollup, ActivationRollup } from './activation-rollup.entity';
import { ActivationDailyDevices, ActivationDeviceDayLink } from './device-day.entity';
import { PolicyImpactDevice, PolicyImpactRollup } from './policy-impact.entity';

/**
 * The tables report statements read, each under the alias every report statement gives it, named
 * from the entity metadata (src/db/prepared.ts): `attempt.column('occurredAt')` is the attempt's
 * occurredAt column under the alias a. One alias per table, so the fragments of one statement fit together.
 */
export function reportTables(dataSource: DataSource) {
  return {
    attempt: new SqlTable(dataSource, ActivationAttempt, 'a'),
    device: new SqlTable(dataSource, Device, 'd'),
    region: new SqlTable(dataSource, Region, 'r'),
    version: new SqlTable(dataSource, PolicyVersion, 'v'),
    policy: new SqlTable(dataSource, Policy, 'pol'),
    model: new SqlTable(dataSource, DeviceModel, 'm'),
    partner: new SqlTable(dataSource, Partner, 'p'),
    hourlyRollup: new SqlTable(dataSource, ActivationRollup, 'u'),
    dailyRollup: new SqlTable(dataSource, ActivationDailyRollup, 'u'),
    dayLink: new SqlTable(dataSource, ActivationDeviceDayLink, 'l'),
    dailyDevices: new SqlTable(dataSource, ActivationDailyDevices, 'c'),
    impactRollup: new SqlTable(dataSource, PolicyImpactRollup, 'iu'),
    impactDevice: new SqlTable(dataSource, PolicyImpactDevice, 'fd'),
  };
}

export type ReportTables = ReturnType<typeof reportTables>;
