/**
 * @module demo/report-html
 * The demo's report: one self-contained HTML file (inline CSS and SVG, no script, nothing
 * fetched) with the results table beside the origin's numbers, the acceptance checks, live error
 * and saturation over simulated time with the drift onsets, detections and recoveries marked,
 * the output and reference histograms before and after each retraining, and each loop run's
 * steps and gate. A pure function of the run's result, so it is tested on recorded numbers.
 */
import { DEMO_PHASES } from './demo-plan.js';
import type { DemoResult, PhaseHistograms, PhaseResult, VersionSeries } from './demo-result.js';
import { esc, histogramChart, lineChart, type Line, type Mark } from './svg.js';

const VERSION_COLOURS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const colourOf = (version: number) => VERSION_COLOURS[(version - 1) % VERSION_COLOURS.length]!;
const ONSET = '#d62728';
const DETECT = '#ff7f0e';
const RECOVER = '#2ca02c';

const mm = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '—' : `${v.toFixed(digits)} mm`;
const secs = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} s`);

/** Simulated minutes since the cameras started, for epoch ms of simulated time. */
const minutes = (r: DemoResult, at: number) => (at - r.timeline.simEpoch) / 60_000;

function versionLines(r: DemoResult, metric: string): Line[] {
  return r.timeline.series
    .filter((s) => s.metric === metric && s.points.some((p) => p.value !== null))
    .map((s) => ({
      name: `v${s.version} (fleet, per minute)`,
      colour: colourOf(s.version),
      // A point stands for its minute: drawn at the minute's middle.
      points: s.points.map((p): [number, number | null] => [minutes(r, p.t) + 0.5, p.value]),
    }));
}

/** One line over every version: each step's values weighted by the records they were computed on. */
export function combinedLine(series: readonly VersionSeries[], metric: string): Array<[number, number]> {
  const byT = new Map<number, { sum: number; n: number }>();
  for (const s of series)
    if (s.metric === metric)
      for (const p of s.points) {
        if (p.value === null || p.samples <= 0) continue;
        const acc = byT.get(p.t) ?? { sum: 0, n: 0 };
        acc.sum += p.value * p.samples;
        acc.n += p.samples;
        byT.set(p.t, acc);
      }
  return [...byT.entries()].sort(([a], [b]) => a - b).map(([t, a]) => [t, a.sum / a.n]);
}

function marks(r: DemoResult): Mark[] {
  const out: Mark[] = [];
  const onsets = new Set(r.phases.filter((p) => p.phase !== 1).map((p) => p.onsetS));
  for (const s of r.timeline.switches)
    if (s.at > 0 && !onsets.has(s.at))
      out.push({ x: s.at / 60, label: `world: ${s.phase}`, colour: '#888', dashed: true });
  for (const p of r.phases) {
    if (p.phase === 1) continue;
    out.push({ x: p.onsetS / 60, label: `P${p.phase} onset`, colour: ONSET, dashed: true });
    if (p.detectedAt !== null) out.push({ x: minutes(r, p.detectedAt), label: `P${p.phase} incident`, colour: DETECT });
    if (p.activeAt !== null)
      out.push({ x: minutes(r, p.activeAt), label: `P${p.phase} v${p.version} on all cars`, colour: RECOVER });
  }
  return out;
}

function charts(r: DemoResult): string {
  const x1 = Math.max(1, minutes(r, r.timeline.end));
  const xLabel = 'simulated minutes since the cameras started';
  const m = marks(r);
  const frameLine: Line = {
    name: `cars' frames, per ${r.timeline.frameBucketSeconds} s`,
    colour: '#999',
    width: 1,
    points: r.timeline.frames.map((b): [number, number | null] => [
      (b.t + r.timeline.frameBucketSeconds / 2) / 60,
      b.mae,
    ]),
  };
  const mae = lineChart({
    title: 'Live error: MAE against the sensor reference (log scale)',
    xLabel,
    yLabel: 'MAE, mm',
    lines: [frameLine, ...versionLines(r, 'error.mae')],
    marks: m,
    xDomain: [0, x1],
    log: true,
  });
  const toX = (pts: Array<[number, number]>) =>
    pts.map(([t, v]): [number, number | null] => [minutes(r, t) + 0.5, v * 100]);
  const saturation = lineChart({
    title: 'Saturation: values outside what the serving version was trained on',
    xLabel,
    yLabel: 'share of records, %',
    lines: [
      {
        name: 'references beyond the trained range',
        colour: '#d62728',
        points: toX(combinedLine(r.timeline.series, 'reference.out_of_range')),
      },
      {
        name: 'predictions outside the trained outputs',
        colour: '#1f77b4',
        points: toX(combinedLine(r.timeline.series, 'output.out_of_range')),
      },
    ],
    marks: m,
    xDomain: [0, x1],
  });
  const imageSat = lineChart({
    title: "Mean image saturation of the frames (the origin's alert signal)",
    xLabel,
    yLabel: 'saturation, %',
    lines: [
      {
        name: 'mean saturation',
        colour: '#8c564b',
        points: toX(combinedLine(r.timeline.series, 'feature.saturation.mean')),
      },
    ],
    marks: m,
    xDomain: [0, x1],
  });
  return `<figure>${mae}</figure>\n<figure>${saturation}</figure>\n<figure>${imageSat}</figure>`;
}

