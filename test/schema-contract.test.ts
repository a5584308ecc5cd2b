/**
 * The schema contract: breaking changes against the newest release fail `npm run check` with a
 * message saying what broke and what to do; an announced removal passes from its date on; dangerous
 * changes are listed.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ASTNode, DocumentNode, Kind, parse, print, visit } from 'graphql';
import {
  Release,
  changelogSection,
  compareWithRelease,
  contractHolds,
  formatReport,
  readReleases,
} from '../scripts/schema-contract/contract';
import { printAppSchema } from '../src/schema';

const ROOT = join(__dirname, '..');
const releases = readReleases(join(ROOT, 'schema', 'releases'));
const current = releases[releases.length - 1];

/** The SDL with a visitor's edits applied to the fields of one type (null removes the field). */
function editType(sdl: string, typeName: string, edit: (field: any) => any): string {
  const document: DocumentNode = parse(sdl);
  return print(
    visit(document, {
      enter(node: ASTNode) {
        if ('name' in node && node.name?.value === typeName && 'fields' in node && node.fields) {
          return { ...node, fields: node.fields.map(edit).filter(Boolean) };
        }
        return undefined;
      },
    }),
  );
}

const deprecate = (field: any, reason: string) => ({
  ...field,
  directives: [
    {
      kind: Kind.DIRECTIVE,
      name: { kind: Kind.NAME, value: 'deprecated' },
      arguments: [
        {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: 'reason' },
          value: { kind: Kind.STRING, value: reason },
        },
      ],
    },
  ],
});

const named = (name: string) => (field: any) => field.name.value === name;

