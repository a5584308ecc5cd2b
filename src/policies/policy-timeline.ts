/**
 * When each version of a policy is in force. Plain TypeScript (no ORM), shared by the decision
 * evaluator and the as-of queries so both read history the same way.
 *
 * Versions are judged by effective time (an attempt's occurredAt, an as-of instant): at instant T
 * the version in force is the newest approved version whose effectiveFrom is at or before T —
 * unless that version's effectiveUntil has passed or the policy was retired by T, in which case
 * none is (an older version does not come back). So a version approved with a future
 * effectiveFrom takes over by itself when that instant comes, and a version approved later always
 * wins over an older one from its own effectiveFrom on.
 */
export interface TimelineVersion {
  id: number;
  number: number;
  effectiveFrom: number;
  effectiveUntil: number | null;
}

export interface VersionWindow {
  versionId: number;
  /** In force from this instant (inclusive)… */
  from: number;
  /** …until this one (exclusive); null means open-ended. */
  until: number | null;
}

const earlier = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/** The non-empty windows of a policy's approved versions, oldest version first. */
export function versionWindows(approved: readonly TimelineVersion[], retiredAt: number | null): VersionWindow[] {
  const byNumber = [...approved].sort((a, b) => a.number - b.number);
  const windows: VersionWindow[] = [];
  let laterStart: number | null = null;
  for (let index = byNumber.length - 1; index >= 0; index -= 1) {
    const version = byNumber[index];
    const until = earlier(earlier(version.effectiveUntil, laterStart), retiredAt);
    if (until === null || version.effectiveFrom < until) {
      windows.push({ versionId: version.id, from: version.effectiveFrom, until });
    }
    laterStart = earlier(laterStart, version.effectiveFrom);
  }
  return windows.reverse();
}

/** The version in force at an instant, or null. */
export function versionInForce(
  approved: readonly TimelineVersion[],
  retiredAt: number | null,
  instant: number,
): number | null {
  const window = versionWindows(approved, retiredAt).find(
    (candidate) => candidate.from <= instant && (candidate.until === null || instant < candidate.until),
  );
  return window?.versionId ?? null;
}