function histogramsOf(h: PhaseHistograms, p: PhaseResult): string {
  const parts: string[] = [];
  const unit = 'mm';
  const one = (which: 'before' | 'after') => {
    const hist = h[which];
    if (!hist) return '';
    const version = which === 'before' ? p.previousVersion : p.version;
    return histogramChart({
      title: `${h.quantity} ${which}: v${version ?? '?'} ${which === 'before' ? 'on the drifted world' : 'after retraining'}`,
      edges: hist.edges,
      xLabel: `${h.quantity === 'output' ? 'prediction' : 'sensor reference'}, ${unit}`,
      series: [
        ...(hist.baseline
          ? [{ name: `v${version ?? '?'} training`, colour: '#999', counts: hist.baseline, filled: true }]
          : []),
        { name: 'live', colour: which === 'before' ? ONSET : RECOVER, counts: hist.live },
      ],
    });
  };
  for (const which of ['before', 'after'] as const) {
    const svg = one(which);
    if (svg) parts.push(`<figure class="hist">${svg}</figure>`);
  }
  return parts.join('\n');
}

function resultsTable(r: DemoResult): string {
  const rows = r.phases.map((p) => {
    const origin = DEMO_PHASES.find((d) => d.id === p.phase)!.origin;
    return `<tr class="${p.outcome === 'recovered' || p.outcome === 'baseline' ? '' : 'bad'}">
<td>${p.phase}</td><td>${esc(p.name)}<div class="sub">${esc(p.drift)}</div></td>
<td>${mm(p.maeBefore)}${p.maePreOnset !== undefined ? `<div class="sub">${mm(p.maePreOnset)} on beige before the change</div>` : ''}</td>
<td>${mm(p.maeAfter)}</td>
<td class="sub">${origin.before === null ? '—' : `${origin.before} mm`} → ${origin.after} mm</td>
<td>${secs(p.detectS)}</td><td>${secs(p.recoverS)}</td>
<td>${p.version === null ? '—' : `v${p.version}`}${p.previousVersion !== null && p.version !== p.previousVersion ? `<div class="sub">from v${p.previousVersion}</div>` : ''}</td>
<td class="mono">${esc(p.loopRunId ?? '—')}<div class="sub">${esc(p.incidentId ?? '')}${p.rule ? ` (${esc(p.rule)})` : ''}</div></td>
<td>${esc(p.outcome)}${p.note ? `<div class="sub">${esc(p.note)}</div>` : ''}</td></tr>`;
  });
  return `<table><thead><tr><th>#</th><th>phase</th><th>MAE before</th><th>MAE after</th><th>origin (before → after)</th><th>detect</th><th>recover</th><th>version</th><th>loop run / incident</th><th>outcome</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function loopDetails(p: PhaseResult): string {
  if (p.phase === 1) return '';
  const t0 = p.steps.find((s) => s.startedAt !== null)?.startedAt ?? null;
  const rel = (t: number | null) => (t === null || t0 === null ? '—' : `+${((t - t0) / 1000).toFixed(1)} s`);
  const steps = p.steps
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}</td><td>${esc(s.status)}</td><td>${rel(s.startedAt)}</td><td>${s.startedAt !== null && s.finishedAt !== null ? `${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s` : '—'}</td><td>${esc(s.outcome ?? '')}</td></tr>`,
    )
    .join('\n');
  const g = p.gate;
  const side = (name: string, h: NonNullable<typeof g>['recent']) =>
    h
      ? `<tr><td>${name}</td><td>${h.count}</td><td>${mm(h.champion.mae, 2)}</td><td>${mm(h.challenger.mae, 2)}</td><td>${h.ratio.toFixed(2)}</td><td>${h.passed === null ? 'too few' : h.passed ? 'passed' : 'failed'}</td></tr>`
      : `<tr><td>${name}</td><td colspan="5">none</td></tr>`;
  const gate = g
    ? `<p>Gate: <b>${esc(g.verdict)}</b> — ${esc(g.reasons.join(' '))}</p>
<table><thead><tr><th>holdout</th><th>items</th><th>champion v${g.champion.version}</th><th>challenger</th><th>ratio</th><th></th></tr></thead>
<tbody>${side('recent (drifted world)', g.recent)}${side('original (champion’s training)', g.original)}</tbody></table>`
    : '';
  return `<section><h3>Phase ${p.phase} (${esc(p.name)}): loop run ${esc(p.loopRunId ?? 'none')}${p.runState ? ` — ${esc(p.runState)}` : ''}</h3>
${p.resolvedBy ? `<p>Incident ${esc(p.incidentId ?? '')} resolved by ${esc(p.resolvedBy.loopRunId ?? '—')}, version ${p.resolvedBy.version ?? '—'}: ${esc(p.resolvedBy.note)}</p>` : p.incidentId ? `<p>Incident ${esc(p.incidentId)} was not resolved when the phase ended.</p>` : ''}
${steps ? `<table><thead><tr><th>step</th><th>status</th><th>started</th><th>took</th><th>outcome</th></tr></thead><tbody>${steps}</tbody></table>` : '<p>No loop run was seen.</p>'}
${gate}</section>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.sub{color:#666;font-size:11px}.mono{font-family:ui-monospace,monospace}tr.bad td{background:#fff1f0}
.ok{color:#217a2b}.fail{color:#b42318}figure{margin:12px 0}figure.hist{display:inline-block;margin:4px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff}.badge.ok{background:#217a2b}.badge.fail{background:#b42318}`;

export function renderReport(r: DemoResult): string {
  const s = r.summary;
  const checks = s.checks
    .map((c) => `<li class="${c.passed ? 'ok' : 'fail'}">${c.passed ? '✔' : '✘'} ${esc(c.name)}: ${esc(c.detail)}</li>`)
    .join('\n');
  const hist = r.phases
    .map((p) => {
      const figs = r.timeline.histograms
        .filter((h) => h.phase === p.phase)
        .map((h) => histogramsOf(h, p))
        .join('\n');
      return figs ? `<h3>Phase ${p.phase} (${esc(p.name)})</h3>\n${figs}` : '';
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EdgeLoop closed-loop demo report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>EdgeLoop: the closed retraining loop, end to end <span class="badge ${s.accepted ? 'ok' : 'fail'}">${s.accepted ? 'accepted' : 'not accepted'}</span></h1>
<p>${s.devices} simulated cars (each a real agent) drove the origin's evaluation phases with nobody at the keyboard: the
fleet detected each drift, the retraining loop built a dataset, trained, gated and rolled out a new version.
<b>Time is compressed ×${s.timeScale}</b>: one wall second is ${s.timeScale} simulated seconds; the records carry simulated
time and the server's rules run on it, so every time below is in simulated seconds unless it says wall.
The run took ${s.simSeconds.toFixed(0)} simulated seconds, ${s.wallSeconds.toFixed(0)} s wall (seed ${s.seed}).
Phase 1 MAE ${mm(s.phase1Mae, 2)} (the initial model's validation MAE ${mm(s.phase1ValidationMae, 2)}).</p>
<h2>Results</h2>
${resultsTable(r)}
<p class="sub">MAE before: the serving version's live MAE against the sensor reference on the drifted world, from the onset
until the new version was active. MAE after: the new version's over ${'the window'} once it ran on every car. Detect: onset →
incident opened. Recover: onset → the new version active on every car. The origin's numbers are from its own hardware
(REFERENCE §1) and are shown for comparison.</p>
<h2>Acceptance</h2>
<ul>${checks}</ul>
<h2>Over time</h2>
${charts(r)}
<h2>Output and reference histograms, before and after</h2>
<p class="sub">Grey: the version's training distribution; coloured: live records. Fleet rollups are minute windows, so a
"before" histogram may hold up to a minute from just before the onset.</p>
${hist}
<h2>Loop runs</h2>
${r.phases.map(loopDetails).join('\n')}
</body></html>
`;
}
