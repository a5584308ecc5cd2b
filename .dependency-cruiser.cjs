/**
 * The server's layers, checked by `npm run check` (dependency-cruiser).
 *
 *   composition root  src/main.ts, src/app.ts, src/services.ts, src/schema.ts, src/loaders.ts
 *        ↓
 *   transport         *.resolver.ts, src/nodes/, HTTP routes (CSV reports, auth middleware,
 *                     health, IDE), subscriptions (src/live/), src/context.ts (GraphQLContext)
 *        ↓
 *   workflows         decide, review, sweep, policy change, simulation, demo data: they compose
 *                     domain modules (src/decisions/ outside the engine, src/sweeps/ services,
 *                     src/policies/policy-change.service.ts, src/reports/simulation*.ts,
 *                     src/seeding/demo-data.ts and attempt-generator*.ts)
 *        ↓
 *   domain modules    one folder each (regions, partners, device-models, devices, policies,
 *                     activations, exemptions, audit, webhooks, reports, auth, sweeps' entity);
 *                     src/decisions/engine/ is a domain module too, plain TypeScript
 *        ↓
 *   kernel            src/common/, src/db/, src/ops/ (logs, metrics, failure classes),
 *                     src/config.ts, src/database.ts, src/auth/{roles,viewer}.ts
 *
 * A layer imports only from the layers below it. Type-only imports count (a domain service that
 * names GraphQLContext depends on the transport); runtime cycles are forbidden everywhere.
 * Entities may name each other in relations (TypeORM's `() => Other`), so cycles between
 * `*.entity.ts` files of one folder are allowed.
 */

const kernel = '^src/(common|db)/|^src/ops/(?!observe)|^src/config\\.ts$|^src/auth/(roles|viewer)\\.ts$';
// A worker thread that builds its own data source (a sweep's reader) is its thread's composition root.
const compositionRoot =
  '^src/(main|app|services|schema|database)\\.ts$|^src/db/entities\\.ts$|^src/sweeps/sweep-reader\\.worker\\.ts$';
const transport =
  '\\.resolver\\.ts$|^src/nodes/|^src/(context|loaders|ide|console|graphql-over-http)\\.ts$|^src/live/|^src/auth/(http|auth-checker)\\.ts$|^src/reports/report\\.csv\\.ts$|^src/ops/observe\\.ts$';
const workflows =
  '^src/decisions/(?!engine/)|^src/sweeps/(sweep\\.service|sweep-runner|sweep-control|sweep-reader)\\.ts$|^src/policies/policy-change\\.service\\.ts$|^src/reports/simulation[.-]|^src/seeding/(demo-data|attempt-generator)[.]';
const engine = '^src/decisions/engine/';

module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycle',
      comment:
        'Modules that import each other at run time load half-initialised: whichever runs first sees the other ' +
        'as undefined. Move what both need one layer down.',
      severity: 'error',
      from: { pathNot: '\\.entity\\.ts$' },
      to: {
        circular: true,
        dependencyTypesNot: ['type-only', 'pre-compilation-only'],
        viaOnly: { dependencyTypesNot: ['type-only', 'pre-compilation-only'] },
      },
    },
    {
      name: 'kernel-imports-nothing-above',
      comment: 'The kernel (common, db, ops, config) serves every module and knows none of them.',
      severity: 'error',
      from: { path: kernel, pathNot: compositionRoot },
      to: { path: '^src/', pathNot: kernel },
    },
    {
      name: 'domain-imports-no-workflow-or-transport',
      comment:
        'A domain module knows only other domain modules and the kernel. Announce a change to a workflow through ' +
        'the mutation runner (RuleChange) instead of importing it; take a RequestScope, not a GraphQLContext.',
      severity: 'error',
      from: { path: '^src/', pathNot: [kernel, compositionRoot, transport, workflows].join('|') },
      to: { path: [compositionRoot, transport, workflows].join('|') },
    },
    {
      name: 'workflow-imports-no-transport',
      comment: 'Workflows are run by resolvers, routes and background work; they take a RequestScope.',
      severity: 'error',
      from: { path: workflows, pathNot: transport },
      to: { path: [compositionRoot, transport].join('|') },
    },
    {
      name: 'transport-imports-no-composition-root',
      comment: 'Routes and resolvers are handed their services; they do not reach up for the wiring.',
      severity: 'error',
      from: { path: transport },
      to: { path: compositionRoot },
    },
    {
      name: 'engine-is-plain-typescript',
      comment: 'The decision engine has no GraphQL, ORM or database inside; it reads plain values.',
      severity: 'error',
      from: { path: engine },
      to: { path: '^src/|typeorm|graphql', pathNot: engine },
    },
  ],
  options: {
    // "specify" tells type-only and elided imports apart, so the cycle rule sees what runs.
    tsPreCompilationDeps: 'specify',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
