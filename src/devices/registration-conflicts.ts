/**
 * IMEIs are unique across partners, so `registerDevices` must refuse an IMEI another partner's
 * device holds, and saying so tells the asker that the device exists: an existence oracle, where
 * `device(imei:)` answers null. The answer is made to cost what registering costs:
 *
 * - conflicts with another partner's device are reported only for a manifest that is otherwise
 *   entirely valid (a manifest with any other error reports those errors only);
 * - each such conflict is audited (the device, the asking key, the partner asked for) and counted
 *   in /metrics (`device_registration_conflicts_total`);
 * - a key confined to one partner (PARTNER) has a budget of such conflicts per day
 *   (REGISTRATION_CONFLICTS_PER_DAY, counted like the request budgets: in Redis when REDIS_URL is
 *   set, so it holds across instances). A manifest whose conflicts exceed what is left is refused
 *   without naming them, and a key whose budget is spent is refused every registration with
 *   RATE_LIMITED until its window ends. Keys that may read every partner's devices have no oracle
 *   to fear and no budget.
 * - while the budget cannot be counted (REDIS_URL set, Redis unreachable; it is never counted in
 *   memory, which would give each instance and each restart a whole day again), every registration
 *   of a key with a budget is refused with RATE_LIMITED before its IMEIs are looked up. Refusing
 *   only the manifests holding a conflict would make the refusal itself the answer: one bit per
 *   request about another partner's IMEI, never counted.
 *
 * A partner's own devices are no secret to it: re-registering them is reported as TAKEN in any
 * manifest and costs nothing.
 */
import { DataSource } from 'typeorm';
import { GraphQLError } from 'graphql';
import { auditEventRow } from '../audit/audit.service';
import { AuditEvent } from '../audit/audit-event.entity';
import { BudgetUnavailableError, RateLimitResult, bucketOf } from '../auth/rate-limit';
import { partnerScopeOf } from '../auth/viewer';
import { encodeGlobalId } from '../common/global-id';
import { RequestScope } from '../common/request-scope';
import { inTransaction } from '../db/transactions';
import { registrationBudgetRefusals, registrationConflicts } from '../ops/metrics';

/** Spends from a key's daily budget of conflicts with other partners' devices. */
export interface RegistrationConflictBudget {
  /** Spends `count` conflicts (0 reads the budget); never throws for an exhausted budget. */
  spend(callerId: string, count: number): Promise<RateLimitResult>;
}

/** An IMEI of the manifest that another partner's device holds. */
export interface RegistrationConflict {
  imei: string;
  deviceRowId: number;
}

/** A registration refused because the key's conflict budget is spent (or would be by this manifest). */
export class RegistrationBudgetError extends GraphQLError {
  constructor(message: string, budget: RateLimitResult) {
    const retryAfterSeconds = Math.max(1, Math.ceil((budget.resetAt.getTime() - Date.now()) / 1000));
    super(`${message}; registrations are refused for ${retryAfterSeconds} s`, {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds,
        resetAt: budget.resetAt.toISOString(),
        limit: budget.limit,
      },
    });
  }
}

/** How long a caller is asked to wait when the budget cannot be counted (Redis unreachable). */
const UNCOUNTED_RETRY_SECONDS = 60;

/**
 * A registration refused because the key's budget cannot be counted now, whatever the manifest
 * holds: the same answer for every manifest, so it says nothing about other partners' IMEIs.
 */
function uncountedBudgetError(): GraphQLError {
  return new GraphQLError(
    `this key's daily budget of answers about IMEIs registered by other partners cannot be counted now, so its registrations are refused; retry in ${UNCOUNTED_RETRY_SECONDS} s`,
    { extensions: { code: 'RATE_LIMITED', retryAfterSeconds: UNCOUNTED_RETRY_SECONDS } },
  );
}

/** The caller's budget id, or null when the caller may read every partner's devices (no oracle, no budget). */
function budgetIdOf(context: RequestScope): string | null {
  if (partnerScopeOf(context.viewer) === null) return null;
  return bucketOf(context.viewer, undefined).id;
}

/** Refuses the registration up front when the caller's conflict budget is already spent, or cannot be counted. */
export async function checkConflictBudget(context: RequestScope, budget: RegistrationConflictBudget): Promise<void> {
  const id = budgetIdOf(context);
  if (id === null) return;
  let left: RateLimitResult;
  try {
    left = await budget.spend(id, 0);
  } catch (error) {
    if (!(error instanceof BudgetUnavailableError)) throw error;
    registrationBudgetRefusals.inc();
    throw uncountedBudgetError();
  }
  if (!left.allowed || left.remaining === 0) {
    registrationBudgetRefusals.inc();
    throw new RegistrationBudgetError(
      `this key was told of ${left.limit} IMEIs registered by other partners in its current window (its daily budget)`,
      left,
    );
  }
}

/**
 * Spends the conflicts of an otherwise valid manifest from the caller's budget; refuses the
 * manifest, naming none of them, when they exceed what is left.
 */
export async function spendConflictBudget(
  context: RequestScope,
  budget: RegistrationConflictBudget,
  conflicts: readonly RegistrationConflict[],
): Promise<void> {
  const id = budgetIdOf(context);
  if (id === null || conflicts.length === 0) return;
  let spent: RateLimitResult;
  try {
    spent = await budget.spend(id, conflicts.length);
  } catch (error) {
    // Redis went away after checkConflictBudget read the budget: refused as that check refuses.
    if (!(error instanceof BudgetUnavailableError)) throw error;
    registrationBudgetRefusals.inc();
    throw uncountedBudgetError();
  }
  if (!spent.allowed) {
    registrationBudgetRefusals.inc();
    throw new RegistrationBudgetError(
      `this manifest holds more IMEIs registered by other partners than are left of this key's daily budget of ${spent.limit}`,
      spent,
    );
  }
}

/**
 * Audits each conflict (the device's trail shows who asked about it) and counts it, in a transaction
 * of its own: the registration's was rolled back. `reported` says whether the caller was told.
 */
export async function recordRegistrationConflicts(
  dataSource: DataSource,
  context: RequestScope,
  partnerRowId: number,
  conflicts: readonly RegistrationConflict[],
  reported: boolean,
): Promise<void> {
  if (conflicts.length === 0) return;
  const askedFor = encodeGlobalId('Partner', partnerRowId);
  const rows = conflicts.map((conflict) =>
    auditEventRow(context, {
      action: 'device.registration-conflict',
      targetType: 'Device',
      targetRowId: conflict.deviceRowId,
      relatedTargetId: askedFor,
      before: null,
      after: { imei: conflict.imei, askedForPartnerId: askedFor, reported },
    }),
  );
  await inTransaction(dataSource, async (manager) => {
    for (let start = 0; start < rows.length; start += 500)
      await manager.insert(AuditEvent, rows.slice(start, start + 500) as never);
  });
  registrationConflicts.inc({ reported: String(reported) }, conflicts.length);
}
