import { checkRules } from './policy-rules';
import { EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { encodeGlobalId, rowIdOf } from '../common/global-id';
import { abortOnUserErrors } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { DeviceModel } from '../device-models/device-model.entity';
import { Region } from '../regions/region.entity';
import { Policy, PolicyStatus } from './policy.entity';
import { PolicyChangeKind, PolicyChangeRequest } from './policy-change-request.entity';
import { auditPolicy, requestChange, supersedePendingRequests } from './policy-change-request.service';
import { restrictionReasons } from './restriction';
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

/** Policies by status; conditions on what they say are applied to the version in force by the resolver. */
export function queryPolicies(context: RequestScope, filter?: PolicyFilter | null): SelectQueryBuilder<Policy> {
  const qb: SelectQueryBuilder<Policy> = context.dataSource.getRepository(Policy).createQueryBuilder('policy');
  if (filter?.statuses)
    qb.andWhere('policy.status IN (:...statuses)', { statuses: filter.statuses.length ? filter.statuses : [''] });
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

export interface ResolvedRules {
  rules: PolicyRules;
  regionIds: number[];
  modelIds: number[];
  /** The country of each covered subdivision: covering it adds nothing when the country was covered. */
  parentCodeOf: (regionCode: string) => string | null;
}

/** Checks references and time bounds; every problem becomes a user error naming its field. */
export async function resolveRules(
  manager: EntityManager,
  rules: PolicyRules,
  errors: UserError[],
): Promise<ResolvedRules> {
  const regionCodes = rules.regionCodes.map((code) => code.trim().toUpperCase());
  const regions = await manager.findBy(Region, { code: In(regionCodes) });
  const regionByCode = new Map(regions.map((region) => [region.code, region]));
  const models = rules.productScope.length ? await manager.findBy(DeviceModel, { code: In(rules.productScope) }) : [];
  const modelByCode = new Map(models.map((model) => [model.code, model]));
  errors.push(
    ...checkRules(
      { ...rules, regionCodes },
      { hasRegion: (code) => regionByCode.has(code), hasModel: (code) => modelByCode.has(code) },
    ),
  );
  const parentIds = regions.flatMap((region) => (region.parentId === null ? [] : [region.parentId]));
  const parents = parentIds.length ? await manager.findBy(Region, { id: In(parentIds) }) : [];
  const codeById = new Map(parents.map((parent) => [parent.id, parent.code]));
  return {
    rules: {
      ...rules,
      regionCodes: [...new Set(regionCodes.filter((code) => regionByCode.has(code)))].sort(),
      productScope: [...new Set(rules.productScope)].sort(),
    },
    regionIds: [...new Set(regions.map((region) => region.id))],
    modelIds: [...new Set(models.map((model) => model.id))],
    parentCodeOf: (code) => {
      const parentId = regionByCode.get(code)?.parentId;
      return parentId == null ? null : (codeById.get(parentId) ?? null);
    },
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

/** Who made a version part of its policy, and when. */
export interface Approval {
  approvedAt: Date;
  approvedBy: string;
  changeRequestId: number | null;
}

async function insertVersion(
  manager: EntityManager,
  policyId: number,
  number: number,
  resolved: ResolvedRules,
  approval: Approval | null,
) {
  const version = await manager.save(
    manager.create(PolicyVersion, {
      policyId,
      number,
      ...versionColumns(resolved.rules),
      approvedAt: approval?.approvedAt ?? null,
      approvedBy: approval?.approvedBy ?? null,
      changeRequestId: approval?.changeRequestId ?? null,
    }),
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

export async function findPolicyForChange(
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
  const version = await manager.findOneByOrFail(PolicyVersion, { id: policy.latestVersionId! });
  return { policy, version };
}

export async function createPolicy(manager: EntityManager, context: RequestScope, input: CreatePolicyInput) {
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
      manager.create(Policy, { key: input.key, status: PolicyStatus.DRAFT, latestVersionId: null }),
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new UserErrorsAbort([userError(['key'], UserErrorCode.TAKEN, `a policy with key ${input.key} exists`)]);
    throw error;
  }
  const version = await insertVersion(manager, policy.id, 1, resolved, null);
  policy.latestVersionId = version.id;
  await manager.update(Policy, { id: policy.id }, { latestVersionId: version.id });
  await auditPolicy(manager, context, 'policy.create', policy, null, { ...policy, version: 1, rules: resolved.rules });
  return policy;
}

/** What a policy change did: applied at once, or opened a change request for a second person. */
export interface PolicyChangeOutcome {
  policy: Policy;
  changeRequest: PolicyChangeRequest | null;
}

/** The current (latest approved) version's effectiveFrom or now, whichever is later: a change applies from now on. */
function fromNowOn(before: PolicyRules, now: Date): Date {
  return new Date(Math.max(before.effectiveFrom.getTime(), now.getTime()));
}

/**
 * A DRAFT is edited in place (no decision can point at it). An ACTIVE policy gets version n+1: at
 * once when the change can lock no one, otherwise through a change request. Without an explicit
 * effectiveFrom the new version applies from now on, so the history of what was in force stays true.
 */
export async function updatePolicy(
  manager: EntityManager,
  context: RequestScope,
  input: UpdatePolicyInput,
): Promise<PolicyChangeOutcome> {
  const { policy, version } = await findPolicyForChange(manager, input.id);
  if (policy.status === PolicyStatus.RETIRED) {
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'a retired policy cannot be changed')]);
  }
  const before = await readRules(manager, version);
  const now = new Date();
  const isDraft = policy.status === PolicyStatus.DRAFT;
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
      effectiveFrom: input.effectiveFrom ?? (isDraft ? before.effectiveFrom : fromNowOn(before, now)),
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
  const unchanged = (rules: PolicyRules) =>
    JSON.stringify({ ...rules, effectiveFrom: null }) === JSON.stringify({ ...before, effectiveFrom: null }) &&
    (!input.effectiveFrom || input.effectiveFrom.getTime() === before.effectiveFrom.getTime());
  if (unchanged(resolved.rules)) return { policy, changeRequest: null };

  if (isDraft) {
    await manager.update(PolicyVersion, { id: version.id }, versionColumns(resolved.rules));
    await writeCoverage(manager, version.id, resolved);
    // A pending activation was asked for the draft as it was.
    await supersedePendingRequests(manager, context, policy, 'the draft was edited');
  } else {
    const reasons = restrictionReasons(
      before,
      { ...resolved.rules, effectiveFrom: input.effectiveFrom ?? null },
      resolved.parentCodeOf,
    );
    if (reasons.length > 0) {
      const changeRequest = await requestChange(manager, context, {
        policy,
        kind: PolicyChangeKind.UPDATE,
        baseVersionId: version.id,
        rules: { ...resolved.rules, effectiveFrom: input.effectiveFrom ?? null },
        reasons,
        note: input.note,
      });
      return { policy, changeRequest };
    }
    const next = await applyNewVersion(manager, context, policy, version, before, resolved, {
      approvedAt: now,
      approvedBy: context.actor,
      changeRequestId: null,
    });
    await supersedePendingRequests(manager, context, policy, `version ${next.number} applied first`);
    return { policy: await manager.findOneByOrFail(Policy, { id: policy.id }), changeRequest: null };
  }
  await auditPolicy(
    manager,
    context,
    'policy.update',
    policy,
    { status: policy.status, version: version.number, rules: before },
    { status: policy.status, version: version.number, rules: resolved.rules },
  );
  return { policy: await manager.findOneByOrFail(Policy, { id: policy.id }), changeRequest: null };
}

/**
 * Version n+1 of an ACTIVE policy becomes its latest: applied at once, or on approval of a change
 * request. Audited as `policy.update` with the rules before and after.
 */
export async function applyNewVersion(
  manager: EntityManager,
  context: RequestScope,
  policy: Policy,
  current: PolicyVersion,
  before: PolicyRules,
  resolved: ResolvedRules,
  approval: Approval,
): Promise<PolicyVersion> {
  const next = await insertVersion(manager, policy.id, current.number + 1, resolved, approval);
  policy.latestVersionId = next.id;
  await manager.update(Policy, { id: policy.id }, { latestVersionId: next.id, updatedAt: approval.approvedAt });
  const changeRequestId =
    approval.changeRequestId === null
      ? {}
      : { changeRequestId: encodeGlobalId('PolicyChangeRequest', approval.changeRequestId) };
  await auditPolicy(
    manager,
    context,
    'policy.update',
    policy,
    { status: policy.status, version: current.number, rules: before },
    { status: policy.status, version: next.number, rules: resolved.rules, ...changeRequestId },
  );
  return next;
}

/** Makes a DRAFT ACTIVE: at once in MONITOR mode; in ENFORCE mode through a change request. */
export async function activatePolicy(
  manager: EntityManager,
  context: RequestScope,
  input: ActivatePolicyInput,
): Promise<PolicyChangeOutcome> {
  const { policy, version } = await findPolicyForChange(manager, input.id);
  if (policy.status !== PolicyStatus.DRAFT) {
    throw new UserErrorsAbort([
      userError(['id'], UserErrorCode.INVALID_STATE, `only a DRAFT policy can be activated; it is ${policy.status}`),
    ]);
  }
  const rules = await readRules(manager, version);
  const reasons = restrictionReasons(null, rules, () => null);
  if (reasons.length > 0) {
    const changeRequest = await requestChange(manager, context, {
      policy,
      kind: PolicyChangeKind.ACTIVATE,
      baseVersionId: version.id,
      rules,
      reasons,
      note: input.note,
    });
    return { policy, changeRequest };
  }
  return {
    policy: await activateApproved(manager, context, policy, version, {
      approvedAt: new Date(),
      approvedBy: context.actor,
      changeRequestId: null,
    }),
    changeRequest: null,
  };
}

/** Activation once nobody (or a second person) stands in the way; also how the shipped policy is seeded. */
export async function activateApproved(
  manager: EntityManager,
  context: RequestScope,
  policy: Policy,
  version: PolicyVersion,
  approval: Approval,
): Promise<Policy> {
  await manager.update(PolicyVersion, { id: version.id }, approval);
  const before = { ...policy };
  policy.status = PolicyStatus.ACTIVE;
  policy.activatedAt = approval.approvedAt;
  const saved = await manager.save(policy);
  await auditPolicy(manager, context, 'policy.activate', saved, before, {
    ...saved,
    approvedBy: approval.approvedBy,
    changeRequestId: approval.changeRequestId,
  });
  return saved;
}

/** Retiring can only release devices: it applies at once, and pending requests lapse. */
export async function retirePolicy(manager: EntityManager, context: RequestScope, input: RetirePolicyInput) {
  const { policy } = await findPolicyForChange(manager, input.id);
  if (policy.status === PolicyStatus.RETIRED) {
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'the policy is already retired')]);
  }
  const before = { ...policy };
  policy.status = PolicyStatus.RETIRED;
  policy.retiredAt = new Date();
  const saved = await manager.save(policy);
  await supersedePendingRequests(manager, context, policy, 'the policy was retired');
  await auditPolicy(manager, context, 'policy.retire', saved, before, { ...saved, reason: input.reason.trim() });
  return saved;
}