describe('the schema contract', () => {
  it('holds between the emitted schema and the newest release', async () => {
    expect(releases.length).toBeGreaterThan(0);
    const report = await compareWithRelease(current, await printAppSchema());
    expect(report.breaking.map((judged) => judged.change.message)).toEqual([]);
    expect(contractHolds(report)).toBe(true);
  });

  it('fails `npm run check` on a deliberate breaking change, saying what broke and what to do', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'schema-contract-'));
    try {
      copyFileSync(current.file, join(directory, `${current.version}.graphql`));
      let broken = editType(current.sdl, 'Device', (field) =>
        named('imei')(field)
          ? null
          : named('serialNumber')(field)
            ? {
                ...field,
                type: {
                  kind: Kind.NON_NULL_TYPE,
                  type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'Int' } },
                },
              }
            : field,
      );
      broken = editType(broken, 'Query', (field) =>
        named('devices')(field)
          ? {
              ...field,
              arguments: field.arguments.map((argument: any) =>
                argument.name.value === 'first'
                  ? { ...argument, type: { kind: Kind.NON_NULL_TYPE, type: argument.type } }
                  : argument,
              ),
            }
          : field,
      );
      broken = print(
        visit(parse(broken), {
          EnumTypeDefinition: (node) =>
            node.name.value === 'DeviceStatus'
              ? {
                  ...node,
                  values: [
                    ...(node.values ?? []),
                    { kind: Kind.ENUM_VALUE_DEFINITION, name: { kind: Kind.NAME, value: 'RETIRED' } },
                  ],
                }
              : undefined,
        }),
      );
      const schemaFile = join(directory, 'emitted.graphql');
      writeFileSync(schemaFile, broken);
      const run = await promisify(execFile)(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          'scripts/check-schema-contract.ts',
          '--releases',
          directory,
          '--schema',
          schemaFile,
        ],
        { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
      ).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`schema contract: the emitted schema against release ${current.version}`);
      expect(run.stdout).toContain('breaking changes (3) — not allowed:');
      expect(run.stdout).toContain("✗ Field 'imei' was removed from object type 'Device' (Device.imei)");
      expect(run.stdout).toContain(
        `it was not deprecated in release ${current.version}: deprecate it with a reason and "Removal on or after YYYY-MM-DD", release that, then remove it from that date`,
      );
      expect(run.stdout).toContain(
        "✗ Field 'Device.serialNumber' changed type from 'String!' to 'Int!' (Device.serialNumber)",
      );
      expect(run.stdout).toContain(
        "✗ Type for argument 'first' on field 'Query.devices' changed from 'Int' to 'Int!' (Query.devices.first)",
      );
      expect(run.stdout).toContain('dangerous changes (1) — allowed, tell partners:');
      expect(run.stdout).toContain("! Enum value 'RETIRED' was added to enum 'DeviceStatus' (DeviceStatus.RETIRED)");
      expect(run.stdout).toMatch(/the contract is broken$/m);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  describe('removals', () => {
    const BASE = `
      type Query { device: Device, devices(first: Int, legacyFilter: String): [Device!]! }
      type Device { id: ID!, imei: String!, serial: String!, legacy: Legacy }
      type Legacy { id: ID! }
      enum Status { ACTIVE, LOCKED, RETIRED }
    `;
    const release = (sdl: string, version = '2026-11-01'): Release => ({ version, file: `${version}.graphql`, sdl });
    const announced = (reason: string) =>
      print(
        visit(
          parse(
            editType(BASE, 'Device', (field) =>
              named('legacy')(field) || named('serial')(field) ? deprecate(field, reason) : field,
            ),
          ),
          {
            EnumValueDefinition: (node) => (node.name.value === 'RETIRED' ? deprecate(node, reason) : undefined),
            InputValueDefinition: (node) => (node.name.value === 'legacyFilter' ? deprecate(node, reason) : undefined),
          },
        ),
      );
    const WITHOUT = `
      type Query { device: Device, devices(first: Int): [Device!]! }
      type Device { id: ID!, imei: String! }
      enum Status { ACTIVE, LOCKED }
    `;

    it('allows what the release deprecated with a removal date, from that date on', async () => {
      const old = release(announced('Use `imei`. Removal on or after 2026-12-01.'));
      const due = await compareWithRelease(old, WITHOUT, '2026-12-01');
      expect(due.breaking).toEqual([]);
      expect(due.announcedRemovals.map((judged) => judged.change.path).sort()).toEqual(
        ['Device.legacy', 'Device.serial', 'Legacy', 'Query.devices.legacyFilter', 'Status.RETIRED'].sort(),
      );
      expect(contractHolds(due)).toBe(true);

      const early = await compareWithRelease(old, WITHOUT, '2026-11-30');
      expect(early.breaking.map((judged) => [judged.change.path, judged.problem])).toContainEqual([
        'Device.serial',
        'its removal was announced for 2026-12-01 or later; today is 2026-11-30',
      ]);
      expect(formatReport(early)).toMatch(/the contract is broken$/);
    });

    it('refuses a removal whose deprecation names no date, and a type still used elsewhere', async () => {
      const undated = await compareWithRelease(release(announced('Use `imei`.')), WITHOUT, '2027-01-01');
      expect(undated.breaking.map((judged) => judged.problem)).toContain(
        'its deprecation in release 2026-11-01 names no removal date ("Removal on or after YYYY-MM-DD")',
      );
      const stillUsed = await compareWithRelease(
        release(announced('Removal on or after 2026-12-01.').replace('type Query {', 'type Query {\n  legacy: Legacy')),
        WITHOUT.replace('type Query {', 'type Query { legacy: String '),
        '2027-01-01',
      );
      expect(stillUsed.breaking.map((judged) => [judged.change.path, judged.problem])).toContainEqual([
        'Legacy',
        'it is still used by Query.legacy, which may not go yet',
      ]);
    });

    it('refuses a new deprecation without a removal date', async () => {
      const report = await compareWithRelease(release(BASE), announced('Use `imei` instead.'));
      expect(report.undatedDeprecations.sort()).toEqual(
        ['Device.legacy', 'Device.serial', 'Query.devices.legacyFilter', 'Status.RETIRED'].sort(),
      );
      expect(formatReport(report)).toContain('✗ Device.serial: end its reason with "Removal on or after YYYY-MM-DD."');
      expect(contractHolds(report)).toBe(false);
      const dated = await compareWithRelease(
        release(BASE),
        announced('Use `imei` instead. Removal on or after 2027-06-01.'),
      );
      expect(contractHolds(dated)).toBe(true);
    });
  });

  it('writes a changelog section from the same comparison', async () => {
    const report = await compareWithRelease(
      { version: '2026-11-01', file: '', sdl: 'type Query { a: Int, b: E } enum E { X }' },
      'type Query { a: Int, b: E, c: String } enum E { X, Y }',
    );
    expect(changelogSection('2026-12-01', report)).toBe(
      [
        '## 2026-12-01',
        '',
        '### Needs attention',
        '',
        '- Enum value `Y` was added to enum `E`',
        '',
        '### Added and changed',
        '',
        '- Field `c` was added to object type `Query`',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(ROOT, 'schema', 'CHANGELOG.md'), 'utf8')).toContain(`## ${current.version}`);
  });
});
