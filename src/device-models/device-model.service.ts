import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { saveOrReportTaken } from '../common/db-errors';
import { BadUserInputError, UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { containsPattern } from '../common/like';
import { abortOnUserErrors } from '../common/mutation';
import { RequestScope, ScopeWithLoaders } from '../common/request-scope';
import type { DeviceModelLoaders } from './device-model.loaders';
import { DeviceModel } from './device-model.entity';
import { CreateDeviceModelInput, DeviceModelFilter, UpdateDeviceModelInput } from './device-model.types';
import { findOrAbort } from '../common/find-by-global-id';

export function queryDeviceModels(dataSource: DataSource, filter?: DeviceModelFilter | null) {
  const qb: SelectQueryBuilder<DeviceModel> = dataSource.getRepository(DeviceModel).createQueryBuilder('model');
  if (filter?.codes) qb.andWhere('model.code IN (:...codes)', { codes: filter.codes.length ? filter.codes : [''] });
  if (filter?.nameContains) {
    qb.andWhere("LOWER(model.marketingName) LIKE :namePattern ESCAPE '\\'", {
      namePattern: containsPattern(filter.nameContains),
    });
  }
  return qb;
}

/** A TAC identifies one model: reports TACs listed twice or already owned by another model. */
async function checkTacPrefixes(manager: EntityManager, tacPrefixes: string[], ownModelId: number | null) {
  const errors: UserError[] = [];
  const seen = new Set<string>();
  tacPrefixes.forEach((tac, index) => {
    if (seen.has(tac))
      errors.push(userError(['tacPrefixes', index], UserErrorCode.DUPLICATE, `TAC ${tac} is listed twice`));
    seen.add(tac);
  });
  // Models are few (hundreds), so the overlap check reads them all.
  const others = await manager.find(DeviceModel, { select: { id: true, code: true, tacPrefixes: true } });
  const ownerByTac = new Map<string, string>();
  for (const model of others)
    if (model.id !== ownModelId) model.tacPrefixes.forEach((tac) => ownerByTac.set(tac, model.code));
  tacPrefixes.forEach((tac, index) => {
    const owner = ownerByTac.get(tac);
    if (owner)
      errors.push(userError(['tacPrefixes', index], UserErrorCode.TAKEN, `TAC ${tac} belongs to model ${owner}`));
  });
  abortOnUserErrors(errors);
}

function saveDeviceModel(manager: EntityManager, model: DeviceModel): Promise<DeviceModel> {
  return saveOrReportTaken(
    manager,
    model,
    userError(['code'], UserErrorCode.TAKEN, `a model with code ${model.code} exists`),
  );
}

export async function createDeviceModel(manager: EntityManager, context: RequestScope, input: CreateDeviceModelInput) {
  await checkTacPrefixes(manager, input.tacPrefixes, null);
  if (await manager.existsBy(DeviceModel, { code: input.code })) {
    throw new UserErrorsAbort([userError(['code'], UserErrorCode.TAKEN, `a model with code ${input.code} exists`)]);
  }
  const saved = await saveDeviceModel(
    manager,
    manager.create(DeviceModel, {
      code: input.code,
      marketingName: input.marketingName.trim(),
      tacPrefixes: input.tacPrefixes,
    }),
  );
  await recordAuditEvent(manager, context, {
    action: 'deviceModel.create',
    targetType: 'DeviceModel',
    targetRowId: saved.id,
    before: null,
    after: saved,
  });
  return saved;
}

export async function updateDeviceModel(manager: EntityManager, context: RequestScope, input: UpdateDeviceModelInput) {
  const model = await findOrAbort(manager, DeviceModel, input.id, 'id', 'device model');
  const before = { ...model };
  if (input.tacPrefixes != null) {
    await checkTacPrefixes(manager, input.tacPrefixes, model.id);
    model.tacPrefixes = input.tacPrefixes;
  }
  if (input.marketingName != null) model.marketingName = input.marketingName.trim();
  const saved = await saveDeviceModel(manager, model);
  await recordAuditEvent(manager, context, {
    action: 'deviceModel.update',
    targetType: 'DeviceModel',
    targetRowId: saved.id,
    before,
    after: saved,
  });
  return saved;
}

/** Row ids of the device models a filter names; an unknown code is a client error naming `field[index]`. */
export async function deviceModelIds(
  context: ScopeWithLoaders<DeviceModelLoaders>,
  codes: string[],
  field: string,
): Promise<number[]> {
  const models = await context.loaders.deviceModelByCode.loadMany(codes);
  return models.map((model, index) => {
    if (!(model instanceof DeviceModel))
      throw new BadUserInputError(`${field}[${index}]`, `no device model has code "${codes[index]}"`);
    return model.id;
  });
}
