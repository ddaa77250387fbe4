/**
 * @module console/pages/drift/drift-page
 * Drift and live error of one model: which versions drift in which quantities and on which
 * devices, a metric over time per version with the rules' thresholds drawn and drift onsets,
 * deployments and rollbacks marked, the chosen version's baseline vs live histograms per feature,
 * output and reference value, and the open incidents. Record times are device time, so the range
 * ends at the newest record when that is ahead of the server's clock (simulated time).
 */
import type { RestClient } from '@edgeloop/protocol/client';
import type { DriftOverviewEntry, HistogramResponse, IncidentView, SeriesResponse } from '@edgeloop/protocol/rest';
import type { SeriesChartData } from '../../client/charts/chart-data.js';
import { Badge, DataIsland, Empty, LiveRegion, Time, fmtNumber } from '../../layout/components.js';
import { describeFailure, type PageContext, type PageResult } from '../../page-context.js';
import {
  driftMarks,
  histogramChart,
  quantityKey,
  quantityLabel,
  ruleThresholds,
  stepFor,
  spanRange,
  versionSeries,
} from './drift-charts.js';
import { driftUrl, rangeMs, readDriftQuery, type DriftQuery } from './drift-query.js';
import { DriftFilters } from './drift-filters.js';
import { DriftSubnav, IncidentTable } from './incident-parts.js';

export interface DriftContext {
  q: DriftQuery;
  models: string[];
  model: string | undefined;
  /** Registered versions of the model, newest first. */
  versions: number[];
  from: number;
  to: number;
}

async function driftContext(api: RestClient, q: DriftQuery): Promise<DriftContext> {
  const { models: all } = await api.listModels();
  const models = [...new Set(all.map((m) => m.name))].sort();
  const model = q.model && models.includes(q.model) ? q.model : models[0];
  const versions = all
    .filter((m) => m.name === model)
    .map((m) => m.version)
    .sort((a, b) => b - a);
  let to = q.to ?? Date.now();
  if (model && q.to === undefined) {
    const newest = await api.listTelemetry({ query: { model, limit: 1, order: 'newest' } });
    const ts = newest.records[0]?.ts;
    if (ts !== undefined && ts >= to) to = ts + 1;
  }
  return { q, models, model, versions, from: to - rangeMs(q.range), to };
}

/** Serving rows of the overview, oldest version first (the chart's line order). */
function servingEntries(entries: readonly DriftOverviewEntry[]): DriftOverviewEntry[] {
  return entries.filter((e) => e.role === 'serving').sort((a, b) => a.version - b.version);
}

async function statusData(api: RestClient, c: DriftContext) {
  const model = c.model!;
  const [overview, open] = await Promise.all([
    api.driftOverview({ query: { model, from: c.from, to: c.to, devices: 10 } }),
    api.listIncidents({ query: { model, state: 'open', limit: 100 } }),
  ]);
  return { overview: overview.versions, open: open.incidents };
}

