/**
 * @module console/pages/models/compare-page
 * Two versions of a model side by side: the uploader's metrics with their difference, sizes, the
 * manifest fields that differ (preprocessing above all: a changed resize or mean silently changes
 * what the model sees), the training-data baselines feature by feature, and the live error each
 * version has earned on devices, including per arm in rollouts that ran one against the other.
 */
import type { LiveError, ModelDetail, RolloutDetail } from '@edgeloop/protocol';
import type { RestClient } from '@edgeloop/protocol/client';
import type { HistogramChartData } from '../../client/charts/chart-data.js';
import { Badge, DataIsland, Empty, fmtBytes, fmtNumber } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { histogramStats, sameEdges, shares, summaryHistograms } from './baseline-stats.js';
import { versionHref, versionsOf } from './model-data.js';
import { CompareForm } from './model-page.js';

const MAX_ROLLOUTS = 3;
const MAX_CHARTS = 8;

/** Leaf values of a JSON-like object by dotted path ("preprocessing.mean"), as JSON text. */
export function flatten(value: unknown, prefix: string, out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

function manifestFields(d: ModelDetail): Map<string, string> {
  const m = d.model;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries({
    inputs: m.inputs,
    outputs: m.outputs,
    preprocessing: m.preprocessing,
    postprocessing: m.postprocessing,
    targets: m.targets,
  }))
    flatten(v, k, out);
  return out;
}

function Diff(props: { a: number | null | undefined; b: number | null | undefined; digits?: number }) {
  const { a, b } = props;
  if (a === null || a === undefined || b === null || b === undefined) return <>–</>;
  const d = b - a;
  const rel = a !== 0 ? ` (${d >= 0 ? '+' : ''}${((d / Math.abs(a)) * 100).toFixed(1)} %)` : '';
  return (
    <>
      {d >= 0 ? '+' : ''}
      {fmtNumber(d, props.digits ?? 4)}
      {rel}
    </>
  );
}

