/**
 * @module rest/monitoring-queries
 * What the console and `edgeloop drift` / `edgeloop series` read about drift and live error: a
 * metric's time series for one scope, a quantity's baseline and live histograms, and the fleet's
 * drift overview. Schemas and their routes (rest/routes.ts spreads MONITORING_QUERY_ROUTES in).
 *
 * Times are device time in ms since the epoch, as the rollups are keyed; a window counts whole
 * when any part of it overlaps [from, to).
 */
import { z } from 'zod';
import { DRIFT_METHODS } from '../monitoring/drift-defaults.js';
import { metricNameSchema } from '../monitoring/metric-catalogue.js';
import { ROLLUP_ROLES } from '../monitoring/windows.js';
import { ID_PATTERN } from '../topics.js';
import { route, type RouteSpec } from './route-spec.js';
import { epochMsSchema, integerText, restIdSchema, versionTextSchema } from './shared.js';

/** Points one series answer may hold: a longer range needs a coarser step. */
export const MAX_SERIES_POINTS = 1_000;
export const DRIFT_OVERVIEW_DEFAULT_LIMIT = 50;
export const DRIFT_OVERVIEW_MAX_LIMIT = 200;
/** Drifted devices listed per version unless asked for more (the total is always given). */
export const DRIFT_DEVICES_DEFAULT_LIMIT = 20;
export const DRIFT_DEVICES_MAX_LIMIT = 1_000;

/** `fleet`, `group:<name>` or `device:<id>` in a query. */
export const scopeTextSchema = z
  .string()
  .refine(
    (s) => s === 'fleet' || (/^(group|device):/.test(s) && ID_PATTERN.test(s.slice(s.indexOf(':') + 1))),
    'scope must be fleet, group:<name> or device:<id>, e.g. device:cam-1',
  )
  .transform((s) => s as 'fleet' | `group:${string}` | `device:${string}`);

/** A histogram quantity: a monitoring feature, the output, the reference value or the error. */
export const histogramQuantitySchema = z
  .string()
  .refine(
    (q) => q === 'output' || q === 'reference' || q === 'error' || /^feature\.[^\s]{1,64}$/.test(q),
    'quantity must be feature.<name>, output, reference or error, e.g. feature.brightness',
  );

const role = z.enum(ROLLUP_ROLES).describe('serving (default): the answered model; shadow: a shadow run beside it');
const timeText = (what: string) => integerText(0).describe(what);

export const seriesQuerySchema = z.object({
  model: restIdSchema,
  version: versionTextSchema,
  metric: metricNameSchema.describe('a metric name, e.g. error.mae or feature.brightness.psi'),
  role: role.optional(),
  scope: scopeTextSchema.optional().describe('fleet (default), group:<name> or device:<id>'),
  from: timeText('range start, ms since the epoch (default: an hour before `to`)').optional(),
  to: timeText('range end, ms since the epoch (default: now)').optional(),
  step: integerText(1)
    .describe("ms per point, a multiple of the scope's window (1 min fleet/group, 10 min device; the default)")
    .optional(),
});
export type SeriesQuery = z.output<typeof seriesQuerySchema>;

export const seriesPointSchema = z.object({
  /** Start of the step. */
  t: epochMsSchema,
  /** null when the step has nothing to compute the metric on. */
  value: z.number().nullable(),
  samples: z.number().int(),
});
export type SeriesPoint = z.infer<typeof seriesPointSchema>;

export const seriesResponseSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    role: z.enum(ROLLUP_ROLES),
    scope: z.string(),
    metric: z.string(),
    from: epochMsSchema,
    to: epochMsSchema,
    step: z.number().int(),
    points: z.array(seriesPointSchema),
  })
  .meta({ id: 'MetricSeries' });
export type SeriesResponse = z.infer<typeof seriesResponseSchema>;

export const histogramQuerySchema = z.object({
  model: restIdSchema,
  version: versionTextSchema,
  quantity: histogramQuantitySchema,
  role: role.optional(),
  scope: scopeTextSchema.optional(),
  from: timeText('range start, ms since the epoch (default: an hour before `to`)').optional(),
  to: timeText('range end, ms since the epoch (default: now)').optional(),
});
export type HistogramQuery = z.output<typeof histogramQuerySchema>;

export const driftVerdictSchema = z
  .object({
    method: z.enum(DRIFT_METHODS),
    /** p-value (ks, chi2) or distance; null without a verdict. */
    value: z.number().nullable(),
    threshold: z.number(),
    /** null: too few values on either side to say. */
    drifted: z.boolean().nullable(),
    n: z.number().int(),
  })
  .meta({ id: 'DriftVerdict' });
export type DriftVerdictView = z.infer<typeof driftVerdictSchema>;

