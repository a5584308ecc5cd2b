#!/usr/bin/env node
/**
 * Runs each build whose inputs changed since it last ran, and nothing else: `npm start` (and the
 * scripts that run compiled code) call this instead of compiling every time, so a start with
 * unchanged sources takes a second, not the twenty a full `tsc` takes on two cores, and a bad
 * setting is reported at once.
 *
 * A build is stale when the SHA-256 of its inputs (every file's path and content, in path order)
 * differs from the digest stamped after its last successful run, or when one of its outputs is
 * missing. Content, not modification times: a checkout or a copy touches every file without
 * changing any, and an edit within the same second is still seen.
 *
 * Another build (the console's, say) plugs in as one more entry of BUILDS; `node
 * scripts/build-if-stale.mjs console` runs only the builds named.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMPS = join(ROOT, 'dist', '.build-stamps');

/**
 * name: what the stamp is called; inputs: files and folders (walked whole) whose content decides;
 * outputs: files that must exist afterwards; command: run from the project root.
 */
const BUILDS = [
  {
    name: 'server',
    inputs: ['src', 'scripts', 'bench', 'ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    outputs: ['dist/src/main.js'],
    command: [process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']],
  },
  {
    // The operations console (console/build.mjs: typed documents, type check, Vite bundle); its
    // generated types and the screenshots the tests take are outputs, not inputs.
    name: 'console',
    inputs: ['console', 'schema/schema.graphql', 'seeds/subdivision-boundaries.geojson', 'package-lock.json'],
    ignore: ['console/src/gql', 'console/screenshots'],
    outputs: ['console/dist/index.html'],
    command: [process.execPath, [join(ROOT, 'console', 'build.mjs')]],
  },
];

function filesUnder(path, ignore = []) {
  if (!existsSync(path) || ignore.includes(relative(ROOT, path))) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.name !== 'node_modules' && entry.name !== 'dist')
    .flatMap((entry) => filesUnder(join(path, entry.name), ignore));
}

function digestOf(build) {
  const hash = createHash('sha256');
  const files = build.inputs
    .flatMap((input) => filesUnder(join(ROOT, input), build.ignore))
    .map((file) => relative(ROOT, file));
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function stampOf(build) {
  const path = join(STAMPS, build.name);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
}

function isCurrent(build, digest = digestOf(build)) {
  return build.outputs.every((output) => existsSync(join(ROOT, output))) && stampOf(build) === digest;
}

function buildIfStale(build) {
  const digest = digestOf(build);
  if (isCurrent(build, digest)) return false;
  process.stderr.write(`building ${build.name} (its sources changed since the last build)\n`);
  const [command, args] = build.command;
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`build ${build.name} failed\n`);
    process.exit(result.status ?? 1);
  }
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(join(STAMPS, build.name), `${digest}\n`);
  return true;
}

/** `--check`: build nothing; exit 0 when every named build is current, 1 when one is stale. */
const checkOnly = process.argv.includes('--check');
const named = process.argv.slice(2).filter((argument) => argument !== '--check');
const unknown = named.filter((name) => !BUILDS.some((build) => build.name === name));
if (unknown.length) {
  process.stderr.write(`unknown build ${unknown.join(', ')}; known: ${BUILDS.map((build) => build.name).join(', ')}\n`);
  process.exit(2);
}
const selected = BUILDS.filter((build) => !named.length || named.includes(build.name));
if (checkOnly) process.exit(selected.every((build) => isCurrent(build)) ? 0 : 1);
for (const build of selected) buildIfStale(build);
