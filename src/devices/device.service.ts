import { DataSource, EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { textLengthError } from '../common/text-length';
import { recordAuditEvent } from '../audit/audit.service';
import { isUniqueViolation } from '../common/db-errors';
import { BadUserInputError, UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { MutationOutcome, abortOnUserErrors, runMutation } from '../common/mutation';
import { partnerScopeOf } from '../auth/viewer';
import { RequestScope, ScopeWithLoaders } from '../common/request-scope';
import type { DeviceModelLoaders } from '../device-models/device-model.loaders';
import type { RegionLoaders } from '../regions/region.loaders';
import { DeviceModel } from '../device-models/device-model.entity';
import { deviceModelIds } from '../device-models/device-model.service';
import { partnerInScope } from '../partners/partner.service';
import { Region } from '../regions/region.entity';
import { Device, DeviceStatus } from './device.entity';
import { DeviceFilter, RegisterDevicesInput, ResolvedDeviceFilter } from './device.types';
import { imeiProblem, imeiProblemMessages, typeAllocationCode } from './imei';
import {
  RegistrationConflict,
  RegistrationConflictBudget,
  checkConflictBudget,
  recordRegistrationConflicts,
  spendConflictBudget,
} from './registration-conflicts';

/** Rows per INSERT and per IN (…) list: well under both databases' bound-parameter limits. */
const CHUNK_SIZE = 500;

function chunks<T>(items: readonly T[], size = CHUNK_SIZE): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Resolves the filter's codes and global IDs to row ids; an unknown one is a client error naming it. */
export async function resolveDeviceFilter(
  context: ScopeWithLoaders<DeviceModelLoaders & RegionLoaders>,
  filter?: DeviceFilter | null,
): Promise<ResolvedDeviceFilter> {
  const resolved: ResolvedDeviceFilter = { partnerScope: partnerScopeOf(context.viewer) ?? undefined };
  if (!filter) return resolved;
  if (filter.statuses) resolved.statuses = filter.statuses;
  if (filter.modelCodes) resolved.modelIds = await deviceModelIds(context, filter.modelCodes, 'filter.modelCodes');
  if (filter.marketRegionCodes) {
    const regions = await context.loaders.regionByCode.loadMany(
      filter.marketRegionCodes.map((code) => code.toUpperCase()),
    );
    resolved.marketRegionIds = regions.map((region, index) => {
      if (!(region instanceof Region)) {
        throw new BadUserInputError(
          `filter.marketRegionCodes[${index}]`,
          `unknown region code "${filter.marketRegionCodes![index]}"`,
        );
      }
      return region.id;
    });
  }
  if (filter.partnerIds) {
    resolved.partnerIds = filter.partnerIds.map((globalId, index) => {
      const rowId = rowIdOf(globalId, 'Partner');
      if (rowId === null) throw new BadUserInputError(`filter.partnerIds[${index}]`, 'is not a partner ID');
      return rowId;
    });
  }
  if (filter.imeiPrefix != null) {
    if (!/^\d{1,15}$/.test(filter.imeiPrefix))
      throw new BadUserInputError('filter.imeiPrefix', 'must be 1 to 15 digits');
    resolved.imeiPrefix = filter.imeiPrefix;
  }
  return resolved;
}

/** Adds the filter's conditions to a device query aliased `alias`. */
export function applyDeviceFilter(qb: SelectQueryBuilder<Device>, filter: ResolvedDeviceFilter): void {
  const alias = qb.alias;
  const anyOf = (ids: unknown[]) => (ids.length ? ids : [-1]);
  if (filter.partnerScope !== undefined)
    qb.andWhere(`${alias}.partnerId = :partnerScope`, { partnerScope: filter.partnerScope });
  if (filter.statuses) qb.andWhere(`${alias}.status IN (:...statuses)`, { statuses: anyOf(filter.statuses) });
  if (filter.modelIds) qb.andWhere(`${alias}.modelId IN (:...modelIds)`, { modelIds: anyOf(filter.modelIds) });
  if (filter.marketRegionIds) {
    qb.andWhere(`${alias}.marketRegionId IN (:...marketRegionIds)`, { marketRegionIds: anyOf(filter.marketRegionIds) });
  }
  if (filter.partnerIds)
    qb.andWhere(`${alias}.partnerId IN (:...partnerIds)`, { partnerIds: anyOf(filter.partnerIds) });
  if (filter.imeiPrefix) {
    // A range on the unique index instead of LIKE, which SQLite cannot serve from an index here;
    // ':' is the character after '9', so the range holds exactly the IMEIs with this prefix.
    qb.andWhere(`${alias}.imei >= :imeiFrom AND ${alias}.imei < :imeiTo`, {
      imeiFrom: filter.imeiPrefix,
      imeiTo: `${filter.imeiPrefix}:`,
    });
  }
}

export function queryDevices(dataSource: DataSource, filter: ResolvedDeviceFilter): SelectQueryBuilder<Device> {
  const qb = dataSource.getRepository(Device).createQueryBuilder('device');
  applyDeviceFilter(qb, filter);
  return qb;
}

/**
 * Registers a manifest all-or-nothing (see registration-conflicts.ts for what is said about IMEIs
 * other partners hold, and at what cost). Every row is checked and every problem reported (not just
 * the first), so a partner can fix a file in one round trip.
 */
export async function registerManifest(
  context: RequestScope,
  input: RegisterDevicesInput,
  budget: RegistrationConflictBudget,
): Promise<MutationOutcome<Device[]>> {
  await checkConflictBudget(context, budget);
  const found: FoundConflicts = { partnerRowId: null, conflicts: [], reported: false };
  try {
    return await runMutation(context, input, (manager) => registerDevices(manager, context, input, budget, found));
  } finally {
    // Audited whether told or refused, after the registration's own transaction rolled back.
    if (found.partnerRowId !== null) {
      await recordRegistrationConflicts(
        context.dataSource,
        context,
        found.partnerRowId,
        found.conflicts,
        found.reported,
      );
    }
  }
}

/** What the registration learnt of other partners' devices, for the audit after its rollback. */
interface FoundConflicts {
  partnerRowId: number | null;
  conflicts: RegistrationConflict[];
  reported: boolean;
}

async function registerDevices(
  manager: EntityManager,
  context: RequestScope,
  input: RegisterDevicesInput,
  budget: RegistrationConflictBudget,
  found: FoundConflicts,
) {
  // A PARTNER key registers for its own partner only.
  const partner = await partnerInScope(manager, context, input.partnerId);
  const errors: UserError[] = [];
  if (!partner) errors.push(userError(['partnerId'], UserErrorCode.NOT_FOUND, 'no partner has this ID'));

  const modelCodes = [...new Set(input.devices.map((row) => row.modelCode))];
  const regionCodes = [...new Set(input.devices.map((row) => row.marketRegionCode.toUpperCase()))];
  const modelByCode = new Map(
    (await manager.findBy(DeviceModel, { code: In(modelCodes) })).map((model) => [model.code, model]),
  );
  const regionByCode = new Map<string, Region>();
  for (const codes of chunks(regionCodes)) {
    for (const region of await manager.findBy(Region, { code: In(codes) })) regionByCode.set(region.code, region);
  }

  const rowIndexByImei = new Map<string, number>();
  input.devices.forEach((row, index) => {
    const problem = imeiProblem(row.imei);
    if (problem) {
      const code = problem === 'CHECKSUM' ? UserErrorCode.INVALID_CHECKSUM : UserErrorCode.INVALID;
      errors.push(userError(['devices', index, 'imei'], code, `imei ${imeiProblemMessages[problem]}`));
    } else if (rowIndexByImei.has(row.imei)) {
      errors.push(
        userError(
          ['devices', index, 'imei'],
          UserErrorCode.DUPLICATE,
          `imei ${row.imei} is also in row ${rowIndexByImei.get(row.imei)}`,
        ),
      );
    } else {
      rowIndexByImei.set(row.imei, index);
    }
    const serialNumber = row.serialNumber.trim();
    const serialProblem = textLengthError(['devices', index, 'serialNumber'], serialNumber, 1, 64);
    if (serialProblem) errors.push(serialProblem);
    const model = modelByCode.get(row.modelCode);
    if (!model) {
      errors.push(
        userError(
          ['devices', index, 'modelCode'],
          UserErrorCode.NOT_FOUND,
          `no device model has code "${row.modelCode}"`,
        ),
      );
    } else if (!problem && !model.tacPrefixes.includes(typeAllocationCode(row.imei))) {
      errors.push(
        userError(
          ['devices', index, 'imei'],
          UserErrorCode.INVALID,
          `imei's TAC ${typeAllocationCode(row.imei)} is not one of model ${model.code}'s`,
        ),
      );
    }
    if (!regionByCode.has(row.marketRegionCode.toUpperCase())) {
      errors.push(
        userError(
          ['devices', index, 'marketRegionCode'],
          UserErrorCode.NOT_FOUND,
          `unknown region code "${row.marketRegionCode}"`,
        ),
      );
    }
  });

  const taken: UserError[] = [];
  const others: RegistrationConflict[] = [];
  for (const imeis of chunks([...rowIndexByImei.keys()])) {
    const existing = await manager.find(Device, {
      select: { id: true, imei: true, partnerId: true },
      where: { imei: In(imeis) },
    });
    for (const device of existing) {
      const field = ['devices', rowIndexByImei.get(device.imei)!, 'imei'];
      if (partner && device.partnerId === partner.id) {
        errors.push(userError(field, UserErrorCode.TAKEN, `imei ${device.imei} is already registered to this partner`));
      } else {
        others.push({ imei: device.imei, deviceRowId: device.id });
        taken.push(userError(field, UserErrorCode.TAKEN, `imei ${device.imei} is registered to another partner`));
      }
    }
  }
  // Another partner's device is named only when nothing else is wrong: the price of the answer is a
  // manifest that would otherwise register.
  abortOnUserErrors(errors);
  if (others.length > 0) {
    found.partnerRowId = partner!.id;
    found.conflicts = others;
    await spendConflictBudget(context, budget, others);
    found.reported = true;
    abortOnUserErrors(taken.sort((a, b) => Number(a.field[2]) - Number(b.field[2])));
  }
  abortOnUserErrors(errors);

  const rows = input.devices.map((row) => ({
    imei: row.imei,
    serialNumber: row.serialNumber.trim(),
    modelId: modelByCode.get(row.modelCode)!.id,
    marketRegionId: regionByCode.get(row.marketRegionCode.toUpperCase())!.id,
    partnerId: partner!.id,
    status: DeviceStatus.NEW,
  }));
  try {
    for (const part of chunks(rows)) await manager.insert(Device, part);
  } catch (error) {
    // Another manifest registered one of these IMEIs after the check above.
    if (isUniqueViolation(error)) {
      throw new UserErrorsAbort([
        userError(['devices'], UserErrorCode.TAKEN, 'a device of this manifest was registered concurrently; retry'),
      ]);
    }
    throw error;
  }

  const devices: Device[] = [];
  for (const imeis of chunks(rows.map((row) => row.imei)))
    devices.push(...(await manager.findBy(Device, { imei: In(imeis) })));
  devices.sort((a, b) => rowIndexByImei.get(a.imei)! - rowIndexByImei.get(b.imei)!);
  await recordAuditEvent(manager, context, {
    action: 'device.register',
    targetType: 'Partner',
    targetRowId: partner!.id,
    before: null,
    after: { registeredCount: devices.length, imeis: devices.map((device) => device.imei) },
  });
  return devices;
}
