import { EntityManager } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { abortOnUserErrors } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Exemption } from './exemption.entity';
import { CreateExemptionInput, RevokeExemptionInput } from './exemption.types';
import { findByGlobalId, findOrAbort } from '../common/find-by-global-id';

export async function createExemption(manager: EntityManager, context: RequestScope, input: CreateExemptionInput) {
  const errors: UserError[] = [];
  const policy = await manager.findOneBy(Policy, { key: input.policyKey });
  if (!policy) errors.push(userError(['policyKey'], UserErrorCode.NOT_FOUND, `no policy has key "${input.policyKey}"`));
  if ((input.deviceId == null) === (input.partnerId == null)) {
    errors.push(userError(['deviceId'], UserErrorCode.INVALID, 'give exactly one of deviceId and partnerId'));
  }
  const device = input.deviceId == null ? null : await findByGlobalId(manager, Device, input.deviceId);
  if (input.deviceId != null && !device)
    errors.push(userError(['deviceId'], UserErrorCode.NOT_FOUND, 'no device has this ID'));
  const partner = input.partnerId == null ? null : await findByGlobalId(manager, Partner, input.partnerId);
  if (input.partnerId != null && !partner) {
    errors.push(userError(['partnerId'], UserErrorCode.NOT_FOUND, 'no partner has this ID'));
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    errors.push(userError(['expiresAt'], UserErrorCode.INVALID, 'expiresAt must lie in the future'));
  }
  abortOnUserErrors(errors);
  const exemption = await manager.save(
    manager.create(Exemption, {
      policyId: policy!.id,
      deviceId: device?.id ?? null,
      partnerId: partner?.id ?? null,
      reason: input.reason.trim(),
      grantedBy: context.actor,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
    }),
  );
  await recordAuditEvent(manager, context, {
    action: 'exemption.create',
    targetType: 'Exemption',
    targetRowId: exemption.id,
    before: null,
    after: { ...exemption, policyKey: policy!.key },
  });
  return exemption;
}

export async function revokeExemption(manager: EntityManager, context: RequestScope, input: RevokeExemptionInput) {
  const exemption = await findOrAbort(manager, Exemption, input.id, 'id', 'exemption');
  if (exemption.revokedAt)
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'the exemption is already revoked')]);
  const before = { ...exemption };
  exemption.revokedAt = new Date();
  const saved = await manager.save(exemption);
  await recordAuditEvent(manager, context, {
    action: 'exemption.revoke',
    targetType: 'Exemption',
    targetRowId: saved.id,
    before,
    after: { ...saved, reason: input.reason.trim() },
  });
  return saved;
}
