/**
 * `npm run check`'s contract step: the schema the code emits against the newest release in
 * schema/releases. Exits 1 on a breaking change that was not announced (see scripts/schema-contract).
 *   --releases DIR   where the released schemas are (default schema/releases)
 *   --schema FILE    compare this SDL instead of the emitted schema (tests)
 *   --today DATE     the date announced removals are measured against (default: today, UTC)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { printAppSchema } from '../src/schema';
import { compareWithRelease, contractHolds, formatReport, readReleases } from './schema-contract/contract';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      releases: { type: 'string', default: 'schema/releases' },
      schema: { type: 'string' },
      today: { type: 'string' },
    },
  });
  const releases = readReleases(values.releases!);
  if (releases.length === 0) {
    console.error(`schema contract: no release in ${values.releases} (files named YYYY-MM-DD.graphql)`);
    return 1;
  }
  const emitted = values.schema ? readFileSync(values.schema, 'utf8') : await printAppSchema();
  const report = await compareWithRelease(releases[releases.length - 1], emitted, values.today);
  console.log(formatReport(report));
  return contractHolds(report) ? 0 : 1;
}

void main().then((code) => {
  process.exitCode = code;
});