export const histogramResponseSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    role: z.enum(ROLLUP_ROLES),
    scope: z.string(),
    quantity: z.string(),
    from: epochMsSchema,
    to: epochMsSchema,
    edges: z.array(z.number()),
    /** Dense counts of the version's reference distribution; null when it has none for this quantity. */
    baseline: z.array(z.number()).nullable(),
    live: z.array(z.number()),
    /** Live against baseline with the drift defaults; null without a baseline. */
    verdict: driftVerdictSchema.nullable(),
  })
  .meta({ id: 'BaselineLiveHistograms' });
export type HistogramResponse = z.infer<typeof histogramResponseSchema>;

export const driftOverviewQuerySchema = z.object({
  model: restIdSchema.optional(),
  from: timeText('range start, ms since the epoch (default: 15 minutes before `to`)').optional(),
  to: timeText('range end, ms since the epoch (default: now)').optional(),
  limit: integerText(1, DRIFT_OVERVIEW_MAX_LIMIT).optional(),
  cursor: z.string().max(64).optional().describe("the previous page's nextCursor"),
  devices: integerText(0, DRIFT_DEVICES_MAX_LIMIT)
    .optional()
    .describe(`drifted devices listed per version (default ${DRIFT_DEVICES_DEFAULT_LIMIT})`),
});
export type DriftOverviewQuery = z.output<typeof driftOverviewQuerySchema>;

const quantityVerdictSchema = driftVerdictSchema.extend({
  /** feature.<name>, output or reference. */
  quantity: z.string(),
});

export const driftedDeviceSchema = z.object({
  deviceId: z.string(),
  count: z.number().int(),
  /** The quantities that drifted in the device's own windows. */
  drifted: z.array(z.string()),
  /** Start of the newest unbroken run of drifted stretches of its windows; null when its latest stretch is quiet. */
  driftingSince: epochMsSchema.nullable(),
});

export const driftOverviewEntrySchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    role: z.enum(ROLLUP_ROLES),
    /** Records in the range. */
    count: z.number().int(),
    error: z.object({
      n: z.number().int(),
      mae: z.number().nullable(),
      rmse: z.number().nullable(),
      bias: z.number().nullable(),
      /** The version's validation MAE from its training metrics. */
      validationMae: z.number().nullable(),
      /** Live MAE / validation MAE. */
      maeRatio: z.number().nullable(),
    }),
    /** Whether the version has a reference distribution to judge drift against. */
    hasReference: z.boolean(),
    verdicts: z.array(quantityVerdictSchema),
    /** Quantities that drifted fleet-wide. */
    drifted: z.array(z.string()),
    /**
     * Since when the version drifts fleet-wide: start of the newest unbroken run of drifted
     * stretches (consecutive windows holding at least 100 records each); null when not drifting.
     */
    driftingSince: epochMsSchema.nullable(),
    driftedDeviceCount: z.number().int(),
    /** The most drifted devices first, at most `devices` of them. */
    driftedDevices: z.array(driftedDeviceSchema),
  })
  .meta({ id: 'DriftOverviewEntry' });
export type DriftOverviewEntry = z.infer<typeof driftOverviewEntrySchema>;

export const driftOverviewResponseSchema = z.object({
  from: epochMsSchema,
  to: epochMsSchema,
  /** Worst first: most drifted quantities, then most drifted devices, then highest MAE ratio. */
  versions: z.array(driftOverviewEntrySchema),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});
export type DriftOverviewResponse = z.infer<typeof driftOverviewResponseSchema>;

export const MONITORING_QUERY_ROUTES = {
  metricSeries: route({
    method: 'GET',
    path: '/api/v1/monitoring/series',
    tag: 'monitoring',
    summary: "A metric's time series for one version, role and scope, one point per step (from the rollups)",
    auth: 'admin',
    query: seriesQuerySchema,
    responses: { 200: seriesResponseSchema },
    errors: [404, 409],
  }),
  histograms: route({
    method: 'GET',
    path: '/api/v1/monitoring/histograms',
    tag: 'monitoring',
    summary: "A quantity's baseline and live histograms on the version's bin edges, with the drift verdict",
    auth: 'admin',
    query: histogramQuerySchema,
    responses: { 200: histogramResponseSchema },
    errors: [404],
  }),
  driftOverview: route({
    method: 'GET',
    path: '/api/v1/monitoring/drift',
    tag: 'monitoring',
    summary:
      'Every model version with data in the range: live error, drift per quantity and drifted devices, worst first',
    auth: 'admin',
    query: driftOverviewQuerySchema,
    responses: { 200: driftOverviewResponseSchema },
  }),
} as const satisfies Record<string, RouteSpec>;
