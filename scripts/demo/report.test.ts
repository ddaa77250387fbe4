import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePhaseList } from './demo-plan.js';
import { acceptanceChecks, ACCEPTANCE } from './demo-result.js';
import { recordedRun } from './recorded-run.js';
import { combinedLine, renderReport } from './report-html.js';
import { lineChart, niceTicks } from './svg.js';
import { phaseJson, summaryLines, tableHeader, tableRow } from './table.js';

test('the report is one self-contained HTML file: inline SVG, no script, nothing fetched', () => {
  const html = renderReport(recordedRun());
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\b(src|href)\s*=/i, 'no external resource or link');
  assert.doesNotMatch(html, /@import|url\(http/i);
  assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'live error, saturation, image saturation and a histogram');
  assert.equal((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length);
});

test('the report states the time compression and shows every phase with its numbers and the origin’s', () => {
  const html = renderReport(recordedRun());
  assert.match(html, /Time is compressed ×3<\/b>: one wall second is 3 simulated seconds/);
  assert.match(html, /790 simulated seconds, 330 s wall/);
  // Phase 3: before, after, the origin's 178 → 15.5, detect and recover, the versions.
  assert.match(
    html,
    /48\.1 mm<\/td>\s*<td>4\.9 mm<\/td>\s*<td class="sub">178 mm → 15\.5 mm<\/td>\s*<td>19 s<\/td><td>171 s<\/td>/,
  );
  assert.match(html, /v2<div class="sub">from v1<\/div>/);
  // Phase 5: the beige stretch before the change.
  assert.match(html, /3\.9 mm on beige before the change/);
  assert.match(html, /lr-abcdef0123/);
  // Marks on the plots: onsets, incidents, the versions reaching every car, the world switches.
  for (const mark of ['P3 onset', 'P3 incident', 'P3 v2 on all cars', 'P5 onset', 'P5 v3 on all cars', 'world: beige'])
    assert.ok(html.includes(mark), `mark "${mark}"`);
  assert.ok(!html.includes('world: green-floor'), 'an onset is marked as the onset, not again as a world switch');
});

test('the report shows the acceptance verdict, the loop run steps, the gate and the histograms', () => {
  const r = recordedRun();
  const html = renderReport(r);
  assert.equal(r.summary.accepted, true);
  assert.match(html, /class="badge ok">accepted</);
  assert.match(html, /✔ phase 5: detected ≤ 60 s after the onset: incident after 22 s/);
  assert.match(html, /<td>train<\/td><td>succeeded<\/td><td>\+21\.0 s<\/td><td>33\.0 s<\/td>/);
  assert.match(html, /Gate: <b>accepted<\/b>/);
  assert.match(
    html,
    /<td>recent \(drifted world\)<\/td><td>71<\/td><td>51\.20 mm<\/td><td>4\.60 mm<\/td><td>0\.09<\/td><td>passed<\/td>/,
  );
  assert.match(html, /Incident in-01796571050699-968c9604 resolved by lr-0123456789, version 2/);
  assert.match(html, /output before: v1 on the drifted world/);
  assert.match(html, /output after: v2 after retraining/);
  assert.ok(!html.includes('reference before'), 'a histogram without data is left out');
});

test('the report escapes what it prints', () => {
  const html = renderReport(recordedRun());
  assert.ok(html.includes('a &#60;note&#62; with markup &#38; ampersands'));
  assert.ok(!html.includes('<note>'));
});

test('a run that misses a check is marked not accepted, with the check that failed', () => {
  const r = recordedRun();
  const p5 = r.phases.find((p) => p.phase === 5)!;
  p5.recoverS = 420;
  r.summary.checks = acceptanceChecks(r.phases, r.summary.phase1Mae);
  r.summary.accepted = r.summary.checks.every((c) => c.passed);
  const html = renderReport(r);
  assert.match(html, /class="badge fail">not accepted</);
  assert.match(html, /✘ phase 5: new version on every car ≤ 300 s after the onset: every car on v3 after 420 s/);
});

