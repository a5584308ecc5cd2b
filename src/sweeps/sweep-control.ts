import { EntityManager } from 'typeorm';
import { recordAuditEvent } from '../audit/audit.service';
import { UserErrorCode, UserErrorsAbort, userError } from '../common/errors';
import { rowIdOf } from '../common/global-id';
import { MutationOutcome, runMutation } from '../common/mutation';
import { RequestScope } from '../common/request-scope';
import { announceLive } from '../db/live-events';
import { CompiledRules } from '../decisions/evaluator';
import { Sweep, SweepBreakdown, SweepStatus } from './sweep.entity';
import { lockSweep } from './sweep-runner';
import {
  countChange,
  emptyBreakdown,
  estimateCandidates,
  nextCandidates,
  plannedChanges,
  sweepScope,
  sweepTransitions,
} from './sweep.service';
import { StartSweepInput, SweepBreakdownCounts, SweepControlInput, SweepPreview } from './sweep.types';

/*
 * The sweep workflow as mutations run it: start (or dry-run), pause, resume, cancel. Each goes
 * through the mutation runner like every other mutation; the resolver only wakes the runner.
 */

/** How many devices a dry run names. */
export const PREVIEW_SAMPLE_SIZE = 20;
const PREVIEW_CHUNK = 1_000;

/** What a sweep's start needs beyond the request: the rules every candidate is judged by. */
export interface SweepServices {
  evaluator: { current(): Promise<CompiledRules> };
}

export function breakdownCounts(breakdown: SweepBreakdown): SweepBreakdownCounts {
  const rows = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([key, devices]) => ({ key: Number(key), devices }))
      .sort((a, b) => b.devices - a.devices || a.key - b.key);
  return { byRegion: rows(breakdown.byRegion), byModel: rows(breakdown.byModel), byPartner: rows(breakdown.byPartner) };
}

/** A dry run: every candidate judged exactly as a real run would judge it now, nothing written. */
async function previewSweep(
  manager: EntityManager,
  rules: CompiledRules,
  input: StartSweepInput,
): Promise<SweepPreview> {
  const scope = await sweepScope(manager, rules, input.policyKey, input.action);
  const breakdown = emptyBreakdown();
  const preview: SweepPreview = {
    action: input.action,
    total: 0,
    changed: 0,
    breakdown: breakdownCounts(breakdown),
    sampleDeviceIds: [],
  };
  const now = new Date();
  for (let after = 0; ;) {
    const candidates = await nextCandidates(manager, scope, after, PREVIEW_CHUNK);
    const { devices } = candidates;
    preview.total += devices.length;
    for (const change of plannedChanges(scope, candidates, now)) {
      preview.changed += 1;
      countChange(breakdown, change);
      if (preview.sampleDeviceIds.length < PREVIEW_SAMPLE_SIZE) preview.sampleDeviceIds.push(change.device.id);
    }
    if (devices.length < PREVIEW_CHUNK) break;
    after = devices[devices.length - 1].id;
  }
  preview.breakdown = breakdownCounts(breakdown);
  return preview;
}

/** A real run's start: the sweep row (one running per policy) and its audit event; the runner does the rest. */
async function createSweep(
  manager: EntityManager,
  context: RequestScope,
  rules: CompiledRules,
  input: StartSweepInput,
): Promise<Sweep> {
  const scope = await sweepScope(manager, rules, input.policyKey, input.action);
  const running = await manager.findOneBy(Sweep, { policyId: scope.policy.id, status: SweepStatus.RUNNING });
  if (running) {
    throw new UserErrorsAbort([
      userError(['policyKey'], UserErrorCode.INVALID_STATE, `sweep ${running.globalId} is running for this policy`),
    ]);
  }
  const now = new Date();
  const sweep = await manager.save(
    manager.create(Sweep, {
      policyId: scope.policy.id,
      action: input.action,
      status: SweepStatus.RUNNING,
      note: input.note?.trim() ?? '',
      total: await estimateCandidates(manager, scope),
      processed: 0,
      changed: 0,
      failed: 0,
      breakdown: emptyBreakdown(),
      cursor: 0,
      leaseOwner: null,
      leaseUntil: null,
      startedBy: context.actor,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
    }),
  );
  await recordAuditEvent(manager, context, {
    action: 'sweep.start',
    targetType: 'Sweep',
    targetRowId: sweep.id,
    before: null,
    after: { policyKey: scope.policy.key, action: sweep.action, total: sweep.total, note: sweep.note },
  });
  return sweep;
}

/**
 * startSweep: a dry run counts what the sweep would change and writes nothing (no transaction);
 * a real run records the sweep for the runner to carry out.
 */
export async function startSweep(
  context: RequestScope,
  services: SweepServices,
  input: StartSweepInput,
): Promise<MutationOutcome<{ sweep: Sweep | null; preview: SweepPreview | null }>> {
  if (input.dryRun) {
    return runMutation(
      context,
      input,
      async (manager) => ({
        sweep: null,
        preview: await previewSweep(manager, await services.evaluator.current(), input),
      }),
      { transaction: false },
    );
  }
  return runMutation(context, input, async (manager) => ({
    sweep: await createSweep(manager, context, await services.evaluator.current(), input),
    preview: null,
  }));
}

/** Pauses, resumes or cancels a sweep, audited; the runner sees the new status at its next batch. */
export function controlSweep(
  context: RequestScope,
  input: SweepControlInput,
  change: keyof typeof sweepTransitions,
): Promise<MutationOutcome<Sweep>> {
  return runMutation(context, input, async (manager) => {
    // Read once, with the row lock the runner's batches take too.
    const rowId = rowIdOf(input.id, 'Sweep');
    const sweep = rowId === null ? null : await lockSweep(manager, rowId);
    if (!sweep) throw new UserErrorsAbort([userError(['id'], UserErrorCode.NOT_FOUND, 'no sweep has this ID')]);
    const { from, to } = sweepTransitions[change];
    if (!from.includes(sweep.status)) {
      throw new UserErrorsAbort([
        userError(['id'], UserErrorCode.INVALID_STATE, `a ${sweep.status} sweep cannot be ${change}d`),
      ]);
    }
    const now = new Date();
    const values: Partial<Sweep> = {
      status: to,
      updatedAt: now,
      // The runner stops at its next batch; a resumed sweep is claimed afresh.
      leaseOwner: null,
      leaseUntil: null,
      ...(to === SweepStatus.CANCELLED ? { finishedAt: now } : {}),
    };
    await manager.update(Sweep, { id: sweep.id }, values);
    await announceLive(manager, { kind: 'sweep', sweepId: sweep.id });
    await recordAuditEvent(manager, context, {
      action: `sweep.${change}`,
      targetType: 'Sweep',
      targetRowId: sweep.id,
      before: { status: sweep.status },
      after: { status: to, processed: sweep.processed, changed: sweep.changed },
    });
    return Object.assign(sweep, values);
  });
}