function MetricsTable(props: { a: ModelDetail; b: ModelDetail }) {
  const { a, b } = props;
  const keys = [...new Set([...Object.keys(a.model.metrics), ...Object.keys(b.model.metrics)])].sort();
  const va = a.model.version;
  const vb = b.model.version;
  return (
    <table data-testid="compare-metrics">
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col" class="num">
            v{va}
          </th>
          <th scope="col" class="num">
            v{vb}
          </th>
          <th scope="col" class="num">
            Difference (v{vb} − v{va})
          </th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">size</th>
          <td class="num">{fmtBytes(a.model.size)}</td>
          <td class="num">{fmtBytes(b.model.size)}</td>
          <td class="num">
            {b.model.size - a.model.size >= 0 ? '+' : '−'}
            {fmtBytes(Math.abs(b.model.size - a.model.size))}
          </td>
        </tr>
        {keys.map((k) => (
          <tr>
            <th scope="row" class="mono">
              {k}
            </th>
            <td class="num">{fmtNumber(a.model.metrics[k], 4)}</td>
            <td class="num">{fmtNumber(b.model.metrics[k], 4)}</td>
            <td class="num">
              <Diff a={a.model.metrics[k]} b={b.model.metrics[k]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ManifestDiff(props: { a: ModelDetail; b: ModelDetail }) {
  const fa = manifestFields(props.a);
  const fb = manifestFields(props.b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])];
  const differing = keys.filter((k) => fa.get(k) !== fb.get(k)).length;
  return (
    <>
      <p>
        {differing === 0 ? <Badge tone="ok">identical</Badge> : <Badge tone="warn">{differing} field(s) differ</Badge>}{' '}
        Inputs, outputs, preprocessing, postprocessing and targets as signed into each manifest.
      </p>
      <table data-testid="compare-manifest">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">v{props.a.model.version}</th>
            <th scope="col">v{props.b.model.version}</th>
            <th scope="col">Same?</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const same = fa.get(k) === fb.get(k);
            return (
              <tr class={same ? undefined : 'differs'}>
                <th scope="row" class="mono">
                  {k}
                </th>
                <td class="mono">{fa.get(k) ?? '–'}</td>
                <td class="mono">{fb.get(k) ?? '–'}</td>
                <td>{same ? 'same' : <Badge tone="warn">differs</Badge>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function Baselines(props: { a: ModelDetail; b: ModelDetail }) {
  const ha = summaryHistograms(props.a.trainingSummary);
  const hb = summaryHistograms(props.b.trainingSummary);
  const va = props.a.model.version;
  const vb = props.b.model.version;
  if (ha.size === 0 && hb.size === 0) return <Empty>Neither version has a training-data baseline stored.</Empty>;
  const names = [...new Set([...ha.keys(), ...hb.keys()])];
  const charts = names.filter((n) => ha.has(n) && hb.has(n) && sameEdges(ha.get(n)!, hb.get(n)!)).slice(0, MAX_CHARTS);
  const stat = (h: ReturnType<typeof ha.get>) => (h ? histogramStats(h) : undefined);
  return (
    <>
      <p>
        Rows summarised: v{va} {props.a.trainingSummary?.count.toLocaleString('en') ?? 'none'}, v{vb}{' '}
        {props.b.trainingSummary?.count.toLocaleString('en') ?? 'none'}. Means and spreads are estimated from the bins.
      </p>
      <table data-testid="compare-baselines">
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col" class="num">
              Mean v{va}
            </th>
            <th scope="col" class="num">
              Mean v{vb}
            </th>
            <th scope="col" class="num">
              Difference
            </th>
            <th scope="col" class="num">
              Std v{va}
            </th>
            <th scope="col" class="num">
              Std v{vb}
            </th>
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const sa = stat(ha.get(n));
            const sb = stat(hb.get(n));
            return (
              <tr>
                <th scope="row" class="mono">
                  {n}
                </th>
                <td class="num">{sa ? fmtNumber(sa.mean, 4) : 'absent'}</td>
                <td class="num">{sb ? fmtNumber(sb.mean, 4) : 'absent'}</td>
                <td class="num">
                  <Diff a={sa?.mean} b={sb?.mean} />
                </td>
                <td class="num">{sa ? fmtNumber(sa.std, 4) : '–'}</td>
                <td class="num">{sb ? fmtNumber(sb.std, 4) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {charts.length ? (
        <div class="grid-2">
          {charts.map((n, i) => {
            const data: HistogramChartData = {
              edges: ha.get(n)!.edges,
              series: [
                { label: `v${va}`, share: shares(ha.get(n)!) },
                { label: `v${vb}`, share: shares(hb.get(n)!) },
              ],
              xLabel: n,
            };
            return (
              <figure>
                <figcaption>
                  {n}: share of training rows per bin, v{va} and v{vb}
                </figcaption>
                <div class="chart" data-chart="histogram" data-source={`baseline-${i}`}></div>
                <DataIsland id={`baseline-${i}`} data={data} />
              </figure>
            );
          })}
        </div>
      ) : null}
    </>
  );
}

function LiveErrors(props: {
  va: number;
  vb: number;
  errors: readonly LiveError[];
  rollouts: readonly RolloutDetail[];
}) {
  const { va, vb } = props;
  return (
    <>
      {props.errors.length === 0 ? (
        <Empty>No reference-joined records for either version yet: live error appears once devices report them.</Empty>
      ) : (
        <table data-testid="compare-live-error">
          <caption class="muted">All records with a prediction and a reference value, per version</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Role</th>
              <th scope="col" class="num">
                Records
              </th>
              <th scope="col" class="num">
                MAE
              </th>
              <th scope="col" class="num">
                RMSE
              </th>
            </tr>
          </thead>
          <tbody>
            {props.errors.map((e) => (
              <tr>
                <th scope="row">v{e.version}</th>
                <td>{e.shadow ? 'shadow' : 'served'}</td>
                <td class="num">{e.n.toLocaleString('en')}</td>
                <td class="num">{fmtNumber(e.mae, 4)}</td>
                <td class="num">{fmtNumber(e.rmse, 4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.rollouts.length ? (
        <table data-testid="compare-arms">
          <caption class="muted">Per arm in rollouts that ran one version against the other</caption>
          <thead>
            <tr>
              <th scope="col">Rollout</th>
              <th scope="col">Candidate arm</th>
              <th scope="col">Baseline arm</th>
              <th scope="col" class="num">
                Ratio
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rollouts.map((r) => {
              const arm = (x: RolloutDetail['liveError']['candidate']) =>
                `v${x.version ?? '?'}: MAE ${fmtNumber(x.mae, 4)} (n=${x.records})`;
              return (
                <tr>
                  <th scope="row">
                    <a href={`/rollouts/${encodeURIComponent(r.rollout.id)}`}>
                      {r.rollout.strategy} {r.rollout.id}
                    </a>{' '}
                    ({r.rollout.state})
                  </th>
                  <td>{arm(r.liveError.candidate)}</td>
                  <td>{arm(r.liveError.baseline)}</td>
                  <td class="num">{fmtNumber(r.liveError.ratio, 3)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p class="muted">
          No rollout has run v{vb} against v{va} (or the reverse), so there are no per-arm numbers.
        </p>
      )}
    </>
  );
}

async function headToHead(api: RestClient, name: string, a: number, b: number): Promise<RolloutDetail[]> {
  const { rollouts } = await api.listRollouts({ query: { model: name, limit: 1000 } });
  const pairs = rollouts
    .filter((r) => (r.version === a && r.baselineVersion === b) || (r.version === b && r.baselineVersion === a))
    .slice(0, MAX_ROLLOUTS);
  return Promise.all(pairs.map((r) => api.getRollout({ params: { id: r.id } })));
}

export async function comparePage(ctx: PageContext): Promise<PageResult> {
  const name = ctx.params['name']!;
  const versions = await versionsOf(ctx.api, name);
  // An unknown model is the API's 404 (with its wording), not an empty comparison.
  if (versions.length === 0) await ctx.api.getLineage({ params: { name } });
  const enc = encodeURIComponent(name);
  const pick = (key: string, fallback: number | undefined) => {
    const raw = ctx.url.searchParams.get(key);
    const n = raw === null ? fallback : Number(raw);
    return versions.some((v) => v.version === n) ? n : undefined;
  };
  const a = pick('a', versions[1]?.version);
  const b = pick('b', versions[0]?.version);
  const head = (
    <>
      <p>
        <a href="/models">← Models</a> · <a href={`/models/${enc}`}>{name}</a>
      </p>
      <h1>Compare {name} versions</h1>
      <CompareForm name={name} versions={versions} a={a} b={b} />
    </>
  );
  if (versions.length === 0 || a === undefined || b === undefined) {
    return {
      title: `Compare ${name}`,
      section: 'models',
      body: (
        <>
          {head}
          <Empty>
            {versions.length < 2
              ? `${name} has ${versions.length} version(s); register another to compare.`
              : `Choose two registered versions of ${name} (it has ${versions.map((v) => `v${v.version}`).join(', ')}).`}
          </Empty>
        </>
      ),
    };
  }
  const [da, db, ea, eb, rollouts] = await Promise.all([
    ctx.api.getModelVersion({ params: { name, version: a } }),
    ctx.api.getModelVersion({ params: { name, version: b } }),
    ctx.api.liveError({ query: { model: name, version: a } }),
    ctx.api.liveError({ query: { model: name, version: b } }),
    headToHead(ctx.api, name, a, b),
  ]);
  return {
    title: `Compare ${name} v${a} and v${b}`,
    section: 'models',
    scripts: ['charts'],
    body: (
      <>
        {head}
        <p>
          <a href={versionHref(name, a)}>
            v{a} ({da.model.status})
          </a>{' '}
          against{' '}
          <a href={versionHref(name, b)}>
            v{b} ({db.model.status})
          </a>
          {a === b ? ' — the same version on both sides.' : null}
        </p>
        <h2>Metrics and size</h2>
        <MetricsTable a={da} b={db} />
        <h2>Live error</h2>
        <LiveErrors va={a} vb={b} errors={[...ea.errors, ...eb.errors]} rollouts={rollouts} />
        <h2>Manifest</h2>
        <ManifestDiff a={da} b={db} />
        <h2>Training-data baselines</h2>
        <Baselines a={da} b={db} />
      </>
    ),
  };
}