test('acceptance: MAE after against phase 1 and against MAE before; phase 5 detection and recovery times', () => {
  const r = recordedRun();
  const byName = (checks: ReturnType<typeof acceptanceChecks>) => new Map(checks.map((c) => [c.name, c.passed]));
  let checks = byName(acceptanceChecks(r.phases, 3.69));
  assert.equal(checks.size, 6);
  assert.ok([...checks.values()].every(Boolean));
  // 1.5 × 3.69 = 5.535: phase 5's 5.2 passes, 5.6 does not.
  r.phases[2]!.maeAfter = 5.6;
  checks = byName(acceptanceChecks(r.phases, 3.69));
  assert.equal(checks.get(`phase 5: MAE after ≤ ${ACCEPTANCE.maeAfterVsPhase1} × phase 1`), false);
  // Not "well below" MAE before.
  r.phases[1]!.maeBefore = 6;
  checks = byName(acceptanceChecks(r.phases, 3.69));
  assert.equal(checks.get(`phase 3: MAE after ≤ ${ACCEPTANCE.maeAfterVsBefore} × MAE before`), false);
  // Never detected: fails, with no exception on the nulls.
  r.phases[2]!.detectS = null;
  r.phases[2]!.maeAfter = null;
  checks = byName(acceptanceChecks(r.phases, 3.69));
  assert.equal(checks.get('phase 5: detected ≤ 60 s after the onset'), false);
  assert.equal(checks.get(`phase 5: MAE after ≤ ${ACCEPTANCE.maeAfterVsBefore} × MAE before`), false);
});

test('the table: a header, a row per phase as it ends, the summary with ✔/✘ and the JSON line', () => {
  const r = recordedRun();
  const [header, rule] = tableHeader();
  assert.match(header!, /^phase\s+MAE before\s+MAE after\s+detect\s+recover\s+version\s+outcome$/);
  assert.equal(rule!.length, header!.length);
  assert.match(tableRow(r.phases[0]!), /^1 baseline\s+—\s+3\.7 mm\s+—\s+—\s+v1\s+baseline$/);
  assert.match(tableRow(r.phases[1]!), /^3 green floor\s+48\.1 mm\s+4\.9 mm\s+19 s\s+171 s\s+v2\s+recovered$/);
  const lines = summaryLines({ ...r.summary, report: '/tmp/x/report.html' });
  assert.ok(lines.some((l) => /^phase 1 MAE 3\.7 mm \(validation 3\.3 mm\); 8 cars, seed 1, time ×3/.test(l)));
  assert.ok(lines.some((l) => l.startsWith('✔ phase 5: new version on every car ≤ 300 s')));
  assert.equal(lines.at(-1), 'report: /tmp/x/report.html');
  const json = JSON.parse(phaseJson(r.phases[1]!)) as Record<string, unknown>;
  for (const key of ['phase', 'maeBefore', 'maeAfter', 'detectS', 'recoverS', 'version', 'loopRunId', 'incidentId'])
    assert.ok(key in json, key);
  assert.equal(json.kind, 'phase');
  assert.ok(!('steps' in json), 'steps stay in the report and results.json');
  assert.deepEqual(json.gate, { verdict: 'accepted', reasons: r.phases[1]!.gate!.reasons });
});

test('--phases: phase 1 always runs first; anything but 1–5 is refused with an example', () => {
  assert.deepEqual(parsePhaseList('5'), [1, 5]);
  assert.deepEqual(parsePhaseList('5,1,3'), [1, 3, 5]);
  assert.deepEqual(parsePhaseList(' 2, 2 ,4'), [1, 2, 4]);
  assert.throws(() => parsePhaseList('6'), /"6" is not a phase; give numbers from 1 to 5, e.g. --phases 1,5/);
  assert.throws(() => parsePhaseList('a'), /"a" is not a phase/);
  assert.throws(() => parsePhaseList(','), /needs a list such as 1,5/);
});

test('plots: versions are weighted by their records; round ticks; a null breaks a line', () => {
  const r = recordedRun();
  const line = combinedLine(
    [
      { metric: 'm', version: 1, points: [{ t: 0, value: 10, samples: 100 }] },
      {
        metric: 'm',
        version: 2,
        points: [
          { t: 0, value: 40, samples: 300 },
          { t: 1, value: null, samples: 0 },
        ],
      },
    ],
    'm',
  );
  assert.deepEqual(line, [[0, 32.5]]);
  assert.ok(r.timeline.series.length > 0);
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 0.37, 3), [0, 0.2]);
  const svg = lineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    lines: [
      {
        name: 'a',
        colour: '#000',
        points: [
          [0, 1],
          [1, 2],
          [2, null],
          [3, 4],
          [4, 5],
        ],
      },
    ],
    xDomain: [0, 4],
  });
  assert.equal((svg.match(/<path d="M/g) ?? []).length, 2, 'two segments around the gap');
  const log = lineChart({
    title: 'l',
    xLabel: 'x',
    yLabel: 'y',
    lines: [
      {
        name: 'a',
        colour: '#000',
        points: [
          [0, 3],
          [1, 180],
        ],
      },
    ],
    xDomain: [0, 1],
    log: true,
  });
  for (const tick of ['>1<', '>10<', '>100<', '>1000<']) assert.ok(log.includes(tick), `log tick ${tick}`);
});
