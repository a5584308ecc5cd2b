import { Request, Response, Router } from 'express';
import { GraphQLError } from 'graphql';
import { ActivationAttempt, DecisionOutcome } from '../activations/activation-attempt.entity';
import { Role, access } from '../auth/roles';
import { Viewer } from '../auth/viewer';
import { Settings } from '../config';
import { GraphQLContext, createContext } from '../context';
import { EntityStatements } from '../db/prepared';
import { DataSource } from 'typeorm';
import { BadUserInputError } from '../common/errors';
import { checkFilterBounds } from '../common/filter-bounds';
import { activationStats, filterConditions, resolveStatsFilter, SqlParameters } from './report.service';
import { ActivationStatsFilter, StatsGroupBy, StatsInterval } from './report.types';

/** One CSV field: quoted when it holds a comma, quote or line break; formulas defused for spreadsheets. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (values: unknown[]) => `${values.map(csvField).join(',')}\r\n`;

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

function filterOf(request: Request, settings: Settings): ActivationStatsFilter {
  const filter = Object.assign(new ActivationStatsFilter(), {
    from: instant(request, 'from'),
    to: instant(request, 'to'),
    regionCodes: list(request, 'regionCodes'),
    outcomes: oneOf(list(request, 'outcomes'), DecisionOutcome, 'outcomes'),
    modelCodes: list(request, 'modelCodes'),
    partnerId: typeof request.query.partnerId === 'string' ? request.query.partnerId : undefined,
  });
  // The same bounds as the GraphQL filter: a long list must not reach the database.
  checkFilterBounds(filter, settings.maxPageSize);
  return filter;
}

/**
 * Reports as CSV over HTTP, for spreadsheets: GET /reports/activation-stats.csv and
 * /reports/activation-attempts.csv with the report's arguments as query parameters (lists
 * comma-separated). Same roles and partner scoping as the GraphQL reports; the attempts export is
 * written page by page as it is read, never held whole.
 */
