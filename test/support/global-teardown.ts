/** Drops the run's template and databases (Jest's global setup and teardown share one realm). */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { endTestRun?: () => Promise<void> }).endTestRun?.();
}
