import { Request, Response, Router } from 'express';
import { stringify } from 'csv-stringify/sync';
import { GraphQLError } from 'graphql';
import { DecisionOutcome } from '../activations/activation-attempt.entity';
import { Role, access } from '../auth/roles';
import { requireRole } from '../auth/viewer';
import { Settings } from '../config';
import { ScopeWithLoaders, createRequestScope } from '../common/request-scope';
import { DeviceModelLoaders, createDeviceModelLoaders } from '../device-models/device-model.loaders';
import { PartnerLoaders, createPartnerLoaders } from '../partners/partner.loaders';
import { PolicyLoaders, createPolicyLoaders } from '../policies/policy.loaders';
import { RegionLoaders, createRegionLoaders } from '../regions/region.loaders';
import { DataSource } from 'typeorm';
import { BadUserInputError } from '../common/errors';
import { checkFilterBounds } from '../common/filter-bounds';
import { PolicyVersion } from '../policies/policy-version.entity';
import { lockedDeviceStats, reviewQueueStats } from './current-state.service';
import { DeviceScopeFilter, LockedDevicesGroupBy, ReviewQueueGroupBy } from './current-state.types';
import { GroupedRow } from './report-groups.resolver';
import { activationStats, attemptExportPages, policyImpact } from './report.service';
import { ActivationStatsFilter, ReasonFamily, StatsGroupBy, StatsInterval } from './report.types';

/** A CSV request's scope: the reports' filters and the rows' labels read through these modules' loaders. */
type CsvScope = ScopeWithLoaders<RegionLoaders & DeviceModelLoaders & PartnerLoaders & PolicyLoaders>;

/**
 * CSV as spreadsheets read it (csv-stringify): CRLF lines, fields quoted when they hold a comma,
 * quote or line break, instants in ISO 8601, and formula injection defused — a text cell starting
 * with = + - @ tab or CR (a partner's name, say) gets a leading apostrophe, so a spreadsheet shows
 * it instead of running it. Numbers are never prefixed.
 */
export function csvLines(rows: unknown[][]): string {
  return stringify(rows, {
    record_delimiter: 'windows',
    escape_formulas: true,
    cast: { date: (value) => value.toISOString(), boolean: (value) => String(value) },
  });
}

const csvLine = (values: unknown[]) => csvLines([values]);

/** Writes a line, waiting when the client reads slower than we write (backpressure). */
async function write(response: Response, line: string): Promise<void> {
  if (!response.write(line)) await new Promise((resolve) => response.once('drain', resolve));
}

function list(request: Request, name: string): string[] | undefined {
  const raw = request.query[name];
  if (raw === undefined) return undefined;
  return String(raw)
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
}

function instant(request: Request, name: string): Date {
  const raw = request.query[name];
  const value = typeof raw === 'string' ? new Date(raw) : new Date(NaN);
  if (Number.isNaN(value.getTime())) throw new BadUserInputError(name, 'an ISO 8601 instant is required');
  return value;
}

function oneOf<T extends string>(
  values: string[] | undefined,
  allowed: Record<string, T>,
  name: string,
): T[] | undefined {
  return values?.map((value) => {
    if (!(value in allowed))
      throw new BadUserInputError(name, `"${value}" is not one of ${Object.keys(allowed).join(', ')}`);
    return allowed[value];
  });
}

/** A filter from the query string, with the same bounds as the GraphQL filter: a long list must not reach the database. */
function boundedFilter<T extends object>(filter: T, settings: Settings): T {
  checkFilterBounds(filter, settings.maxPageSize);
  return filter;
}

/** Which devices (and where) a report covers, from the query string. */
function scopeOf(request: Request) {
  return {
    regionCodes: list(request, 'regionCodes'),
    excludeRegionCodes: list(request, 'excludeRegionCodes'),
    modelCodes: list(request, 'modelCodes'),
    partnerId: typeof request.query.partnerId === 'string' ? request.query.partnerId : undefined,
  };
}

function filterOf(request: Request, settings: Settings): ActivationStatsFilter {
  return boundedFilter(
    Object.assign(new ActivationStatsFilter(), scopeOf(request), {
      from: instant(request, 'from'),
      to: instant(request, 'to'),
      outcomes: oneOf(list(request, 'outcomes'), DecisionOutcome, 'outcomes'),
      reasonFamilies: oneOf(list(request, 'reasonFamilies'), ReasonFamily, 'reasonFamilies'),
    }),
    settings,
  );
}

function scopeFilterOf(request: Request, settings: Settings): DeviceScopeFilter {
  return boundedFilter(Object.assign(new DeviceScopeFilter(), scopeOf(request)), settings);
}

