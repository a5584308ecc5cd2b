import { DataSource, IsNull, LessThan } from 'typeorm';
import { Logger } from '../ops/logger';
import { ActivationAttempt } from './activation-attempt.entity';
import { Progress, silentProgress } from '../ops/progress';

/** Rows per UPDATE: short transactions, so decisions never wait long behind a purge. */
const BATCH_SIZE = 2_000;
const DAY_MILLISECONDS = 86_400_000;

/**
 * Erases the raw signals (GPS fix, serving network, SIM network, IP country) of attempts older than the retention
 * period. What the decision was stays: resolved region, source, outcome, policy version, reason
 * codes and the evidence, which names regions and findings but no coordinates. Returns how many
 * attempts were purged. Safe to run on several instances at once: each row is purged once.
 */
export async function purgeExpiredSignals(
  dataSource: DataSource,
  retentionDays: number,
  now = new Date(),
  progress: Progress = silentProgress,
): Promise<number> {
  if (retentionDays <= 0) return 0;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MILLISECONDS);
  const repository = dataSource.getRepository(ActivationAttempt);
  let purged = 0;
  for (;;) {
    const batch = await repository.find({
      select: { id: true },
      where: { occurredAt: LessThan(cutoff), signalsPurgedAt: IsNull() },
      order: { id: 'ASC' },
      take: BATCH_SIZE,
    });
    if (batch.length === 0) return purged;
    const result = await repository
      .createQueryBuilder()
      .update(ActivationAttempt)
      .set({ signals: { gps: null, cell: null, sim: null, ipCountry: null }, signalsPurgedAt: now })
      .whereInIds(batch.map((row) => row.id))
      .andWhere({ signalsPurgedAt: IsNull() })
      .execute();
    purged += result.affected ?? batch.length;
    progress.advance(batch.length);
  }
}

/** How many attempts the purge at `now` has to erase (for a progress bar's total). */
export function countExpiredSignals(dataSource: DataSource, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MILLISECONDS);
  return dataSource
    .getRepository(ActivationAttempt)
    .count({ where: { occurredAt: LessThan(cutoff), signalsPurgedAt: IsNull() } });
}

/** Purges at start and then every `intervalMilliseconds`; returns a function that stops it. */
export function schedulePurge(
  dataSource: DataSource,
  retentionDays: number,
  logger: Pick<Logger, 'info' | 'error'>,
  intervalMilliseconds = 3_600_000,
) {
  if (retentionDays <= 0) return () => undefined;
  let running: Promise<unknown> = Promise.resolve();
  const purge = () => {
    running = purgeExpiredSignals(dataSource, retentionDays)
      .then((count) => {
        if (count > 0) logger.info(`purged the raw signals of ${count} attempts older than ${retentionDays} days`);
      })
      .catch((error: unknown) => logger.error({ error: String(error) }, 'signal purge failed (will retry)'));
  };
  purge();
  const timer = setInterval(purge, intervalMilliseconds);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