export function csvReports(dataSource: DataSource, settings: Settings): Router {
  const router = Router();
  const contextOf = (request: Request): GraphQLContext => {
    const viewer = request.viewer as Viewer | null;
    if (!viewer)
      throw new GraphQLError('this report needs an API key: send `Authorization: Bearer <key>`', {
        extensions: { code: 'UNAUTHENTICATED' },
      });
    if (!(access.readReports as readonly Role[]).includes(viewer.role))
      throw new GraphQLError(`a ${viewer.role} key may not read reports`, { extensions: { code: 'FORBIDDEN' } });
    return createContext(dataSource, settings, request.observation?.requestId ?? 'csv', viewer, request.observation);
  };
  const fail = (response: Response, error: unknown) => {
    if (!(error instanceof GraphQLError) || response.headersSent) throw error;
    const code = String(error.extensions.code);
    const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403 }[code] ?? 400;
    response.status(status).json({ errors: [{ message: error.message, extensions: error.extensions }] });
  };
  const start = (response: Response, name: string, header: string[]) => {
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    response.write(csvLine(header));
  };

  router.get('/reports/activation-stats.csv', async (request, response, next) => {
    try {
      const context = contextOf(request);
      const groupBy = oneOf(list(request, 'groupBy'), StatsGroupBy, 'groupBy') ?? [];
      const [interval] = oneOf(list(request, 'interval'), StatsInterval, 'interval') ?? [null];
      const timeZone = typeof request.query.timeZone === 'string' ? request.query.timeZone : 'UTC';
      // The file has the rows only.
      const stats = await activationStats(context, filterOf(request, settings), groupBy, interval, timeZone, {
        rows: true,
        totals: false,
      });
      const labels = async <T extends { id: number }>(
        ids: (number | null)[],
        loader: { loadMany(keys: number[]): Promise<(T | null | Error)[]> },
        label: (value: T) => string,
      ) => {
        const found = await loader.loadMany([...new Set(ids.filter((id): id is number => id !== null))]);
        return new Map(
          found
            .filter((value): value is T => !!value && !(value instanceof Error))
            .map((value) => [value.id, label(value)]),
        );
      };
      const { loaders } = context;
      const regions = await labels(
        [...stats.rows.map((row) => row.regionId), ...stats.rows.map((row) => row.countryId)],
        loaders.regionById,
        (region) => region.code,
      );
      const models = await labels(
        stats.rows.map((row) => row.modelId),
        loaders.deviceModelById,
        (model) => model.code,
      );
      const partners = await labels(
        stats.rows.map((row) => row.partnerId),
        loaders.partnerById,
        (partner) => partner.name,
      );
      const policies = await labels(
        stats.rows.map((row) => row.policyId),
        loaders.policyById,
        (policy) => policy.key,
      );
      start(response, 'activation-stats.csv', [
        'bucketStart',
        'region',
        'country',
        'outcome',
        'model',
        'partner',
        'policy',
        'attempts',
        'devices',
        'locks',
        'reviews',
        'monitorWouldLocks',
      ]);
      for (const row of stats.rows) {
        const label = (map: Map<number, string>, id: number | null) => (id === null ? null : (map.get(id) ?? null));
        await write(
          response,
          csvLine([
            row.bucketStart,
            label(regions, row.regionId),
            label(regions, row.countryId),
            row.outcome,
            label(models, row.modelId),
            label(partners, row.partnerId),
            label(policies, row.policyId),
            row.attempts,
            row.devices,
            row.locks,
            row.reviews,
            row.monitorWouldLocks,
          ]),
        );
      }
      response.end();
    } catch (error) {
      try {
        fail(response, error);
      } catch (fault) {
        next(fault);
      }
    }
  });

  router.get('/reports/activation-attempts.csv', async (request, response, next) => {
    try {
      const context = contextOf(request);
      const filter = await resolveStatsFilter(context, filterOf(request, settings));
      const statements = new EntityStatements(dataSource, ActivationAttempt);
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
      let after: { occurredAt: unknown; id: number } | null = null;
      for (;;) {
        const parameters = new SqlParameters(statements);
        const conditions = filterConditions(filter, parameters);
        if (after) conditions.push(parameters.after(after));
        const rows: Record<string, unknown>[] = await dataSource.query(
          `SELECT a."id" AS "id", a."occurredAt" AS "occurredAt", d."imei" AS "imei", m."code" AS "model", p."name" AS "partner", r."code" AS "region", ` +
            `a."regionSource" AS "regionSource", a."outcome" AS "outcome", a."enforced" AS "enforced", pol."key" AS "policy", v."number" AS "policyVersion", a."reasonCodes" AS "reasonCodes" ` +
            `FROM "activation_attempt" a JOIN "device" d ON d."id" = a."deviceId" JOIN "device_model" m ON m."id" = d."modelId" JOIN "partner" p ON p."id" = d."partnerId" ` +
            `LEFT JOIN "region" r ON r."id" = a."resolvedRegionId" LEFT JOIN "policy_version" v ON v."id" = a."policyVersionId" LEFT JOIN "policy" pol ON pol."id" = v."policyId" ` +
            `WHERE ${conditions.join(' AND ')} ORDER BY a."occurredAt", a."id" LIMIT 2000`,
          parameters.values,
        );
        for (const raw of rows) {
          const row = statements.hydrate(raw, ['occurredAt', 'enforced', 'reasonCodes']);
          await write(
            response,
            csvLine([
              row.occurredAt,
              raw.imei,
              raw.model,
              raw.partner,
              raw.region,
              raw.regionSource,
              raw.outcome,
              row.enforced,
              raw.policy,
              raw.policyVersion,
              (row.reasonCodes ?? []).join(' '),
            ]),
          );
        }
        if (rows.length < 2000) break;
        const last = rows[rows.length - 1];
        after = { occurredAt: last.occurredAt, id: Number(last.id) };
      }
      response.end();
    } catch (error) {
      try {
        fail(response, error);
      } catch (fault) {
        next(fault);
      }
    }
  });
  return router;
}