/** The labels of report rows' groupings (region and country codes, model code, partner name, policy key), loaded in one batch each. */
async function groupLabels(context: CsvScope, rows: Partial<GroupedRow>[]) {
  const labels = async <T extends { id: number }>(
    ids: (number | null | undefined)[],
    loader: { loadMany(keys: number[]): Promise<(T | null | Error)[]> },
    label: (value: T) => string,
  ) => {
    const found = await loader.loadMany([...new Set(ids.filter((id): id is number => typeof id === 'number'))]);
    return new Map(
      found
        .filter((value): value is T => !!value && !(value instanceof Error))
        .map((value) => [value.id, label(value)]),
    );
  };
  const { loaders } = context;
  const [regions, models, partners, policies] = await Promise.all([
    labels(
      rows.flatMap((row) => [row.regionId, row.countryId]),
      loaders.regionById,
      (region) => region.code,
    ),
    labels(
      rows.map((row) => row.modelId),
      loaders.deviceModelById,
      (model) => model.code,
    ),
    labels(
      rows.map((row) => row.partnerId),
      loaders.partnerById,
      (partner) => partner.name,
    ),
    labels(
      rows.map((row) => row.policyId),
      loaders.policyById,
      (policy) => policy.key,
    ),
  ]);
  const of = (map: Map<number, string>, id: number | null | undefined) =>
    typeof id === 'number' ? (map.get(id) ?? null) : null;
  return (row: Partial<GroupedRow>) => ({
    region: of(regions, row.regionId),
    country: of(regions, row.countryId),
    model: of(models, row.modelId),
    partner: of(partners, row.partnerId),
    policy: of(policies, row.policyId),
  });
}

/**
 * Reports as CSV over HTTP, for spreadsheets: GET /reports/activation-stats.csv,
 * /reports/activation-attempts.csv, /reports/locked-devices.csv, /reports/review-queue.csv and
 * /reports/policy-impact.csv with the report's arguments as query parameters (lists
 * comma-separated). Same roles and partner scoping as the GraphQL reports; the attempts export is
 * written page by page as it is read, never held whole.
 */
