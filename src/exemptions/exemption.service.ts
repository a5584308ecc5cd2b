import { EntityManager } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { abortOnUserErrors } from '../common/mutation';
import { GraphQLContext } from '../context';
import { Device } from '../devices/device.entity';
import { Partner } from '../partners/partner.entity';
import { Policy } from '../policies/policy.entity';
import { Exemption } from './exemption.entity';
import { CreateExemptionInput, RevokeExemptionInput } from './exemption.types';

export async function createExemption(manager: EntityManager, context: GraphQLContext, input: CreateExemptionInput) {
  const errors: UserError[] = [];
  const policy = await manager.findOneBy(Policy, { key: input.policyKey });
  if (!policy) errors.push(userError(['policyKey'], UserErrorCode.NOT_FOUND, `no policy has key "${input.policyKey}"`));
  if ((input.deviceId == null) === (input.partnerId == null)) {
    errors.push(userError(['deviceId'], UserErrorCode.INVALID, 'give exactly one of deviceId and partnerId'));
  }
  const deviceRowId = input.deviceId == null ? null : rowIdOf(input.deviceId, 'Device');
  if (input.deviceId != null && (deviceRowId === null || !(await manager.existsBy(Device, { id: deviceRowId })))) {
    errors.push(userError(['deviceId'], UserErrorCode.NOT_FOUND, 'no device has this ID'));
  }
  const partnerRowId = input.partnerId == null ? null : rowIdOf(input.partnerId, 'Partner');
  if (input.partnerId != null && (partnerRowId === null || !(await manager.existsBy(Partner, { id: partnerRowId })))) {
    errors.push(userError(['partnerId'], UserErrorCode.NOT_FOUND, 'no partner has this ID'));
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    errors.push(userError(['expiresAt'], UserErrorCode.INVALID, 'expiresAt must lie in the future'));
  }
  abortOnUserErrors(errors);
  const exemption = await manager.save(
    manager.create(Exemption, {
      policyId: policy!.id,
      deviceId: deviceRowId,
      partnerId: partnerRowId,
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

export async function revokeExemption(manager: EntityManager, context: GraphQLContext, input: RevokeExemptionInput) {
  const rowId = rowIdOf(input.id, 'Exemption');
  const exemption = rowId === null ? null : await manager.findOneBy(Exemption, { id: rowId });
  if (!exemption) throw new UserErrorsAbort([userError(['id'], UserErrorCode.NOT_FOUND, 'no exemption has this ID')]);
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
