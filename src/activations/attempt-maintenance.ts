import { DataSource } from 'typeorm';
import { PrivacySettings } from '../config';
import { Logger } from '../ops/logger';
import { DEFAULT_PARTITION, maintainAttemptPartitions, retireAttemptMonths } from './attempt-partitions';
import { purgeIdempotencyKeys } from './idempotency-keys';

/**
 * The attempt history's upkeep, at start and then hourly on every instance (each step is safe to
 * run on several at once): next months' partitions made ahead and rows waiting in the default
 * partition moved into theirs, idempotency keys past IDEMPOTENCY_KEY_RETENTION_DAYS forgotten, and,
 * when ATTEMPT_RETENTION_MONTHS is set, expired months retired. Returns a function that stops it.
 */
export function scheduleAttemptMaintenance(
  dataSource: DataSource,
  retention: PrivacySettings,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  intervalMilliseconds = 3_600_000,
) {
  let running: Promise<unknown> = Promise.resolve();
  const round = async () => {
    const { made, skipped } = await maintainAttemptPartitions(dataSource);
    if (made.length) logger.info(`made attempt partitions ${made.join(', ')}`);
    for (const { month, attempts } of skipped)
      logger.warn(
        `left ${attempts} attempts of ${month.toISOString().slice(0, 7)} in ${DEFAULT_PARTITION}: the month lies outside the history's horizon, so it gets no partition`,
      );
    const forgotten = await purgeIdempotencyKeys(dataSource, retention.idempotencyKeyRetentionDays);
    if (forgotten)
      logger.info(`forgot ${forgotten} idempotency keys older than ${retention.idempotencyKeyRetentionDays} days`);
    if (retention.attemptRetentionMonths > 0 && dataSource.options.type === 'postgres') {
      const { retired, kept } = await retireAttemptMonths(dataSource, { keepMonths: retention.attemptRetentionMonths });
      for (const month of retired) logger.info(`retired ${month.name} (${month.attempts} attempts)`);
      for (const month of kept) logger.warn(`kept ${month.name} past ATTEMPT_RETENTION_MONTHS: ${month.reason}`);
    }
  };
  const run = () => {
    running = round().catch((error: unknown) =>
      logger.error({ error: String(error) }, 'attempt maintenance failed (will retry)'),
    );
  };
  run();
  const timer = setInterval(run, intervalMilliseconds);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