export function csvReports(dataSource: DataSource, settings: Settings): Router {
  const router = Router();
  const contextOf = (request: Request, rights: readonly Role[]): CsvScope => {
    // The same check as the GraphQL reports' @Authorized(rights).
    const viewer = requireRole(request.viewer ?? null, rights, 'read this report');
    const scope = createRequestScope(dataSource, settings, request.observation?.requestId ?? 'csv', viewer);
    const loaders = {
      ...createRegionLoaders(dataSource),
      ...createDeviceModelLoaders(dataSource),
      ...createPartnerLoaders(dataSource),
      ...createPolicyLoaders(dataSource),
    };
    return { ...scope, loaders };
  };
  const fail = (response: Response, error: unknown) => {
    if (!(error instanceof GraphQLError) || response.headersSent) throw error;
    const code = String(error.extensions.code);
    const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403 }[code] ?? 400;
    response.status(status).json({ errors: [{ message: error.message, extensions: error.extensions }] });
  };
  /** A report's route: its rights checked first, and a client error answered as JSON until the CSV has begun. */
  const route = (
    path: string,
    rights: readonly Role[],
    handler: (request: Request, response: Response, context: CsvScope) => Promise<void>,
  ) =>
    router.get(path, async (request, response, next) => {
      try {
        await handler(request, response, contextOf(request, rights));
        response.end();
      } catch (error) {
        try {
          fail(response, error);
        } catch (fault) {
          next(fault);
        }
      }
    });
  const start = (response: Response, name: string, header: string[]) => {
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    response.write(csvLine(header));
  };

  /** Writes a report's rows as a file: each column's header beside the value it takes from a row. */
  const writeTable = async <T>(
    response: Response,
    name: string,
    rows: T[],
    columns: [string, (row: T) => unknown][],
  ) => {
    start(
      response,
      name,
      columns.map(([header]) => header),
    );
    for (const row of rows) await write(response, csvLine(columns.map(([, value]) => value(row))));
  };
  /** The grouping columns of a report row, labelled. */
  const groupColumns = async <T extends Partial<GroupedRow>>(
    context: CsvScope,
    rows: T[],
    names: ('region' | 'country' | 'model' | 'partner' | 'policy')[],
  ): Promise<[string, (row: T) => unknown][]> => {
    const label = await groupLabels(context, rows);
    return names.map((name) => [name, (row: T) => label(row)[name]]);
  };

  route('/reports/activation-stats.csv', access.readReports, async (request, response, context) => {
    const groupBy = oneOf(list(request, 'groupBy'), StatsGroupBy, 'groupBy') ?? [];
    const [interval] = oneOf(list(request, 'interval'), StatsInterval, 'interval') ?? [null];
    const timeZone = typeof request.query.timeZone === 'string' ? request.query.timeZone : 'UTC';
    // The file has the rows only.
    const stats = await activationStats(context, filterOf(request, settings), groupBy, interval, timeZone, {
      rows: true,
      totals: false,
    });
    const [region, country, model, partner, policy] = await groupColumns(context, stats.rows, [
      'region',
      'country',
      'model',
      'partner',
      'policy',
    ]);
    await writeTable(response, 'activation-stats.csv', stats.rows, [
      ['bucketStart', (row) => row.bucketStart],
      region,
      country,
      ['outcome', (row) => row.outcome],
      model,
      partner,
      policy,
      ['attempts', (row) => row.attempts],
      ['devices', (row) => row.devices],
      ['locks', (row) => row.locks],
      ['reviews', (row) => row.reviews],
      ['monitorWouldLocks', (row) => row.monitorWouldLocks],
      // Last, so the columns files were read by before it keep their places.
      ['reasonFamily', (row) => row.reasonFamily],
    ]);
  });

  route('/reports/locked-devices.csv', access.readReports, async (request, response, context) => {
    const groupBy = oneOf(list(request, 'groupBy'), LockedDevicesGroupBy, 'groupBy') ?? [];
    const stats = await lockedDeviceStats(context, scopeFilterOf(request, settings), groupBy);
    const [region, country, policy, model, partner] = await groupColumns(context, stats.rows, [
      'region',
      'country',
      'policy',
      'model',
      'partner',
    ]);
    await writeTable(response, 'locked-devices.csv', stats.rows, [
      region,
      country,
      policy,
      ['cause', (row) => row.cause],
      model,
      partner,
      ['devices', (row) => row.devices],
      ['oldestLockedAt', (row) => row.oldestLockedAt],
    ]);
  });

  route('/reports/review-queue.csv', access.readReviews, async (request, response, context) => {
    const groupBy = oneOf(list(request, 'groupBy'), ReviewQueueGroupBy, 'groupBy') ?? [];
    const stats = await reviewQueueStats(context, scopeFilterOf(request, settings), groupBy);
    await writeTable(response, 'review-queue.csv', stats.rows, [
      ...(await groupColumns(context, stats.rows, ['region', 'country', 'policy', 'model', 'partner'])),
      ['waiting', (row) => row.waiting],
      ['waitingOverHour', (row) => row.waitingOverHour],
      ['waitingOverDay', (row) => row.waitingOverDay],
      ['waitingOverWeek', (row) => row.waitingOverWeek],
      ['oldestReceivedAt', (row) => row.oldestReceivedAt],
    ]);
  });

  route('/reports/policy-impact.csv', access.readReports, async (request, response, context) => {
    const policyKey = typeof request.query.policyKey === 'string' ? request.query.policyKey : '';
    if (!policyKey) throw new BadUserInputError('policyKey', 'the policy key is required');
    const to = request.query.to === undefined ? null : instant(request, 'to');
    const rows = await policyImpact(context, policyKey, to);
    const versions = await context.loaders.policyVersionById.loadMany(rows.map((row) => row.policyVersionId));
    const versionNumbers = new Map(
      versions
        .filter((version): version is PolicyVersion => version instanceof PolicyVersion)
        .map((version) => [version.id, version.number]),
    );
    await writeTable(response, 'policy-impact.csv', rows, [
      ['policy', () => policyKey],
      ['version', (row) => versionNumbers.get(row.policyVersionId)],
      ...(await groupColumns(context, rows, ['region'])),
      ['outcome', (row) => row.outcome],
      ['enforced', (row) => row.enforced],
      ['alreadyLocked', (row) => row.alreadyLocked],
      ['attempts', (row) => row.attempts],
      ['devices', (row) => row.devices],
    ]);
  });

  route('/reports/activation-attempts.csv', access.readReports, async (request, response, context) => {
    const pages = attemptExportPages(context, filterOf(request, settings));
    // The filter is checked (and a bad one answered as JSON) before the file begins.
    const first = await pages.next();
    start(response, 'activation-attempts.csv', [
      'occurredAt',
      'imei',
      'model',
      'partner',
      'region',
      'regionSource',
      'outcome',
      'enforced',
      'policy',
      'policyVersion',
      'reasonCodes',
    ]);
    for (let page = first; !page.done; page = await pages.next()) {
      const lines = page.value.map((row) => [
        row.occurredAt,
        row.imei,
        row.model,
        row.partner,
        row.region,
        row.regionSource,
        row.outcome,
        row.enforced,
        row.policy,
        row.policyVersion,
        row.reasonCodes.join(' '),
      ]);
      if (lines.length) await write(response, csvLines(lines));
    }
  });
  return router;
}
