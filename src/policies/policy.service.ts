import { EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { isUniqueViolation } from '../common/db-errors';
import { BadUserInputError, UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { abortOnUserErrors } from '../common/mutation';
import { GraphQLContext } from '../context';
import { DeviceModel } from '../device-models/device-model.entity';
import { Region } from '../regions/region.entity';
import { Policy, PolicyStatus } from './policy.entity';
import {
  PolicyAction,
  PolicyMode,
  PolicyVersion,
  PolicyVersionDeviceModel,
  PolicyVersionRegion,
} from './policy-version.entity';
import {
  ActivatePolicyInput,
  CreatePolicyInput,
  LocalizedMessageInput,
  PolicyFilter,
  RetirePolicyInput,
  UpdatePolicyInput,
} from './policy.types';

/** Everything a version says, with regions and models as codes (what clients and the audit see). */
export interface PolicyRules {
  title: string;
  description: string;
  legalBasis: string;
  action: PolicyAction;
  mode: PolicyMode;
  priority: number;
  effectiveFrom: Date;
  effectiveUntil: Date | null;
  lockMessage: string;
  lockMessageTranslations: Record<string, string>;
  regionCodes: string[];
  productScope: string[];
}

export async function queryPolicies(context: GraphQLContext, filter?: PolicyFilter | null) {
  const qb: SelectQueryBuilder<Policy> = context.dataSource.getRepository(Policy).createQueryBuilder('policy');
  if (filter?.statuses)
    qb.andWhere('policy.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
  if (filter?.actions || filter?.modes) {
    qb.innerJoin(PolicyVersion, 'current', 'current.id = policy.currentVersionId');
    if (filter.actions)
      qb.andWhere('current.action IN (:...actions)', { actions: filter.actions.length ? filter.actions : [''] });
    if (filter.modes) qb.andWhere('current.mode IN (:...modes)', { modes: filter.modes.length ? filter.modes : [''] });
  }
  if (filter?.coversRegionCode) {
    const region = await context.loaders.regionByCode.load(filter.coversRegionCode.toUpperCase());
    if (!region)
      throw new BadUserInputError('filter.coversRegionCode', `unknown region code "${filter.coversRegionCode}"`);
    const coveringIds = region.parentId === null ? [region.id] : [region.id, region.parentId];
    const coveringVersions = qb
      .subQuery()
      .select('covered.policyVersionId')
      .from(PolicyVersionRegion, 'covered')
      .where('covered.regionId IN (:...coveringIds)')
      .getQuery();
    qb.andWhere(`policy.currentVersionId IN ${coveringVersions}`, { coveringIds });
  }
  return qb;
}

function translationsOf(messages: LocalizedMessageInput[], errors: UserError[]): Record<string, string> {
  const translations: Record<string, string> = {};
  messages.forEach((message, index) => {
    if (message.locale in translations) {
      errors.push(
        userError(
          ['lockMessageTranslations', index, 'locale'],
          UserErrorCode.DUPLICATE,
          `locale ${message.locale} is given twice`,
        ),
      );
    }
    translations[message.locale] = message.text.trim();
  });
  return translations;
}

interface ResolvedRules {
  rules: PolicyRules;
  regionIds: number[];
  modelIds: number[];
}

/** Checks references and time bounds; every problem becomes a user error naming its field. */
async function resolveRules(manager: EntityManager, rules: PolicyRules, errors: UserError[]): Promise<ResolvedRules> {
  const regionCodes = rules.regionCodes.map((code) => code.trim().toUpperCase());
  const regions = await manager.findBy(Region, { code: In(regionCodes) });
  const regionByCode = new Map(regions.map((region) => [region.code, region]));
  const seenRegions = new Set<string>();
  regionCodes.forEach((code, index) => {
    if (!regionByCode.has(code))
      errors.push(userError(['regionCodes', index], UserErrorCode.NOT_FOUND, `unknown region code "${code}"`));
    else if (seenRegions.has(code))
      errors.push(userError(['regionCodes', index], UserErrorCode.DUPLICATE, `${code} is listed twice`));
    seenRegions.add(code);
  });
  const models = rules.productScope.length ? await manager.findBy(DeviceModel, { code: In(rules.productScope) }) : [];
  const modelByCode = new Map(models.map((model) => [model.code, model]));
  rules.productScope.forEach((code, index) => {
    if (!modelByCode.has(code))
      errors.push(userError(['productScope', index], UserErrorCode.NOT_FOUND, `no device model has code "${code}"`));
  });
  if (rules.effectiveUntil && rules.effectiveUntil.getTime() <= rules.effectiveFrom.getTime()) {
    errors.push(
      userError(['effectiveUntil'], UserErrorCode.INVALID, 'effectiveUntil must be later than effectiveFrom'),
    );
  }
  return {
    rules: { ...rules, regionCodes: [...seenRegions].sort(), productScope: [...new Set(rules.productScope)].sort() },
    regionIds: [...new Set(regions.map((region) => region.id))],
    modelIds: [...new Set(models.map((model) => model.id))],
  };
}

async function writeCoverage(manager: EntityManager, versionId: number, resolved: ResolvedRules) {
  await manager.delete(PolicyVersionRegion, { policyVersionId: versionId });
  await manager.delete(PolicyVersionDeviceModel, { policyVersionId: versionId });
  await manager.insert(
    PolicyVersionRegion,
    resolved.regionIds.map((regionId) => ({ policyVersionId: versionId, regionId })),
  );
  if (resolved.modelIds.length) {
    await manager.insert(
      PolicyVersionDeviceModel,
      resolved.modelIds.map((deviceModelId) => ({ policyVersionId: versionId, deviceModelId })),
    );
  }
}

function versionColumns(rules: PolicyRules) {
  const { regionCodes: _regions, productScope: _models, ...columns } = rules;
  return columns;
}

async function insertVersion(manager: EntityManager, policyId: number, number: number, resolved: ResolvedRules) {
  const version = await manager.save(
    manager.create(PolicyVersion, { policyId, number, ...versionColumns(resolved.rules) }),
  );
  await writeCoverage(manager, version.id, resolved);
  return version;
}

/** The current version's rules as codes, for copying into a new version and for the audit trail. */
export async function readRules(manager: EntityManager, version: PolicyVersion): Promise<PolicyRules> {
  const regionRows = await manager
    .createQueryBuilder(Region, 'region')
    .innerJoin(PolicyVersionRegion, 'covered', 'covered.regionId = region.id')
    .where('covered.policyVersionId = :versionId', { versionId: version.id })
    .getMany();
  const modelRows = await manager
    .createQueryBuilder(DeviceModel, 'model')
    .innerJoin(PolicyVersionDeviceModel, 'scoped', 'scoped.deviceModelId = model.id')
    .where('scoped.policyVersionId = :versionId', { versionId: version.id })
    .getMany();
  return {
    title: version.title,
    description: version.description,
    legalBasis: version.legalBasis,
    action: version.action,
    mode: version.mode,
    priority: version.priority,
    effectiveFrom: version.effectiveFrom,
    effectiveUntil: version.effectiveUntil,
    lockMessage: version.lockMessage,
    lockMessageTranslations: version.lockMessageTranslations,
    regionCodes: regionRows.map((region) => region.code).sort(),
    productScope: modelRows.map((model) => model.code).sort(),
  };
}

async function findPolicyForChange(
  manager: EntityManager,
  globalId: string,
): Promise<{ policy: Policy; version: PolicyVersion }> {
  const rowId = rowIdOf(globalId, 'Policy');
  // Lock the row so two concurrent edits cannot both create "version n+1" (PostgreSQL); SQLite
  // serialises writers anyway.
  const query = manager.createQueryBuilder(Policy, 'policy').where('policy.id = :rowId', { rowId: rowId ?? -1 });
  if (manager.connection.driver.options.type === 'postgres') query.setLock('pessimistic_write');
  const policy = rowId === null ? null : await query.getOne();
  if (!policy) throw new UserErrorsAbort([userError(['id'], UserErrorCode.NOT_FOUND, 'no policy has this ID')]);
  const version = await manager.findOneByOrFail(PolicyVersion, { id: policy.currentVersionId! });
  return { policy, version };
}

async function auditPolicy(
  manager: EntityManager,
  context: GraphQLContext,
  action: string,
  policy: Policy,
  before: object | null,
  after: object,
) {
  await recordAuditEvent(manager, context, { action, targetType: 'Policy', targetRowId: policy.id, before, after });
}

export async function createPolicy(manager: EntityManager, context: GraphQLContext, input: CreatePolicyInput) {
  const errors: UserError[] = [];
  const resolved = await resolveRules(
    manager,
    {
      title: input.title.trim(),
      description: input.description.trim(),
      legalBasis: input.legalBasis.trim(),
      action: input.action,
      mode: input.mode,
      priority: input.priority,
      effectiveFrom: input.effectiveFrom,
      effectiveUntil: input.effectiveUntil ?? null,
      lockMessage: input.lockMessage.trim(),
      lockMessageTranslations: translationsOf(input.lockMessageTranslations, errors),
      regionCodes: input.regionCodes,
      productScope: input.productScope,
    },
    errors,
  );
  if (await manager.existsBy(Policy, { key: input.key })) {
    errors.push(userError(['key'], UserErrorCode.TAKEN, `a policy with key ${input.key} exists`));
  }
  abortOnUserErrors(errors);

  let policy: Policy;
  try {
    policy = await manager.save(
      manager.create(Policy, { key: input.key, status: PolicyStatus.DRAFT, currentVersionId: null }),
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new UserErrorsAbort([userError(['key'], UserErrorCode.TAKEN, `a policy with key ${input.key} exists`)]);
    throw error;
  }
  const version = await insertVersion(manager, policy.id, 1, resolved);
  policy.currentVersionId = version.id;
  await manager.update(Policy, { id: policy.id }, { currentVersionId: version.id });
  await auditPolicy(manager, context, 'policy.create', policy, null, { ...policy, version: 1, rules: resolved.rules });
  return policy;
}

/** A DRAFT is edited in place (no decision can point at it); an ACTIVE policy gets version n+1. */
export async function updatePolicy(manager: EntityManager, context: GraphQLContext, input: UpdatePolicyInput) {
  const { policy, version } = await findPolicyForChange(manager, input.id);
  if (policy.status === PolicyStatus.RETIRED) {
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'a retired policy cannot be changed')]);
  }
  const before = await readRules(manager, version);
  const errors: UserError[] = [];
  const effectiveUntil = input.clearEffectiveUntil ? null : (input.effectiveUntil ?? before.effectiveUntil);
  const resolved = await resolveRules(
    manager,
    {
      title: input.title?.trim() ?? before.title,
      description: input.description?.trim() ?? before.description,
      legalBasis: input.legalBasis?.trim() ?? before.legalBasis,
      action: input.action ?? before.action,
      mode: input.mode ?? before.mode,
      priority: input.priority ?? before.priority,
      effectiveFrom: input.effectiveFrom ?? before.effectiveFrom,
      effectiveUntil,
      lockMessage: input.lockMessage?.trim() ?? before.lockMessage,
      lockMessageTranslations: input.lockMessageTranslations
        ? translationsOf(input.lockMessageTranslations, errors)
        : before.lockMessageTranslations,
      regionCodes: input.regionCodes ?? before.regionCodes,
      productScope: input.productScope ?? before.productScope,
    },
    errors,
  );
  if (input.clearEffectiveUntil && input.effectiveUntil) {
    errors.push(
      userError(['clearEffectiveUntil'], UserErrorCode.INVALID, 'give effectiveUntil or clearEffectiveUntil, not both'),
    );
  }
  abortOnUserErrors(errors);
  if (JSON.stringify(resolved.rules) === JSON.stringify(before)) return policy;

  if (policy.status === PolicyStatus.DRAFT) {
    await manager.update(PolicyVersion, { id: version.id }, versionColumns(resolved.rules));
    await writeCoverage(manager, version.id, resolved);
  } else {
    const next = await insertVersion(manager, policy.id, version.number + 1, resolved);
    policy.currentVersionId = next.id;
    await manager.update(Policy, { id: policy.id }, { currentVersionId: next.id, updatedAt: new Date() });
  }
  await auditPolicy(
    manager,
    context,
    'policy.update',
    policy,
    { status: policy.status, version: version.number, rules: before },
    {
      status: policy.status,
      version: policy.status === PolicyStatus.DRAFT ? version.number : version.number + 1,
      rules: resolved.rules,
    },
  );
  return manager.findOneByOrFail(Policy, { id: policy.id });
}

export async function activatePolicy(manager: EntityManager, context: GraphQLContext, input: ActivatePolicyInput) {
  const { policy } = await findPolicyForChange(manager, input.id);
  if (policy.status !== PolicyStatus.DRAFT) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.INVALID_STATE, `only a DRAFT policy can be activated; it is ${policy.status}`),
    ]);
  }
  const before = { ...policy };
  policy.status = PolicyStatus.ACTIVE;
  policy.activatedAt = new Date();
  const saved = await manager.save(policy);
  await auditPolicy(manager, context, 'policy.activate', saved, before, saved);
  return saved;
}

export async function retirePolicy(manager: EntityManager, context: GraphQLContext, input: RetirePolicyInput) {
  const { policy } = await findPolicyForChange(manager, input.id);
  if (policy.status === PolicyStatus.RETIRED) {
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'the policy is already retired')]);
  }
  const before = { ...policy };
  policy.status = PolicyStatus.RETIRED;
  policy.retiredAt = new Date();
  const saved = await manager.save(policy);
  await auditPolicy(manager, context, 'policy.retire', saved, before, { ...saved, reason: input.reason.trim() });
  return saved;
}