function DriftOverviewTable(props: { entries: readonly DriftOverviewEntry[]; c: DriftContext }) {
  const { entries, c } = props;
  if (entries.length === 0)
    return (
      <Empty>
        No records of {c.model} in this range. Pick a longer range, or check on the Devices page that devices serving it
        are online and syncing.
      </Empty>
    );
  return (
    <div class="table-wrap">
      <table data-testid="drift-overview">
        <caption class="muted">Worst first: drifted quantities, then drifted devices, then live error ratio</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col" class="num">
              Records
            </th>
            <th scope="col" class="num">
              Live MAE
            </th>
            <th scope="col" class="num">
              MAE / validation
            </th>
            <th scope="col">Drifted (fleet-wide)</th>
            <th scope="col">Drifting since</th>
            <th scope="col">Drifted devices</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr data-version={String(e.version)}>
              <th scope="row">
                <a href={driftUrl({ ...c.q, model: c.model, version: e.version })}>v{e.version}</a>
                {e.role === 'shadow' ? ' (shadow)' : ''}
              </th>
              <td class="num">{e.count.toLocaleString('en')}</td>
              <td class="num">{fmtNumber(e.error.mae)}</td>
              <td class="num">{fmtNumber(e.error.maeRatio)}</td>
              <td>
                {!e.hasReference ? (
                  <Badge tone="muted" title="register the version with a training summary, or set a reference window">
                    no baseline
                  </Badge>
                ) : e.drifted.length === 0 ? (
                  <Badge tone="ok">no drift</Badge>
                ) : (
                  e.drifted.map((d) => (
                    <>
                      <Badge tone="bad">{quantityLabel(d)} drifted</Badge>{' '}
                    </>
                  ))
                )}
              </td>
              <td>
                <Time at={e.driftingSince} empty="–" />
              </td>
              <td>
                {e.driftedDeviceCount === 0
                  ? '–'
                  : e.driftedDevices.map((d) => (
                      <>
                        <a href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a>
                        <span class="muted"> ({d.drifted.map(quantityLabel).join(', ')}; </span>
                        <a
                          href={driftUrl({ ...c.q, model: c.model, version: e.version, scope: `device:${d.deviceId}` })}
                          aria-label={`charts of ${d.deviceId}`}
                        >
                          charts
                        </a>
                        <span class="muted">)</span>{' '}
                      </>
                    ))}
                {e.driftedDeviceCount > e.driftedDevices.length
                  ? ` and ${e.driftedDeviceCount - e.driftedDevices.length} more`
                  : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Groups and devices the open incidents name, each a link to this page's charts for that scope. */
function ScopeLinks(props: { c: DriftContext; open: readonly IncidentView[] }) {
  const scopes = [
    ...new Set(props.open.flatMap((i) => i.members.map((m) => m.scope)).filter((s) => /^(group|device):/.test(s))),
  ].sort();
  if (scopes.length === 0 && props.c.q.scope === 'fleet') return null;
  return (
    <p>
      Charts by scope:{' '}
      <a
        href={driftUrl({ ...props.c.q, model: props.c.model, scope: 'fleet' })}
        aria-current={props.c.q.scope === 'fleet' ? 'true' : undefined}
      >
        fleet
      </a>
      {scopes.slice(0, 30).map((s) => (
        <>
          {' · '}
          <a
            href={driftUrl({ ...props.c.q, model: props.c.model, scope: s })}
            aria-current={props.c.q.scope === s ? 'true' : undefined}
          >
            {s}
          </a>
        </>
      ))}
    </p>
  );
}

async function StatusRegion(props: { api: RestClient; c: DriftContext; src: string }) {
  const { overview, open } = await statusData(props.api, props.c);
  return (
    <LiveRegion id="drift-status" src={props.src} topics="incidents" label="Drift status">
      <h2>Drift by version</h2>
      <p class="muted">
        From <Time at={props.c.from} /> to <Time at={props.c.to} />.
      </p>
      <DriftOverviewTable entries={overview} c={props.c} />
      <ScopeLinks c={props.c} open={open} />
      <h2>Open incidents</h2>
      {open.length === 0 ? (
        <Empty>
          No open incident for {props.c.model}. Resolved ones are on the <a href="/drift/incidents">incident list</a>.
        </Empty>
      ) : (
        <IncidentTable incidents={open} />
      )}
    </LiveRegion>
  );
}

/** The default metric: what an open incident watches, else the largest feature drift when there is a baseline, else live MAE. */
function chooseMetric(q: DriftQuery, open: readonly IncidentView[], entries: readonly DriftOverviewEntry[]): string {
  if (q.metric) return q.metric;
  if (open[0]) return open[0].metric;
  return entries.some((e) => e.hasReference) ? 'features.max.psi' : 'error.mae';
}

async function chartData(api: RestClient, c: DriftContext) {
  const model = c.model!;
  const [overview, incidents, rollouts, rules] = await Promise.all([
    api.driftOverview({ query: { model, from: c.from, to: c.to, devices: 0 } }),
    api.listIncidents({ query: { model, limit: 200 } }),
    api.listRollouts({ query: { model, limit: 200 } }),
    api.listRules({ query: { limit: 1000 } }),
  ]);
  const serving = servingEntries(overview.versions);
  const open = incidents.incidents.filter((i) => i.state === 'open');
  const metric = chooseMetric(c.q, open, serving);
  const chartVersions = serving.length ? serving.map((e) => e.version) : c.versions.slice(0, 1);
  const step = stepFor(c.from, c.to, c.q.scope);
  const notes: string[] = [];
  const answers: SeriesResponse[] = [];
  for (const version of chartVersions) {
    try {
      answers.push(
        await api.metricSeries({
          query: { model, version, metric, scope: c.q.scope as 'fleet', from: c.from, to: c.to, step },
        }),
      );
    } catch (err) {
      notes.push(`v${version}: ${describeFailure(err)}`);
    }
  }
  const series: SeriesChartData = {
    ...spanRange(versionSeries(answers), c.from, c.to),
    thresholds: ruleThresholds(rules.rules, metric, model),
    marks: driftMarks(incidents.incidents, rollouts.rollouts, c.from, c.to),
    yLabel: metric,
  };
  // Histograms of the chosen version, else the newest one serving in the range, else the newest registered.
  const histVersion = c.q.version ?? serving.at(-1)?.version ?? c.versions[0];
  const histograms = histVersion === undefined ? [] : await versionHistograms(api, c, model, histVersion);
  return { metric, series, notes, step, histVersion, histograms, hasPoints: answers.some((a) => a.points.length) };
}

/** Baseline vs live of every feature the version's baseline has, its output, reference value and error. */
async function versionHistograms(
  api: RestClient,
  c: DriftContext,
  model: string,
  version: number,
): Promise<Array<{ quantity: string; h?: HistogramResponse; error?: string }>> {
  let features: string[] = [];
  try {
    const detail = await api.getModelVersion({ params: { name: model, version } });
    features = Object.keys(detail.trainingSummary?.features ?? {}).sort();
  } catch {
    // No detail: the output, reference value and error are still worth drawing.
  }
  const quantities = [...features.map((f) => `feature.${f}`), 'output', 'reference', 'error'];
  return Promise.all(
    quantities.map(async (quantity) => {
      try {
        const h = await api.histograms({
          query: { model, version, quantity, scope: c.q.scope as 'fleet', from: c.from, to: c.to },
        });
        return { quantity, h };
      } catch (err) {
        return { quantity, error: describeFailure(err) };
      }
    }),
  );
}

function Verdict(props: { h: HistogramResponse }) {
  const v = props.h.verdict;
  const n = props.h.live.reduce((s, x) => s + x, 0);
  if (n === 0) return <Badge tone="muted">no live values</Badge>;
  if (!v) return <Badge tone="muted">no baseline to compare</Badge>;
  const text = `${v.method} ${fmtNumber(v.value, 3)} (threshold ${fmtNumber(v.threshold, 3)}, n=${v.n})`;
  if (v.drifted === null) return <Badge tone="muted">{`too few values: ${text}`}</Badge>;
  return v.drifted ? <Badge tone="bad">{`drifted: ${text}`}</Badge> : <Badge tone="ok">{`stable: ${text}`}</Badge>;
}

async function ChartsRegion(props: { api: RestClient; c: DriftContext; src: string }) {
  const { c } = props;
  const d = await chartData(props.api, c);
  return (
    <LiveRegion id="drift-charts" src={props.src} topics="incidents rollouts models" label="Drift charts">
      <h2>
        <code>{d.metric}</code> over time
      </h2>
      <p class="muted">
        Scope {c.q.scope}, one point per {Math.round(d.step / 60_000)} min. Dashed red lines: rule thresholds; vertical
        marks: drift onsets (red), rollouts (blue), rollbacks (amber), resolutions (green).
      </p>
      {d.notes.map((n) => (
        <p class="flash flash-error">{n}</p>
      ))}
      {d.hasPoints ? (
        <figure>
          <figcaption>
            {d.metric} per version ({d.series.thresholds?.length ?? 0} threshold line(s), {d.series.marks?.length ?? 0}{' '}
            mark(s))
          </figcaption>
          <div class="chart" data-chart="series" data-source="drift-series" data-testid="metric-chart"></div>
          <DataIsland id="drift-series" data={d.series} />
        </figure>
      ) : (
        <Empty>No points to draw in this range: pick a longer range or another metric.</Empty>
      )}
      <h2>Baseline vs live{d.histVersion !== undefined ? ` (v${d.histVersion})` : ''}</h2>
      {d.histograms.length === 0 ? (
        <Empty>No version of this model is registered.</Empty>
      ) : (
        <div class="grid-2">
          {d.histograms.map(({ quantity, h, error }) => {
            const key = quantityKey(quantity);
            return (
              <figure data-testid={`histogram-${key}`}>
                <figcaption>
                  <strong>{quantityLabel(quantity)}</strong> {h ? <Verdict h={h} /> : null}
                </figcaption>
                {h ? (
                  <>
                    <div class="chart" data-chart="histogram" data-source={`hist-${key}`}></div>
                    <DataIsland id={`hist-${key}`} data={histogramChart(h)} />
                  </>
                ) : (
                  <p class="muted">{error}</p>
                )}
              </figure>
            );
          })}
        </div>
      )}
    </LiveRegion>
  );
}

function regionSrc(url: URL, id: string): string {
  const u = new URL(url);
  u.searchParams.delete('fragment');
  u.searchParams.set('fragment', id);
  return u.pathname + u.search;
}

export async function driftPage(ctx: PageContext): Promise<PageResult> {
  const q = readDriftQuery(ctx.url);
  const c = await driftContext(ctx.api, q);
  const statusSrc = regionSrc(ctx.url, 'drift-status');
  const chartsSrc = regionSrc(ctx.url, 'drift-charts');
  const fresh = async () => driftContext(ctx.api, q);
  if (!c.model)
    return {
      title: 'Drift & error',
      section: 'drift',
      body: (
        <>
          <h1>Drift &amp; error</h1>
          <DriftSubnav current="drift" />
          <Empty>No model is registered yet: upload one on the Models page or with edgeloop models push.</Empty>
        </>
      ),
    };
  return {
    title: `Drift · ${c.model}`,
    section: 'drift',
    scripts: ['charts'],
    body: (
      <>
        <h1>Drift &amp; error: {c.model}</h1>
        <DriftSubnav current="drift" />
        <DriftFilters c={c} />
        {await StatusRegion({ api: ctx.api, c, src: statusSrc })}
        {await ChartsRegion({ api: ctx.api, c, src: chartsSrc })}
      </>
    ),
    fragments: {
      'drift-status': async () => StatusRegion({ api: ctx.api, c: await fresh(), src: statusSrc }),
      'drift-charts': async () => ChartsRegion({ api: ctx.api, c: await fresh(), src: chartsSrc }),
    },
  };
}
