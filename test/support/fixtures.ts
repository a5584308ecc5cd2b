import { DataSource } from 'typeorm';
import { withCheckDigit } from '../../src/devices/imei';
import { generateDemoData } from '../../src/seeding/demo-data';

/** A fixed instant, so generated data is the same on every run. */
export const FIXED_UNTIL = new Date('2026-11-01T00:00:00Z');

export function seedDemo(dataSource: DataSource, devices: number, attempts: number, seed = 'test') {
  return generateDemoData(dataSource, { devices, attempts, seed, until: FIXED_UNTIL, days: 60 });
}

/** A valid IMEI of the seed model AR-5 (TAC 35291811) with a serial far from generated ones. */
export function testImei(serial: number, tac = '35291811'): string {
  return withCheckDigit(`${tac}${String(900_000 + serial).padStart(6, '0')}`);
}
