import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { findByGlobalId, findOrAbort } from '../common/find-by-global-id';
import { abortOnUserErrors } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { Partner } from '../partners/partner.entity';
import { ApiKey } from './api-key.entity';
import { ApiKeyFilter, CreateApiKeyInput, RevokeApiKeyInput } from './api-key.types';
import { Role } from './roles';
import { UnauthenticatedError, Viewer } from './viewer';
import { announceLive } from '../db/live-events';

const SECRET_PREFIX = 'cgk_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret: 256 random bits, recognisable by its prefix (secret scanners look for such prefixes). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** Keys found in the database are reused this long, so a busy gateway costs no lookup per request. */
const CACHE_MILLISECONDS = 5_000;
/** lastUsedAt is a hint for humans: written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MILLISECONDS = 60_000;

/**
 * Turns a bearer secret into a Viewer. A revocation through any instance takes effect at once: it
 * is announced on the live-event bus (PostgreSQL NOTIFY) and every instance drops the key (the
 * composition root wires the bus to `forgetKey`). Should
 * that bus be down, cached keys are trusted for CACHE_MILLISECONDS at most.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { key: ApiKey; fetchedAt: number }>();
  private readonly bootstrapHash: Buffer | null;

  constructor(
    private readonly dataSource: DataSource,
    bootstrapAdminKey: string | undefined,
    private readonly onError: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
  ) {
    this.bootstrapHash = bootstrapAdminKey ? Buffer.from(hashSecret(bootstrapAdminKey), 'hex') : null;
  }

  async authenticate(secret: string, now = Date.now()): Promise<Viewer> {
    const hash = hashSecret(secret);
    if (this.bootstrapHash && timingSafeEqual(this.bootstrapHash, Buffer.from(hash, 'hex'))) {
      return { keyId: null, name: 'bootstrap admin', role: Role.ADMIN, partnerId: null };
    }
    const key = await this.find(hash, now);
    if (!key) throw new UnauthenticatedError('the API key is not known');
    if (key.revokedAt) throw new UnauthenticatedError('the API key was revoked');
    if (key.expiresAt && key.expiresAt.getTime() <= now) throw new UnauthenticatedError('the API key has expired');
    this.noteUse(key, now);
    return {
      keyId: key.id,
      name: key.name,
      role: key.role,
      partnerId: key.partnerId,
      registeredOperationsOnly: key.registeredOperationsOnly,
      expiresAt: key.expiresAt,
    };
  }

  /** Drops a key from the cache (after a revocation through this instance). */
  forget(secretHash: string): void {
    this.cache.delete(secretHash);
  }

  /** Drops a key, known by its row id, from the cache: it is read afresh at its next use. */
  forgetKey(keyId: number): void {
    for (const [hash, cached] of this.cache) if (cached.key.id === keyId) this.cache.delete(hash);
  }

  private async find(hash: string, now: number): Promise<ApiKey | null> {
    const cached = this.cache.get(hash);
    if (cached && now - cached.fetchedAt < CACHE_MILLISECONDS) return cached.key;
    const key = await this.dataSource.getRepository(ApiKey).findOneBy({ secretHash: hash });
    // Unknown secrets are not cached: a client trying random keys must not grow this map.
    if (key) this.cache.set(hash, { key, fetchedAt: now });
    else this.cache.delete(hash);
    return key;
  }

  private noteUse(key: ApiKey, now: number): void {
    if (key.lastUsedAt && now - key.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MILLISECONDS) return;
    key.lastUsedAt = new Date(now);
    // Not awaited: a request does not wait for bookkeeping, and a failure here must not fail it.
    this.dataSource
      .getRepository(ApiKey)
      .update({ id: key.id }, { lastUsedAt: key.lastUsedAt })
      .catch((error: unknown) => this.onError(`could not record the use of API key ${key.id}: ${String(error)}`));
  }
}

/** The key's audit snapshot: never the digest. */
function auditView(key: ApiKey) {
  const { secretHash: _secretHash, ...rest } = key;
  return rest;
}

export async function createApiKey(
  manager: EntityManager,
  context: RequestScope,
  input: CreateApiKeyInput,
): Promise<{ apiKey: ApiKey; secret: string }> {
  const errors: UserError[] = [];
  const partner = input.partnerId == null ? null : await findByGlobalId(manager, Partner, input.partnerId);
  if (input.partnerId != null && !partner)
    errors.push(userError(['partnerId'], UserErrorCode.NOT_FOUND, 'no partner has this ID'));
  if (input.role === Role.PARTNER && input.partnerId == null)
    errors.push(userError(['partnerId'], UserErrorCode.REQUIRED, 'a PARTNER key needs the partner it acts for'));
  if (input.role !== Role.PARTNER && input.partnerId != null)
    errors.push(userError(['partnerId'], UserErrorCode.INVALID, 'only a PARTNER key belongs to a partner'));
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
    errors.push(userError(['expiresAt'], UserErrorCode.INVALID, 'expiresAt must lie in the future'));
  abortOnUserErrors(errors);
  const secret = generateSecret();
  const apiKey = await manager.save(
    manager.create(ApiKey, {
      name: input.name.trim(),
      role: input.role,
      partnerId: partner?.id ?? null,
      prefix: secret.slice(0, 12),
      secretHash: hashSecret(secret),
      createdAt: new Date(),
      createdBy: context.actor,
      expiresAt: input.expiresAt ?? null,
      // The gateway runs a fixed set of operations: in production its keys run nothing else unless told.
      registeredOperationsOnly:
        input.registeredOperationsOnly ?? (context.settings.production && input.role === Role.GATEWAY),
      revokedAt: null,
      lastUsedAt: null,
    }),
  );
  await recordAuditEvent(manager, context, {
    action: 'apiKey.create',
    targetType: 'ApiKey',
    targetRowId: apiKey.id,
    before: null,
    after: auditView(apiKey),
  });
  return { apiKey, secret };
}

export async function revokeApiKey(manager: EntityManager, context: RequestScope, input: RevokeApiKeyInput) {
  const apiKey = await findOrAbort(manager, ApiKey, input.id, 'id', 'API key');
  if (apiKey.revokedAt)
    throw new UserErrorsAbort([userError(['id'], UserErrorCode.INVALID_STATE, 'the API key is already revoked')]);
  const before = auditView(apiKey);
  apiKey.revokedAt = new Date();
  await manager.update(ApiKey, { id: apiKey.id }, { revokedAt: apiKey.revokedAt });
  await recordAuditEvent(manager, context, {
    action: 'apiKey.revoke',
    targetType: 'ApiKey',
    targetRowId: apiKey.id,
    before,
    after: auditView(apiKey),
  });
  // Every instance drops the key from its cache and closes its live connections once this commits.
  await announceLive(manager, { kind: 'apiKey', keyId: apiKey.id });
  return apiKey;
}

export function queryApiKeys(dataSource: DataSource, filter: ApiKeyFilter | null): SelectQueryBuilder<ApiKey> {
  const qb = dataSource.getRepository(ApiKey).createQueryBuilder('k');
  if (filter?.roles) qb.andWhere('k.role IN (:...roles)', { roles: filter.roles.length ? filter.roles : [''] });
  if (filter?.active === true)
    qb.andWhere('k.revokedAt IS NULL AND (k.expiresAt IS NULL OR k.expiresAt > :now)', { now: new Date() });
  if (filter?.active === false) qb.andWhere('(k.revokedAt IS NOT NULL OR k.expiresAt <= :now)', { now: new Date() });
  return qb;
}
