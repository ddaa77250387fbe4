/**
 * @module monitoring/baseline-detectors
 * The label-free detector per served model version: Page-Hinkley on each record's distance from
 * the version's training baseline (baseline-distance.ts, page-hinkley.ts), raising and resolving
 * the local alert "page-hinkley". A version whose manifest carries no baseline runs none, and
 * /v1/health says so.
 */
import type { PageHinkleySettings } from '@edgeloop/protocol';
import { BaselineDistance } from './baseline-distance.js';
import type { LocalAlerts } from './local-alerts.js';
import type { WindowRecord } from './local-windows.js';
import { PageHinkley } from './page-hinkley.js';
import type { VersionSpec } from './version-spec.js';

export const PAGE_HINKLEY_RULE = 'page-hinkley';
const METRIC = 'baseline.distance';

interface Detector {
  distance: BaselineDistance;
  ph: PageHinkley;
  seen: number;
}

export class BaselineDetectors {
  private readonly detectors = new Map<VersionSpec, Detector | null>();
  private settings: PageHinkleySettings | undefined;

  constructor(
    private readonly specOf: (model: string, version: number) => VersionSpec | undefined,
    private readonly alerts: LocalAlerts,
  ) {}

  /** New settings restart every detector (a firing one resolves first). */
  configure(settings: PageHinkleySettings): void {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    for (const [spec, d] of this.detectors)
      if (d?.ph.firing) this.resolve(spec, d, Date.now(), 'detector settings changed');
    this.detectors.clear();
    this.settings = settings;
  }

  observe(rec: WindowRecord): void {
    const spec = this.specOf(rec.model, rec.version);
    if (!spec) return;
    let d = this.detectors.get(spec);
    if (d === undefined) {
      d = this.settings?.enabled && spec.baseline ? this.create(spec) : null;
      this.detectors.set(spec, d);
    }
    if (!d) return;
    const x = d.distance.of(rec.features);
    if (x === null) return;
    d.seen++;
    const event = d.ph.add(x, rec.ts);
    if (event === 'alarm') {
      this.alerts.change({
        model: spec.model,
        version: spec.version,
        rule: PAGE_HINKLEY_RULE,
        metric: METRIC,
        state: 'firing',
        value: d.ph.recentLevel ?? x,
        threshold: this.settings!.lambda,
        samples: d.seen,
        ts: rec.ts,
        reason: `inputs moved away from the training baseline: distance ${fmt(d.ph.recentLevel ?? x)} σ vs ${fmt(d.ph.normalLevel ?? 0)} σ before (Page-Hinkley)`,
      });
    } else if (event === 'resolved') {
      this.resolve(
        spec,
        d,
        rec.ts,
        `inputs are back near the training baseline: distance ${fmt(d.ph.recentLevel ?? x)} σ`,
      );
    }
  }

  /** What /v1/health says about a version's detector. */
  describe(spec: VersionSpec): string {
    if (!this.settings?.enabled) return 'off: disabled in the monitoring settings';
    if (!spec.baseline) return 'off: the manifest carries no training baseline';
    const d = this.detectors.get(spec);
    return d?.ph.firing ? 'firing' : 'on';
  }

  private create(spec: VersionSpec): Detector | null {
    const distance = new BaselineDistance(spec.baseline!);
    if (distance.features === 0) return null;
    const { enabled: _enabled, ...ph } = this.settings!;
    return { distance, ph: new PageHinkley(ph), seen: 0 };
  }

  private resolve(spec: VersionSpec, d: Detector, ts: number, reason: string): void {
    this.alerts.change({
      model: spec.model,
      version: spec.version,
      rule: PAGE_HINKLEY_RULE,
      metric: METRIC,
      state: 'resolved',
      value: d.ph.recentLevel ?? null,
      threshold: this.settings?.lambda ?? null,
      samples: d.seen,
      ts,
      reason,
    });
  }
}

function fmt(v: number): string {
  return Number(v.toPrecision(3)).toString();
}
