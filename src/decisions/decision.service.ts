import { attemptByIdempotencyKey } from '../activations/idempotency-keys';
import { ATTEMPT_CLOCK_SKEW_MS } from '../activations/attempt-horizon';
import { createHash } from 'node:crypto';
import { textLengthError } from '../common/text-length';
import {
  ActivationAttempt,
  GeoPoint,
  DecisionOutcome,
  RegionSource,
  ReviewStatus,
} from '../activations/activation-attempt.entity';
import { BadUserInputError, UserError, UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { abortOnUserErrors, runMutation } from '../common/mutation';
import { PrivacySettings } from '../config';
import { RequestScope, ScopeWithLoaders } from '../common/request-scope';
import type { DeviceModelLoaders } from '../device-models/device-model.loaders';
import type { PolicyLoaders } from '../policies/policy.loaders';
import { DeviceStatus } from '../devices/device.entity';
import { imeiProblem, imeiProblemMessages } from '../devices/imei';
import { DecisionDeviceChange, DeviceMovedOn } from '../devices/device-lifecycle';
import { fixInstant } from './engine/signal-readers';
import { Decision } from './engine/types';
import { isUniqueViolation } from '../common/db-errors';
import { decisionLatency, decisions as decisionMetrics } from '../ops/metrics';
import { AttemptRow, DecisionStore, DeviceForDecision } from './decision-store';
import { CompiledRules, Evaluator } from './evaluator';
import { explanationForClients, toStoredExplanation } from './explanation';
import { ActivationDecision, DecideActivationInput } from './decision.types';
import type { LiveEvents } from '../db/live-events';

/** What deciding takes from the composition root: the rules cache and the hot-path writer. */
export interface DecisionServices {
  evaluator: Evaluator;
  decisionStore: DecisionStore;
  /** Where committed decisions are announced to live subscribers on every instance. */
  liveEvents: Pick<LiveEvents, 'publish'>;
}

/** Deciding reads device models (a model the rules do not know yet) and policy versions (lock messages). */
export type DecisionScope = ScopeWithLoaders<DeviceModelLoaders & PolicyLoaders>;

/**
 * How long after it happened an attempt may still be decided: a gateway's backlog, not history
 * (older attempts are imported: src/activations/attempt-import.ts). Without it any instant was
 * taken — the year 1 or 1970 — and on PostgreSQL each month sent became a partition of its own.
 */
const MAX_ATTEMPT_AGE_DAYS = 730;
const MAX_ATTEMPT_AGE_MS = MAX_ATTEMPT_AGE_DAYS * 86_400_000;

/** An MCC and MNC as the network tables know them; the same rule for the SIM and the serving cell. */
function checkNetworkCode(field: 'sim' | 'cell', code: { mcc: string; mnc?: string | null }, errors: UserError[]) {
  if (!/^\d{3}$/.test(code.mcc))
    errors.push(userError(['signals', field, 'mcc'], UserErrorCode.INVALID, 'mcc must be 3 digits'));
  if (code.mnc != null && !/^\d{2,3}$/.test(code.mnc)) {
    errors.push(userError(['signals', field, 'mnc'], UserErrorCode.INVALID, 'mnc must be 2 or 3 digits'));
  }
}

/** Every problem with the input, each naming its field; nothing is decided or written when any exists. */
export function checkDecideInput(input: DecideActivationInput, now: Date): UserError[] {
  const errors: UserError[] = [];
  const problem = imeiProblem(input.imei);
  if (problem) {
    const code = problem === 'CHECKSUM' ? UserErrorCode.INVALID_CHECKSUM : UserErrorCode.INVALID;
    errors.push(userError(['imei'], code, `imei ${imeiProblemMessages[problem]}`));
  }
  const keyProblem =
    input.idempotencyKey == null ? null : textLengthError(['idempotencyKey'], input.idempotencyKey, 1, 200);
  if (keyProblem) errors.push(keyProblem);
  // The clock-skew allowance (phone, gateway and server clocks) is the one every path that stores
  // attempts uses: src/activations/attempt-horizon.ts; it also bounds a GPS fix's time below.
  if (input.occurredAt && input.occurredAt.getTime() > now.getTime() + ATTEMPT_CLOCK_SKEW_MS) {
    errors.push(userError(['occurredAt'], UserErrorCode.INVALID, 'occurredAt lies in the future'));
  } else if (input.occurredAt && input.occurredAt.getTime() < now.getTime() - MAX_ATTEMPT_AGE_MS) {
    errors.push(
      userError(
        ['occurredAt'],
        UserErrorCode.INVALID,
        `occurredAt lies more than ${MAX_ATTEMPT_AGE_DAYS} days in the past: attempts that old are imported, not decided`,
      ),
    );
  }
  if (input.locale != null && !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(input.locale)) {
    errors.push(userError(['locale'], UserErrorCode.INVALID, 'locale must be a language tag such as "ru" or "pt-BR"'));
  }
  const { gps, cell, sim, ipCountry } = input.signals;
  if (gps) {
    if (!Number.isFinite(gps.latitude) || gps.latitude < -90 || gps.latitude > 90) {
      errors.push(userError(['signals', 'gps', 'latitude'], UserErrorCode.INVALID, 'latitude must be from -90 to 90'));
    }
    if (!Number.isFinite(gps.longitude) || gps.longitude < -180 || gps.longitude > 180) {
      errors.push(
        userError(['signals', 'gps', 'longitude'], UserErrorCode.INVALID, 'longitude must be from -180 to 180'),
      );
    }
    if (gps.accuracyMeters != null && (!Number.isFinite(gps.accuracyMeters) || gps.accuracyMeters < 0)) {
      errors.push(
        userError(['signals', 'gps', 'accuracyMeters'], UserErrorCode.INVALID, 'accuracyMeters must not be negative'),
      );
    }
    const occurredAt = input.occurredAt ?? now;
    if (gps.fixedAt && gps.fixedAt.getTime() > occurredAt.getTime() + ATTEMPT_CLOCK_SKEW_MS) {
      errors.push(
        userError(
          ['signals', 'gps', 'fixedAt'],
          UserErrorCode.INVALID,
          `fixedAt must not lie more than ${ATTEMPT_CLOCK_SKEW_MS / 60_000} minutes after occurredAt (clock skew allowance)`,
        ),
      );
    }
  }
  if (cell) checkNetworkCode('cell', cell, errors);
  if (sim) checkNetworkCode('sim', sim, errors);
  if (ipCountry != null && !/^[A-Za-z]{2}$/.test(ipCountry)) {
    errors.push(
      userError(['signals', 'ipCountry'], UserErrorCode.INVALID, 'ipCountry must be an ISO 3166-1 alpha-2 code'),
    );
  }
  return errors;
}

export interface DecisionWork {
  imei: string;
  device: DeviceForDecision;
  decision: Decision;
  regionId: number | null;
  occurredAt: Date;
}

/** Decides without writing: shared by previewDecision and decideActivation. */
export async function decideFor(
  context: ScopeWithLoaders<DeviceModelLoaders>,
  services: DecisionServices,
  input: DecideActivationInput,
  now: Date,
  compiledRules?: Promise<CompiledRules>,
): Promise<DecisionWork> {
  const occurredAt = input.occurredAt ?? now;
  const [device, rules] = await Promise.all([
    services.decisionStore.findDevice(input.imei, occurredAt),
    compiledRules ?? services.evaluator.current(),
  ]);
  if (!device)
    throw new UserErrorsAbort([
      userError(['imei'], UserErrorCode.NOT_FOUND, `no device is registered with imei ${input.imei}`),
    ]);
  const decision = rules.engine.decide(
    input.signals,
    {
      deviceId: device.id,
      modelCode:
        rules.modelCodeById.get(device.modelId) ?? (await context.loaders.deviceModelById.load(device.modelId))!.code,
      partnerId: device.partnerId,
      locked: device.status === DeviceStatus.LOCKED,
      lockedByVersionId: device.status === DeviceStatus.LOCKED ? device.lockedByVersionId : null,
      neighbourFixes: device.neighbourFixes,
    },
    occurredAt,
  );
  const regionId = decision.regionCode ? (rules.regionIdByCode.get(decision.regionCode) ?? null) : null;
  return { imei: input.imei, device, decision, regionId, occurredAt };
}

/**
 * The answer as clients see it, from a stored attempt (a fresh one, or the original of a retry). Its
 * lock message is read only when a client asks for it (ActivationDecision.lockMessage): a gateway
 * enforcing an outcome does not need the policy version's row.
 */
export function decisionOfAttempt(
  attempt: Pick<
    ActivationAttempt,
    'outcome' | 'enforced' | 'resolvedRegionId' | 'regionSource' | 'policyVersionId' | 'reasonCodes' | 'explanation'
  >,
  locale: string | null | undefined,
): ActivationDecision {
  return Object.assign(new ActivationDecision(), {
    outcome: attempt.outcome,
    enforced: attempt.enforced,
    regionId: attempt.resolvedRegionId,
    regionSource: attempt.regionSource,
    policyVersionId: attempt.policyVersionId,
    reasonCodes: attempt.reasonCodes,
    locale: locale ?? null,
    explanation: explanationForClients(attempt.explanation, attempt),
  });
}

/**
 * A fix as it is kept: the decision used every digit, the record keeps `decimals` (personal data),
 * with when it was taken and whether it was mocked (evidence a reviewer and a replay need).
 */
function storedFix(gps: GeoPoint | null | undefined, decimals: number): GeoPoint | null {
  if (!gps) return null;
  const round = (degrees: number) => Number(degrees.toFixed(decimals));
  return {
    latitude: round(gps.latitude),
    longitude: round(gps.longitude),
    accuracyMeters: gps.accuracyMeters ?? null,
    ...(gps.fixedAt ? { fixedAt: gps.fixedAt } : {}),
    ...(gps.mock != null ? { mock: gps.mock } : {}),
  };
}

/** How the decision read the fix: when it was usable evidence, its instant; the speed it implied, if it was checked. */
function fixFacts(work: DecisionWork, gps: GeoPoint | null | undefined) {
  const reading = work.decision.readings.find((candidate) => candidate.source === 'GPS');
  const speed = reading?.speedKmh;
  return {
    usableFixAt: gps && reading?.assessment === 'USABLE' ? new Date(fixInstant(gps, work.occurredAt.getTime())) : null,
    // "Infinitely fast" (two places at once) is kept as a finite number both databases store.
    fixSpeedKmh: speed === undefined ? null : Math.min(speed, MAX_STORED_SPEED_KMH),
  };
}

/** Far beyond any IMPOSSIBLE_TRAVEL_KMH setting. */
const MAX_STORED_SPEED_KMH = 1e9;

/** The attempt row a decision becomes. */
export function attemptRow(
  work: DecisionWork,
  input: DecideActivationInput,
  receivedAt: Date,
  privacy: PrivacySettings,
) {
  const { decision } = work;
  return {
    deviceId: work.device.id,
    occurredAt: work.occurredAt,
    receivedAt,
    signals: {
      gps: storedFix(input.signals.gps, privacy.storedCoordinateDecimals),
      // Only the network's MCC and MNC are accepted and kept (no cell identity: personal data).
      cell: input.signals.cell ? { mcc: input.signals.cell.mcc, mnc: input.signals.cell.mnc ?? null } : null,
      sim: input.signals.sim ?? null,
      ipCountry: input.signals.ipCountry?.toUpperCase() ?? null,
    },
    ...fixFacts(work, input.signals.gps),
    resolvedRegionId: work.regionId,
    regionSource: decision.regionSource as RegionSource,
    outcome: decision.outcome as DecisionOutcome,
    enforced: decision.enforced,
    policyVersionId: decision.policyVersionId,
    reasonCodes: decision.reasonCodes,
    explanation: toStoredExplanation(decision),
    reviewStatus: decision.outcome === 'REVIEW' && decision.enforced ? ReviewStatus.OPEN : null,
    idempotencyKey: input.idempotencyKey ?? null,
    requestFingerprint: input.idempotencyKey ? requestFingerprint(input) : null,
  };
}

/**
 * What makes two decideActivation requests the same request, as a SHA-256 of its canonical form:
 * the device, the instant claimed and every signal. The locale is left out: it only chooses the
 * language the stored decision is explained in, and a retry is answered in its own.
 */
export function requestFingerprint(input: DecideActivationInput): string {
  const { gps, sim, cell, ipCountry } = input.signals;
  // The evidence signals added later (the fix's instant and mock flag, the serving cell) are appended
  // only when sent, so a request without them keeps the fingerprint stored before they existed.
  const fixEvidence =
    gps && (gps.fixedAt || gps.mock != null) ? [gps.fixedAt?.toISOString() ?? null, gps.mock ?? null] : [];
  const canonical = [
    input.imei,
    input.occurredAt?.toISOString() ?? null,
    gps ? [gps.latitude, gps.longitude, gps.accuracyMeters ?? null, ...fixEvidence] : null,
    sim ? [sim.mcc, sim.mnc ?? null] : null,
    ipCountry?.toUpperCase() ?? null,
    ...(cell ? [[cell.mcc, cell.mnc ?? null]] : []),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * What recording a decision does to the device, worked out by the device lifecycle before the
 * write (the attempt's id is filled in there); null when nothing (an active device allowed again).
 */
export function consequencesOf(
  context: RequestScope,
  decisionStore: DecisionStore,
  work: DecisionWork,
  row: ReturnType<typeof attemptRow>,
): DecisionDeviceChange | null {
  const { device, decision } = work;
  return decisionStore.lifecycle.change(
    context,
    { ...device, imei: work.imei },
    {
      outcome: decision.outcome,
      enforced: decision.enforced,
      reasonCodes: decision.reasonCodes,
      policyVersionId: decision.policyVersionId,
      resolvedRegionId: row.resolvedRegionId,
      occurredAt: work.occurredAt,
      receivedAt: row.receivedAt,
    },
    row.reviewStatus === ReviewStatus.OPEN,
  );
}

/** Records the attempt and its consequences in one short transaction. */
export async function recordDecision(
  context: RequestScope,
  { decisionStore, liveEvents }: DecisionServices,
  work: DecisionWork,
  row: ReturnType<typeof attemptRow>,
): Promise<ActivationAttempt> {
  const consequences = consequencesOf(context, decisionStore, work, row);
  const attemptId = await decisionStore.record(
    { ...row, signalsPurgedAt: null, reviewedAt: null, reviewedBy: null, reviewNote: null } as AttemptRow,
    consequences,
  );
  // Committed: now (never before) subscribers on every instance may hear of it.
  const occurredAt = row.occurredAt.toISOString();
  liveEvents.publish([
    { kind: 'decision', attemptId, occurredAt, partnerId: work.device.partnerId, committedAt: Date.now() },
    ...(row.reviewStatus === ReviewStatus.OPEN
      ? [{ kind: 'review' as const, attemptId, occurredAt, change: 'OPENED' as const }]
      : []),
    ...(consequences?.changesStatus ? [{ kind: 'device' as const, deviceId: work.device.id }] : []),
  ]);
  return Object.assign(new ActivationAttempt(), row, { id: attemptId });
}

/**
 * How often a decision is taken again when its device changed under it. Each round follows a
 * change that committed, so a third loss means a device changing faster than it is decided: a fault.
 */
const MAX_DECISION_ROUNDS = 3;

export interface DecideActivationOutcome {
  decision: ActivationDecision | null;
  attempt: ActivationAttempt | null;
  userErrors: UserError[];
}

/**
 * The decide workflow: check the input, decide, record the attempt with its consequences, answer.
 * A retry with the same idempotencyKey — even one racing the original — answers with what the
 * original recorded and writes nothing (the unique index decides who was first).
 */
export async function decideActivation(
  context: DecisionScope,
  services: DecisionServices,
  input: DecideActivationInput,
): Promise<DecideActivationOutcome> {
  const now = new Date();
  // The decision store commits in its own short statements: the runner brings no transaction.
  const { result, userErrors } = await runMutation(
    context,
    input,
    async () => {
      abortOnUserErrors(checkDecideInput(input, now));
      let work: DecisionWork;
      let attempt: ActivationAttempt;
      for (let round = 1; ; round += 1) {
        work = await decideFor(context, services, input, now);
        const row = attemptRow(work, input, now, context.settings.privacy);
        try {
          attempt = await recordDecision(context, services, work, row);
          break;
        } catch (error) {
          // Another change to the device committed between its read and this write: decide again
          // against the device as it now is (a lock that won is then answered as already locked).
          if (error instanceof DeviceMovedOn && round < MAX_DECISION_ROUNDS) continue;
          if (!input.idempotencyKey || !isUniqueViolation(error)) throw error;
          return answerRetry(context, input, work, error);
        }
      }
      decisionMetrics.inc({
        outcome: attempt.outcome,
        region: work.decision.regionCode ?? 'none',
        enforced: String(attempt.enforced),
      });
      decisionLatency.observe((Date.now() - now.getTime()) / 1000);
      return { decision: decisionOfAttempt(attempt, input.locale), attempt };
    },
    { transaction: false },
  );
  return { decision: result?.decision ?? null, attempt: result?.attempt ?? null, userErrors };
}

/** A retry raced the original (or came after it): the answer is what the original recorded. */
async function answerRetry(
  context: DecisionScope,
  input: DecideActivationInput,
  work: DecisionWork,
  violation: unknown,
): Promise<{ decision: ActivationDecision; attempt: ActivationAttempt }> {
  const original = await attemptByIdempotencyKey(context.dataSource.manager, input.idempotencyKey!);
  if (!original) throw violation;
  if (original.deviceId !== work.device.id) {
    throw new UserErrorsAbort([
      userError(['idempotencyKey'], UserErrorCode.TAKEN, 'this idempotencyKey was used for another device'),
    ]);
  }
  // As payment APIs do: the same key with another request is refused, never answered with the
  // first request's decision (a fix in Crimea must not come back as an earlier ALLOW).
  if (original.requestFingerprint !== null && original.requestFingerprint !== requestFingerprint(input)) {
    throw new UserErrorsAbort([
      userError(
        ['idempotencyKey'],
        UserErrorCode.IDEMPOTENCY_CONFLICT,
        'this idempotencyKey was used with a different request (occurredAt or signals); use a new key for a new request',
      ),
    ]);
  }
  return { decision: decisionOfAttempt(original, input.locale), attempt: original };
}

/**
 * The decision decideActivation would take, now or with the rules of `asOf`; writes nothing. A
 * query, so a bad input is a top-level BAD_USER_INPUT naming the field.
 */
export async function previewDecision(
  context: DecisionScope,
  services: DecisionServices,
  input: DecideActivationInput,
  asOf: Date | null,
): Promise<ActivationDecision> {
  const now = new Date();
  const [problem] = checkDecideInput(input, asOf ?? now);
  if (problem) throw BadUserInputError.of(problem);
  try {
    const work = asOf
      ? await decideFor(
          context,
          services,
          { ...input, occurredAt: input.occurredAt ?? asOf },
          asOf,
          services.evaluator.compile(asOf),
        )
      : await decideFor(context, services, input, now);
    return decisionOfAttempt(attemptRow(work, input, now, context.settings.privacy), input.locale);
  } catch (error) {
    if (error instanceof UserErrorsAbort) {
      throw BadUserInputError.of(error.userErrors[0]);
    }
    throw error;
  }
}
