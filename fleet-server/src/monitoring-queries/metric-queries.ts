/**
 * @module monitoring-queries/metric-queries
 * A metric's time series and a quantity's baseline-vs-live histograms for one model version,
 * role and scope, read from the stored rollups (never raw telemetry): a series merges the windows
 * inside each step and computes the metric on the merge, so a point equals computeMetric over
 * the step's records.
 *
 * A window belongs to the step its start falls in. Windows downsampled with age (an hour, a day)
 * are longer than a fine step and land whole in the step they start in.
 */
import {
  computeMetric,
  denseCounts,
  driftVerdict,
  emptyRollup,
  featureEdges,
  mergeRollup,
  needsReference,
  scopeKind,
  windowStart,
  WINDOW_MS,
  HOUR_MS,
  type Rollup,
  type ValueStats,
} from '@edgeloop/protocol';
import {
  MAX_SERIES_POINTS,
  type HistogramQuery,
  type HistogramResponse,
  type SeriesQuery,
  type SeriesResponse,
} from '@edgeloop/protocol/rest';
import { RegistryError } from '../registry/model-registry.js';
import { finiteOrNull, resolveRange, versionContext, type QueryDeps, type VersionContext } from './query-context.js';

/** Range of a series or histogram when the caller gives no `from`. */
export const DEFAULT_QUERY_SPAN_MS = HOUR_MS;

export async function metricSeries(deps: QueryDeps, q: SeriesQuery): Promise<SeriesResponse> {
  const { from, to } = resolveRange(deps, q, DEFAULT_QUERY_SPAN_MS);
  const scope = q.scope ?? 'fleet';
  const role = q.role ?? 'serving';
  const windowMs = WINDOW_MS[scopeKind(scope)];
  const step = q.step ?? windowMs;
  if (step % windowMs !== 0)
    throw new RegistryError(
      400,
      `step ${step} ms is not a multiple of the ${scopeKind(scope)} window (${windowMs} ms); use e.g. step=${windowMs} or ${windowMs * 5}`,
    );
  const start = windowStart(from, step);
  const points = Math.ceil((to - start) / step);
  if (points > MAX_SERIES_POINTS) {
    const coarser = Math.ceil((to - start) / MAX_SERIES_POINTS / windowMs) * windowMs;
    throw new RegistryError(
      400,
      `${points} points asked for, at most ${MAX_SERIES_POINTS} per request: use step=${coarser} or more, or a shorter range`,
    );
  }
  const ctx = await versionContext(deps, q.model, q.version);
  const refused = missingReference(ctx, q.metric);
  if (refused) throw new RegistryError(409, `${q.metric} ${refused}`);

  const steps: Rollup[] = Array.from({ length: points }, () => emptyRollup(ctx.spec.classes !== undefined));
  const end = start + points * step;
  const windows = await deps.store.rollups.windows({
    model: q.model,
    version: q.version,
    role,
    scopes: [scope],
    from: start,
    to: end,
  });
  for (const w of windows) {
    const i = Math.max(0, Math.floor((w.windowStart - start) / step));
    if (i < points) mergeRollup(steps[i]!, w.rollup);
  }
  return {
    model: q.model,
    version: q.version,
    role,
    scope,
    metric: q.metric,
    from,
    to,
    step,
    points: steps.map((r, i) => {
      const m = computeMetric(q.metric, r, ctx.spec, ctx.reference ?? undefined);
      return { t: start + i * step, value: finiteOrNull(m.value), samples: m.samples };
    }),
  };
}

/** Why the version cannot give this metric a value (what it lacks, what to do); undefined when it can. */
function missingReference(ctx: VersionContext, metric: string): string | undefined {
  if (!needsReference(metric)) return undefined;
  const ref = `${ctx.record.name}@${ctx.record.version}`;
  if (metric === 'error.mae_ratio')
    return ctx.reference?.validationMae
      ? undefined
      : `divides by the version's validation MAE, and ${ref} has none in its metrics (validation_mae); ask for error.mae instead`;
  return ctx.reference && ctx.reference.count > 0
    ? undefined
    : `compares live data with a reference distribution, and ${ref} has none (no training summary); ` +
        `register the version with a trainingSummary, or ask for a live metric such as error.mae or a feature's mean`;
}

/** Edges, live stats and reference stats of a histogram quantity; baseline is absent for the error. */
function quantityOf(
  quantity: string,
  live: Rollup,
  ctx: VersionContext,
): { edges: readonly number[]; live: ValueStats | undefined; baseline: ValueStats | undefined; categorical: boolean } {
  const ref = ctx.reference;
  const categorical = ctx.spec.classes !== undefined;
  if (quantity === 'output') return { edges: ctx.spec.output, live: live.output, baseline: ref?.output, categorical };
  if (quantity === 'reference')
    return { edges: ctx.spec.reference, live: live.reference, baseline: ref?.reference, categorical };
  if (quantity === 'error') return { edges: ctx.spec.error, live: live.error, baseline: undefined, categorical: false };
  const feature = quantity.slice('feature.'.length);
  return {
    edges: featureEdges(ctx.spec, feature),
    live: live.features[feature],
    baseline: ref?.features[feature],
    categorical: false,
  };
}

export async function baselineLiveHistograms(deps: QueryDeps, q: HistogramQuery): Promise<HistogramResponse> {
  const { from, to } = resolveRange(deps, q, DEFAULT_QUERY_SPAN_MS);
  const scope = q.scope ?? 'fleet';
  const role = q.role ?? 'serving';
  const ctx = await versionContext(deps, q.model, q.version);
  const rollup = await deps.store.rollups.sum({ model: q.model, version: q.version, role, scopes: [scope], from, to });
  const h = quantityOf(q.quantity, rollup, ctx);
  const live = denseCounts(h.live?.bins ?? {}, h.edges);
  const baseline = h.baseline && h.baseline.n > 0 ? denseCounts(h.baseline.bins, h.edges) : null;
  const verdict = baseline ? driftVerdict(baseline, live, h.edges, { categorical: h.categorical }) : null;
  return {
    model: q.model,
    version: q.version,
    role,
    scope,
    quantity: q.quantity,
    from,
    to,
    edges: [...h.edges],
    baseline,
    live,
    verdict: verdict && { ...verdict, value: finiteOrNull(verdict.value) },
  };
}
