// Builds the console (console/dist) from its sources: GraphQL Code Generator types the documents
// from schema/schema.graphql (failing on any operation the schema no longer serves), TypeScript
// checks the app, Vite bundles it.
//   node console/build.mjs          build (npm ci and npm start run it through
//                                   scripts/build-if-stale.mjs only when its sources changed)
//   node console/build.mjs --check  generate and type-check, no bundle (npm run check)
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const consoleDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(consoleDir);

const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (command, args, env = process.env) => {
  try {
    execFileSync(command, args, { cwd: root, stdio: 'inherit', env });
  } catch {
    // The tool printed why; a stack trace of this script would only hide it.
    process.stderr.write(`console: ${relative(root, command)} failed\n`);
    process.exit(1);
  }
};

run(bin('graphql-codegen'), ['--config', join(consoleDir, 'codegen.json')]);
run(bin('tsc'), ['--noEmit', '-p', consoleDir]);
if (process.argv[2] !== '--check') {
  // React's production build whatever the caller's NODE_ENV (jest sets "test").
  run(bin('vite'), ['build', '--config', join(consoleDir, 'vite.config.mts'), '--logLevel', 'warn'], {
    ...process.env,
    NODE_ENV: 'production',
    VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true',
  });
  process.stdout.write('console: built into console/dist\n');
}
