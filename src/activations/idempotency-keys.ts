import { DataSource, EntityManager, In, LessThan } from 'typeorm';
import { ActivationAttempt } from './activation-attempt.entity';
import { ActivationIdempotencyKey } from './idempotency-key.entity';

/** Keys per DELETE: short statements, so decisions never wait long behind the purge. */
const BATCH_SIZE = 5_000;
const DAY_MILLISECONDS = 86_400_000;

/**
 * The attempt an idempotency key recorded, or null (never recorded, or its key has passed its
 * retention). Read through the key table, then the attempt by id and occurredAt: one partition.
 */
export async function attemptByIdempotencyKey(manager: EntityManager, key: string): Promise<ActivationAttempt | null> {
  const recorded = await manager.findOneBy(ActivationIdempotencyKey, { idempotencyKey: key });
  if (!recorded) return null;
  return manager.findOneBy(ActivationAttempt, { id: recorded.attemptId, occurredAt: recorded.occurredAt });
}

/** Which of these keys are recorded already. */
export async function recordedIdempotencyKeys(dataSource: DataSource, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await dataSource.getRepository(ActivationIdempotencyKey).find({
    select: { idempotencyKey: true },
    where: { idempotencyKey: In(keys) },
  });
  return new Set(rows.map((row) => row.idempotencyKey));
}

/**
 * Forgets the keys recorded more than `retentionDays` ago (IDEMPOTENCY_KEY_RETENTION_DAYS): a retry
 * after that is a new request. The attempts stay. Returns how many keys were forgotten.
 */
export async function purgeIdempotencyKeys(dataSource: DataSource, retentionDays: number, now = new Date()) {
  if (retentionDays <= 0) return 0;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MILLISECONDS);
  const repository = dataSource.getRepository(ActivationIdempotencyKey);
  let purged = 0;
  for (;;) {
    const batch = await repository.find({
      select: { idempotencyKey: true },
      where: { recordedAt: LessThan(cutoff) },
      take: BATCH_SIZE,
    });
    if (batch.length === 0) return purged;
    await repository.delete({ idempotencyKey: In(batch.map((row) => row.idempotencyKey)) });
    purged += batch.length;
  }
}
