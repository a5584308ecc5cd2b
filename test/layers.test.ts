import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Runs dependency-cruiser with the project's rules (as `npm run check` does) and returns the rules broken. */
function brokenRules(directory: string): string[] {
  const root = path.resolve(__dirname, '..');
  const result = spawnSync(
    path.join(root, 'node_modules/.bin/depcruise'),
    ['src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd: directory, encoding: 'utf8' },
  );
  const report = JSON.parse(result.stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  return report.summary.violations
    .map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`)
    .sort();
}

// `npm run check` cruises src/ with the same rules; this shows the rules catch what they are for.
describe('layers (dependency-cruiser)', () => {
  it('an upward import, a kernel that knows a domain module and a runtime cycle each fail the check', () => {
    expect(brokenRules(path.resolve(__dirname, 'fixtures/layers'))).toEqual([
      'domain-imports-no-workflow-or-transport: src/regions/region.service.ts → src/regions/region.resolver.ts',
      'kernel-imports-nothing-above: src/common/format.ts → src/devices/device.service.ts',
      'no-runtime-cycle: src/devices/device-status.ts → src/devices/device.service.ts',
    ]);
  });
});
