/**
 * @module monitoring/monitoring-test-kit
 * What the monitoring tests run on: rollups folded in memory with protocol's foldRecord and
 * merged with mergeRollup, keyed and windowed as the store keys them (fleet and group minutes,
 * device ten minutes), a small metric port (means, PSI, counts) standing in for the catalogue,
 * and a quiet logger that keeps what it was told.
 */
import {
  binIndex,
  denseCounts,
  emptyRollup,
  foldRecord,
  mergeRollup,
  scopeKind,
  WINDOW_MS,
  windowStart,
  type BinSpec,
  type Rollup,
  type RollupInput,
  type ScopeKey,
  type TrainingSummary,
} from '@edgeloop/protocol';
import pino, { type Logger } from 'pino';
import type { MetricPort, RollupRead, RollupReader } from './ports.js';

interface Stored {
  model: string;
  version: number;
  scope: ScopeKey;
  windowStart: number;
  windowMs: number;
  rollup: Rollup;
}

export class MemoryRollups implements RollupReader {
  private readonly rows = new Map<string, Stored>();
  /** Calls made, for the cost assertions (one read per version and window, not per device). */
  calls = 0;

  constructor(private readonly spec: BinSpec) {}

  /** Folds one record of `device` (in `group`, if any) at device time `ts` into its fleet, group and device windows. */
  add(model: string, version: number, device: string, ts: number, rec: RollupInput, group?: string): void {
    const scopes: ScopeKey[] = ['fleet', `device:${device}`, ...(group ? [`group:${group}` as const] : [])];
    for (const scope of scopes) {
      const windowMs = WINDOW_MS[scopeKind(scope)];
      const start = windowStart(ts, windowMs);
      const key = `${model}@${version}|${scope}|${start}`;
      let row = this.rows.get(key);
      if (!row) {
        row = {
          model,
          version,
          scope,
          windowStart: start,
          windowMs,
          rollup: emptyRollup(this.spec.classes !== undefined),
        };
        this.rows.set(key, row);
      }
      foldRecord(row.rollup, this.spec, rec);
    }
  }

  private select(q: RollupRead): Stored[] {
    return [...this.rows.values()]
      .filter(
        (r) =>
          r.model === q.model &&
          r.version === q.version &&
          (q.scopes === undefined || q.scopes.includes(r.scope)) &&
          (q.scopePrefix === undefined || r.scope.startsWith(q.scopePrefix)) &&
          (q.from === undefined || r.windowStart + r.windowMs > q.from) &&
          (q.to === undefined || r.windowStart < q.to),
      )
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.windowStart - b.windowStart));
  }

  async sum(q: RollupRead): Promise<Rollup> {
    this.calls++;
    const out = emptyRollup(this.spec.classes !== undefined);
    for (const r of this.select(q)) mergeRollup(out, r.rollup);
    return out;
  }

  async sumPerScope(q: RollupRead): Promise<Map<ScopeKey, Rollup>> {
    this.calls++;
    const out = new Map<ScopeKey, Rollup>();
    for (const r of this.select(q)) {
      let m = out.get(r.scope);
      if (!m) out.set(r.scope, (m = emptyRollup(this.spec.classes !== undefined)));
      mergeRollup(m, r.rollup);
    }
    return out;
  }

  async windows(q: RollupRead) {
    this.calls++;
    return this.select(q).map(({ scope, windowStart: ws, windowMs, rollup }) => ({
      scope,
      windowStart: ws,
      windowMs,
      rollup,
    }));
  }
}

const PSI_EPSILON = 1e-4;

function psiOf(ref: number[], live: number[]): number {
  const rn = ref.reduce((a, b) => a + b, 0);
  const ln = live.reduce((a, b) => a + b, 0);
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = Math.max(ref[i]! / rn, PSI_EPSILON);
    const q = Math.max(live[i]! / ln, PSI_EPSILON);
    s += (q - p) * Math.log(q / p);
  }
  return s;
}

/** `feature.<f>.mean`, `output.mean`, `output.psi`, `count` and `error.mae_ratio` (others: no value). */
export const testMetrics: MetricPort = {
  compute(name, live, spec, reference) {
    if (name === 'count') return { value: live.count, samples: live.count };
    if (name === 'output.mean')
      return { value: live.output.n ? live.output.sum / live.output.n : null, samples: live.output.n };
    if (name === 'output.psi') {
      if (!reference.rollup || live.output.n === 0) return { value: null, samples: live.output.n };
      return {
        value: psiOf(
          denseCounts(reference.rollup.output.bins, spec.output),
          denseCounts(live.output.bins, spec.output),
        ),
        samples: live.output.n,
      };
    }
    if (name === 'error.mae_ratio') {
      const n = live.error.n;
      if (!reference.validationMae || n === 0) return { value: null, samples: n };
      return { value: live.error.absSum / n / reference.validationMae, samples: n };
    }
    const m = /^feature\.(.+)\.mean$/.exec(name);
    if (m) {
      const s = live.features[m[1]!];
      return s && s.n > 0 ? { value: s.sum / s.n, samples: s.n } : { value: null, samples: 0 };
    }
    return { value: null, samples: 0 };
  },
  needsReference: (name) => name.endsWith('.psi') || name === 'drift.features',
  referenceFromSummary(summary: TrainingSummary, spec: BinSpec): Rollup {
    const r = emptyRollup();
    if (summary.prediction)
      summary.prediction.counts.forEach((c, i) => {
        if (c === 0) return;
        const mid = (summary.prediction!.edges[i]! + summary.prediction!.edges[i + 1]!) / 2;
        const key = String(binIndex(spec.output, mid));
        r.output.bins[key] = (r.output.bins[key] ?? 0) + c;
        r.output.n += c;
      });
    return r;
  },
};

/** A logger that keeps its lines (level ≥ info) as objects. */
export function keptLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}
