/**
 * @module console/pages/drift/drift-charts
 * Turns the monitoring API's answers into chart data: a metric's series per version on one time
 * axis, the rule thresholds drawn across it, the marks (drift onsets, deployments, rollbacks,
 * resolutions) on it, and baseline vs live histograms as shares. Pure functions: the pages fetch,
 * these shape, so the shaping is tested without a server.
 */
import type { RuleCondition } from '@edgeloop/protocol';
import type {
  HistogramResponse,
  IncidentView,
  RolloutSummary,
  RuleView,
  SeriesResponse,
} from '@edgeloop/protocol/rest';
import type { HistogramChartData, SeriesChartData } from '../../client/charts/chart-data.js';
import { fmtNumber } from '../../layout/components.js';

export const MINUTE_MS = 60_000;
/** Window length of a scope's rollups: fleet and group minutes, device ten minutes (the API's rule). */
export function scopeWindowMs(scope: string): number {
  return scope.startsWith('device:') ? 10 * MINUTE_MS : MINUTE_MS;
}

/** A step giving at most ~`points` points over the range, a multiple of the scope's window. */
export function stepFor(fromMs: number, toMs: number, scope: string, points = 240): number {
  const windowMs = scopeWindowMs(scope);
  return Math.max(1, Math.ceil((toMs - fromMs) / points / windowMs)) * windowMs;
}

/**
 * The series of several versions (same metric, scope, range and step) as one chart: one line per
 * version over the union of their step starts, null where a version has no point.
 */
export function versionSeries(answers: readonly SeriesResponse[]): SeriesChartData {
  const x = [...new Set(answers.flatMap((a) => a.points.map((p) => p.t)))].sort((a, b) => a - b);
  return {
    x,
    series: answers.map((a) => {
      const byT = new Map(a.points.map((p) => [p.t, p.value]));
      return {
        label: `v${a.version}${a.role === 'shadow' ? ' (shadow)' : ''}`,
        values: x.map((t) => byT.get(t) ?? null),
      };
    }),
  };
}

/**
 * The chart's x axis spans the whole range [from, to], not only the steps with data, so a mark
 * after the last point (an incident opened a moment ago) is still drawn: the ends carry no values.
 */
export function spanRange(data: SeriesChartData, from: number, to: number): SeriesChartData {
  const ends = [from, to].filter((t) => !data.x.includes(t));
  if (ends.length === 0 || data.series.length === 0) return data;
  const x = [...data.x, ...ends].sort((a, b) => a - b);
  const at = new Map(data.x.map((t, i) => [t, i]));
  return {
    ...data,
    x,
    series: data.series.map((s) => ({ ...s, values: x.map((t) => (at.has(t) ? s.values[at.get(t)!]! : null)) })),
  };
}

/** The lines a condition draws: its threshold, or both edges of its band. */
export function conditionLines(name: string, c: RuleCondition): Array<{ label: string; value: number }> {
  switch (c.op) {
    case 'above':
      return [{ label: `${name} > ${fmtNumber(c.threshold, 3)}`, value: c.threshold }];
    case 'below':
      return [{ label: `${name} < ${fmtNumber(c.threshold, 3)}`, value: c.threshold }];
    case 'outside':
      return [
        { label: `${name} < ${fmtNumber(c.low, 3)}`, value: c.low },
        { label: `${name} > ${fmtNumber(c.high, 3)}`, value: c.high },
      ];
  }
}

/** A condition in words, as the rule table shows it. */
export function describeCondition(c: RuleCondition): string {
  switch (c.op) {
    case 'above':
      return `> ${fmtNumber(c.threshold, 4)}${c.clear !== undefined ? ` (clears ≤ ${fmtNumber(c.clear, 4)})` : ''}`;
    case 'below':
      return `< ${fmtNumber(c.threshold, 4)}${c.clear !== undefined ? ` (clears ≥ ${fmtNumber(c.clear, 4)})` : ''}`;
    case 'outside':
      return `outside [${fmtNumber(c.low, 4)}, ${fmtNumber(c.high, 4)}]${
        c.clearLow !== undefined || c.clearHigh !== undefined
          ? ` (clears inside [${fmtNumber(c.clearLow ?? c.low, 4)}, ${fmtNumber(c.clearHigh ?? c.high, 4)}])`
          : ''
      }`;
  }
}

/** Thresholds of the enabled rules that judge `metric` on `model`'s versions (a rule without a model judges all). */
export function ruleThresholds(
  rules: readonly RuleView[],
  metric: string,
  model: string,
  version?: number,
): Array<{ label: string; value: number }> {
  return rules
    .filter(
      (r) =>
        r.rule.enabled &&
        r.rule.metric === metric &&
        (r.rule.model === undefined || r.rule.model === model) &&
        (version === undefined || r.rule.version === undefined || r.rule.version === version),
    )
    .flatMap((r) => conditionLines(r.rule.name, r.rule.condition));
}

type Mark = NonNullable<SeriesChartData['marks']>[number];

/** Drift onsets and resolutions of incidents, deployments and rollbacks of rollouts, inside [from, to). */
export function driftMarks(
  incidents: readonly IncidentView[],
  rollouts: readonly RolloutSummary[],
  from: number,
  to: number,
): Mark[] {
  const marks: Mark[] = [];
  const inside = (t: number | null): t is number => t !== null && t >= from && t < to;
  for (const i of incidents) {
    if (inside(i.openedAt)) marks.push({ at: i.openedAt, kind: 'onset', label: `onset ${i.rule} v${i.version}` });
    if (inside(i.resolvedAt)) marks.push({ at: i.resolvedAt, kind: 'resolve', label: `resolved v${i.version}` });
  }
  for (const r of rollouts) {
    if (r.role === 'shadow') continue;
    if (inside(r.createdAt)) marks.push({ at: r.createdAt, kind: 'deploy', label: `rollout v${r.version}` });
    if (r.state === 'rolled-back' && inside(r.finishedAt))
      marks.push({ at: r.finishedAt, kind: 'rollback', label: `rollback v${r.version}` });
  }
  return marks.sort((a, b) => a.at - b.at);
}

/** Counts → shares (an all-zero histogram stays zeros). */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** Baseline vs live as shares on the version's bin edges (live alone when the version has no baseline). */
export function histogramChart(h: HistogramResponse): HistogramChartData {
  const series = [
    ...(h.baseline ? [{ label: 'baseline (training)', share: shares(h.baseline) }] : []),
    { label: 'live', share: shares(h.live) },
  ];
  return { edges: h.edges, series, xLabel: quantityLabel(h.quantity) };
}

/** feature.brightness → brightness; output → prediction; reference → reference value. */
export function quantityLabel(quantity: string): string {
  if (quantity.startsWith('feature.')) return quantity.slice('feature.'.length);
  if (quantity === 'output') return 'prediction';
  if (quantity === 'reference') return 'reference value';
  return quantity;
}

/** The short, id-safe name of a quantity for test ids and element ids. */
export function quantityKey(quantity: string): string {
  const short = quantity.startsWith('feature.') ? quantity.slice('feature.'.length) : quantity;
  return short.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The scope a series query takes for an alert or incident member's scope (`version`, `arm:…` read fleet-wide). */
export function seriesScopeOf(memberScope: string): string {
  return memberScope.startsWith('group:') || memberScope.startsWith('device:') ? memberScope : 'fleet';
}
