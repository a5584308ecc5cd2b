import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { saveOrReportTaken } from '../common/db-errors';
import { UserErrorCode, userError } from '../common/errors';
import { containsPattern } from '../common/like';
import { RequestScope } from '../common/request-scope';
import { Partner } from './partner.entity';
import { CreatePartnerInput, PartnerFilter, UpdatePartnerInput } from './partner.types';
import { findByGlobalId, findOrAbort } from '../common/find-by-global-id';
import { rowIdOf } from '../common/global-id';
import { partnerScopeOf } from '../auth/viewer';

/** Partners matching the filter; a PARTNER caller (`partnerScope`) sees only itself. */
export function queryPartners(
  dataSource: DataSource,
  filter: PartnerFilter | null | undefined,
  partnerScope: number | null,
): SelectQueryBuilder<Partner> {
  const qb = dataSource.getRepository(Partner).createQueryBuilder('partner');
  if (partnerScope !== null) qb.andWhere('partner.id = :partnerScope', { partnerScope });
  if (filter?.kind) qb.andWhere('partner.kind = :kind', { kind: filter.kind });
  if (filter?.nameContains) {
    qb.andWhere("LOWER(partner.name) LIKE :namePattern ESCAPE '\\'", {
      namePattern: containsPattern(filter.nameContains),
    });
  }
  return qb;
}

function savePartner(manager: EntityManager, partner: Partner): Promise<Partner> {
  return saveOrReportTaken(
    manager,
    partner,
    userError(['name'], UserErrorCode.TAKEN, `a partner named "${partner.name}" exists`),
  );
}

export async function createPartner(manager: EntityManager, context: RequestScope, input: CreatePartnerInput) {
  const partner = manager.create(Partner, {
    name: input.name.trim(),
    kind: input.kind,
    contactEmail: input.contactEmail ?? null,
  });
  const saved = await savePartner(manager, partner);
  await recordAuditEvent(manager, context, {
    action: 'partner.create',
    targetType: 'Partner',
    targetRowId: saved.id,
    before: null,
    after: saved,
  });
  return saved;
}

export async function updatePartner(manager: EntityManager, context: RequestScope, input: UpdatePartnerInput) {
  const partner = await findOrAbort(manager, Partner, input.id, 'id', 'partner');
  const before = { ...partner };
  if (input.name != null) partner.name = input.name.trim();
  if (input.kind != null) partner.kind = input.kind;
  if (input.contactEmail !== undefined) partner.contactEmail = input.contactEmail;
  const saved = await savePartner(manager, partner);
  await recordAuditEvent(manager, context, {
    action: 'partner.update',
    targetType: 'Partner',
    targetRowId: saved.id,
    before,
    after: saved,
  });
  return saved;
}

/**
 * The partner a global ID names, as the caller may act for it: a PARTNER key only for its own —
 * another partner's ID reads as unknown, like a wrong one. Null when there is none.
 */
export async function partnerInScope(
  manager: EntityManager,
  context: RequestScope,
  globalId: string,
): Promise<Partner | null> {
  const scope = partnerScopeOf(context.viewer);
  if (scope !== null && rowIdOf(globalId, 'Partner') !== scope) return null;
  return findByGlobalId(manager, Partner, globalId);
}
