/**
 * Cuts a release of the schema contract (`npm run schema:release -- [YYYY-MM-DD] [--dry-run]`): the
 * emitted schema becomes schema/releases/<date>.graphql, and schema/CHANGELOG.md gets a section for
 * it, generated from the comparison with the previous release, above the older ones (which are left
 * as they are, hand edits included). Refuses while the contract is broken.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { printAppSchema } from '../src/schema';
import {
  changelogSection,
  compareWithRelease,
  contractHolds,
  formatReport,
  readReleases,
} from './schema-contract/contract';

const RELEASES = 'schema/releases';
const CHANGELOG = 'schema/CHANGELOG.md';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { 'dry-run': { type: 'boolean' } }, allowPositionals: true });
  const version = positionals[0] ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version))
    throw new Error(`a release is named by its date, YYYY-MM-DD; got ${version}`);
  const releases = readReleases(RELEASES);
  const previous = releases[releases.length - 1];
  if (previous && previous.version >= version)
    throw new Error(`release ${version} is not after the newest release, ${previous.version}`);
  const emitted = await printAppSchema();
  const report = previous ? await compareWithRelease(previous, emitted, version) : null;
  if (report && !contractHolds(report)) {
    console.error(formatReport(report));
    return 1;
  }
  const section = changelogSection(version, report);
  if (values['dry-run']) {
    console.log(section);
    return 0;
  }
  writeFileSync(join(RELEASES, `${version}.graphql`), emitted);
  const changelog = existsSync(CHANGELOG) ? readFileSync(CHANGELOG, 'utf8') : '# Schema changelog\n\n';
  const firstSection = changelog.search(/^## /m);
  writeFileSync(
    CHANGELOG,
    firstSection === -1
      ? `${changelog.trimEnd()}\n\n${section}`
      : `${changelog.slice(0, firstSection)}${section}\n${changelog.slice(firstSection)}`,
  );
  console.log(`released the schema as ${RELEASES}/${version}.graphql; edit the new section of ${CHANGELOG} for words`);
  return 0;
}

void main().then((code) => {
  process.exitCode = code;
});
