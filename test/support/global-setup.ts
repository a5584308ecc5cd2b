import 'reflect-metadata';
import { startTestRun, TEST_RUN_VARIABLE } from './database';

/**
 * Once per Jest run, before any test file: the database template every test file's database is copied
 * from (see TestRun in database.ts). Worker processes inherit the variable; global-teardown.ts ends the run.
 */
export default async function globalSetup(): Promise<void> {
  const started = await startTestRun();
  process.env[TEST_RUN_VARIABLE] = JSON.stringify(started.run);
  (globalThis as { endTestRun?: () => Promise<void> }).endTestRun = started.end;
}
