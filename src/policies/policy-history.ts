import { ScopeWithLoaders } from '../common/request-scope';
import type { PolicyLoaders } from './policy.loaders';
import { Policy, PolicyStatus } from './policy.entity';
import { PolicyVersion } from './policy-version.entity';
import { versionInForce, versionWindows } from './policy-timeline';

/** A policy's approved versions and retirement, as the timeline reads them. */
function timelineOf(policy: Policy, versions: readonly PolicyVersion[]) {
  const approved = versions
    .filter((version) => version.approvedAt !== null)
    .map((version) => ({
      id: version.id,
      number: version.number,
      effectiveFrom: version.effectiveFrom.getTime(),
      effectiveUntil: version.effectiveUntil?.getTime() ?? null,
    }));
  const retiredAt = policy.status === PolicyStatus.RETIRED && policy.retiredAt ? policy.retiredAt.getTime() : null;
  return { approved, retiredAt };
}

/** The windows in which a policy's approved versions are in force (see policy-timeline). */
export function windowsOf(policy: Policy, versions: readonly PolicyVersion[]) {
  const { approved, retiredAt } = timelineOf(policy, versions);
  return versionWindows(approved, retiredAt);
}

/** The version of a policy in force at an instant, or null (a DRAFT, or not yet, no longer or never in force then). */
export async function versionInForceAt(
  context: ScopeWithLoaders<PolicyLoaders>,
  policy: Policy,
  instant: Date,
): Promise<PolicyVersion | null> {
  const versions = await context.loaders.policyVersionsByPolicy.load(policy.id);
  const { approved, retiredAt } = timelineOf(policy, versions);
  const versionId = versionInForce(approved, retiredAt, instant.getTime());
  return versions.find((version) => version.id === versionId) ?? null;
}

/**
 * The version a policy's fields describe: the one in force at the policy's as-of instant when it
 * was read as of one; otherwise the one in force now, or — for a DRAFT, or a policy not in force
 * now — its latest version.
 */
export async function describedVersion(
  context: ScopeWithLoaders<PolicyLoaders>,
  policy: Policy,
): Promise<PolicyVersion> {
  if (policy.asOf) return (await versionInForceAt(context, policy, policy.asOf))!;
  if (policy.status !== PolicyStatus.DRAFT) {
    const inForce = await versionInForceAt(context, policy, new Date());
    if (inForce) return inForce;
  }
  return (await context.loaders.policyVersionById.load(policy.latestVersionId!))!;
}

/** An approved version that takes over later by itself, or null. */
export async function scheduledVersion(
  context: ScopeWithLoaders<PolicyLoaders>,
  policy: Policy,
): Promise<PolicyVersion | null> {
  const versions = await context.loaders.policyVersionsByPolicy.load(policy.id);
  const now = (policy.asOf ?? new Date()).getTime();
  const next = windowsOf(policy, versions).find((window) => window.from > now);
  return next ? versions.find((version) => version.id === next.versionId)! : null;
}

/** A copy of a loaded row read as of an instant (loaders share their rows, so they are never changed). */
export function asOfCopy<T extends object>(row: T, asOf: Date): T & { asOf: Date } {
  return Object.assign(Object.create(Object.getPrototypeOf(row)), row, { asOf });
}
