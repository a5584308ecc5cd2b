import { DecisionOutcome, RegionSource } from '../../src/activations/activation-attempt.entity';
import { BulkAttempt } from '../../src/activations/attempt-ingest';

/** An attempt allowed by its IP country (Germany), as the bulk path writes it: tests vary only the rest. */
export function allowedByIp(
  deviceId: number,
  occurredAt: Date | string,
  extra: Partial<BulkAttempt> = {},
): BulkAttempt {
  const instant = new Date(occurredAt);
  return {
    deviceId,
    occurredAt: instant,
    receivedAt: instant,
    signals: { ipCountry: 'DE' },
    signalsPurgedAt: null,
    resolvedRegionId: null,
    regionSource: RegionSource.IP,
    outcome: DecisionOutcome.ALLOW,
    enforced: true,
    policyVersionId: null,
    reasonCodes: [],
    reviewStatus: null,
    idempotencyKey: null,
    ...extra,
  };
}
