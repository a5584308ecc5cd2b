import { DataSource } from 'typeorm';
import { AR5_TAC, imeiOf } from './imei';
import { generateDemoData } from '../../src/seeding/demo-data';
import { GraphQLClient } from './graphql';

/** A fixed instant, so generated data is the same on every run. */
export const FIXED_UNTIL = new Date('2026-11-01T00:00:00Z');

export function seedDemo(dataSource: DataSource, devices: number, attempts: number, seed = 'test') {
  return generateDemoData(dataSource, { devices, attempts, seed, until: FIXED_UNTIL, days: 60 });
}

/** A valid IMEI of the seed model AR-5 (TAC 35291811) with a serial far from generated ones. */
export function testImei(serial: number, tac = AR5_TAC): string {
  return imeiOf(900_000 + serial, tac);
}

/**
 * A new partner with these devices registered (model AR-5, sold in Germany): what a decision
 * needs before it can be taken. Answers each device's global ID by IMEI.
 */
export async function registerTestDevices(
  client: GraphQLClient,
  imeis: readonly string[],
  partnerName = 'Gateway Test Partner',
): Promise<{ partnerId: string; deviceIdByImei: Record<string, string> }> {
  const partner = await client.data(
    'mutation ($name: String!) { createPartner(input: { name: $name, kind: CARRIER }) { partner { id } userErrors { message } } }',
    { name: partnerName },
  );
  if (partner.createPartner.userErrors.length) throw new Error(JSON.stringify(partner.createPartner.userErrors));
  const partnerId: string = partner.createPartner.partner.id;
  const devices = imeis.map((imei, index) => ({
    imei,
    serialNumber: `SN${imei.slice(8, 14)}-${index + 1}`,
    modelCode: 'AR-5',
    marketRegionCode: 'DE',
  }));
  const registered = await client.data(
    'mutation ($input: RegisterDevicesInput!) { registerDevices(input: $input) { devices { id imei } userErrors { message } } }',
    { input: { partnerId, devices } },
  );
  if (registered.registerDevices.userErrors.length)
    throw new Error(JSON.stringify(registered.registerDevices.userErrors));
  const deviceIdByImei: Record<string, string> = {};
  for (const device of registered.registerDevices.devices) deviceIdByImei[device.imei] = device.id;
  return { partnerId, deviceIdByImei };
}
