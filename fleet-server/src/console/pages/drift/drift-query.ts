/**
 * @module console/pages/drift/drift-query
 * What the drift page shows, read from its URL (the URL is the state, so a view can be shared):
 * the model, the version whose histograms are drawn, the metric charted, the scope, and the time
 * range. Anything malformed falls back to a default rather than failing the page; the form shows
 * what was used.
 */
import { parseMetricName } from '@edgeloop/protocol';

export const RANGES = [
  { key: '15m', label: 'last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'last hour', ms: 3_600_000 },
  { key: '6h', label: 'last 6 hours', ms: 6 * 3_600_000 },
  { key: '24h', label: 'last 24 hours', ms: 24 * 3_600_000 },
  { key: '7d', label: 'last 7 days', ms: 7 * 24 * 3_600_000 },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];

/** Metrics offered in the metric field (any catalogue name may be typed). */
export const SUGGESTED_METRICS = [
  'features.max.psi',
  'output.psi',
  'reference.psi',
  'reference.out_of_range',
  'error.mae',
  'error.mae_ratio',
  'drift.features',
  'count',
] as const;

const SCOPE = /^(fleet|group:[A-Za-z0-9_.-]{1,64}|device:[A-Za-z0-9_.-]{1,64})$/;

export interface DriftQuery {
  model?: string;
  version?: number;
  metric?: string;
  scope: string;
  range: RangeKey;
  /** End of the range (ms); absent = now, or the newest record when it is ahead of now. */
  to?: number;
}

function validMetric(m: string | undefined): string | undefined {
  if (!m) return undefined;
  try {
    parseMetricName(m);
    return m;
  } catch {
    return undefined;
  }
}

export function readDriftQuery(url: URL): DriftQuery {
  const p = url.searchParams;
  const text = (k: string) => p.get(k)?.trim() || undefined;
  const version = Number.parseInt(p.get('version') ?? '', 10);
  const to = Number.parseInt(p.get('to') ?? '', 10);
  const range = RANGES.find((r) => r.key === p.get('range'))?.key ?? '1h';
  const scope = text('scope');
  const metric = text('metric');
  return {
    model: text('model')?.slice(0, 64),
    version: Number.isInteger(version) && version > 0 ? version : undefined,
    metric: validMetric(metric?.slice(0, 200)),
    scope: scope && SCOPE.test(scope) ? scope : 'fleet',
    range,
    to: Number.isInteger(to) && to > 0 ? to : undefined,
  };
}

export function rangeMs(key: RangeKey): number {
  return RANGES.find((r) => r.key === key)!.ms;
}

/** The page's URL for a query (defaults left out). */
export function driftUrl(q: Partial<DriftQuery>): string {
  const p = new URLSearchParams();
  if (q.model) p.set('model', q.model);
  if (q.version) p.set('version', String(q.version));
  if (q.metric) p.set('metric', q.metric);
  if (q.scope && q.scope !== 'fleet') p.set('scope', q.scope);
  if (q.range && q.range !== '1h') p.set('range', q.range);
  if (q.to) p.set('to', String(q.to));
  const s = p.toString();
  return s ? `/drift?${s}` : '/drift';
}
