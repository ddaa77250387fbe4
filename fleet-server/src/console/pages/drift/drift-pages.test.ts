/**
 * The drift section against a real fleet server: a version with a training baseline, twenty
 * minutes of telemetry from three devices of which two see the brightness move out of the
 * baseline's range halfway, a rule on the brightness PSI that the rule engine fires, and then the
 * pages: the drift page's series (thresholds, onset mark) and histograms, the incident list and
 * page, the rule form's save (accepted and refused) and enable/disable, and a viewer's disabled
 * buttons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS, SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import type { TelemetryRecord, TrainingSummary } from '@edgeloop/protocol';
import { startConsoleTestServer } from '../../testing/console-test-server.js';
import { renderPage, testPageContext } from '../../testing/render-page.js';
import { driftPage } from './drift-page.js';
import { incidentListPage } from './incident-list-page.js';
import { incidentPage } from './incident-page.js';
import { disableRule, enableRule, saveRule } from './rule-actions.js';
import { editRulePage, newRulePage, ruleListPage } from './rule-pages.js';
import { decodeDraft, fieldsToDefinition, ruleToFields } from './rule-form.js';

const MINUTE = 60_000;

/** Feature values drawn from the baseline's histograms in proportion (bin centres in turn). */
function baselineSampler(summary: TrainingSummary) {
  const pools = Object.entries(summary.features).map(([name, h]) => {
    const pool: number[] = [];
    h.counts.forEach((c, i) => {
      for (let k = 0; k < Math.round((c / summary.count) * 40); k++) pool.push((h.edges[i]! + h.edges[i + 1]!) / 2);
    });
    return [name, pool] as const;
  });
  return (i: number) =>
    Object.fromEntries(pools.map(([name, pool]) => [name, pool[(i * 7 + name.length) % pool.length]!]));
}

function telemetry(summary: TrainingSummary, start: number, n: number, driftFrom?: number): TelemetryRecord[] {
  const sample = baselineSampler(summary);
  return Array.from({ length: n }, (_, i) => {
    const features = sample(i);
    if (driftFrom !== undefined && i >= driftFrom) features['brightness'] = 0.225 + (i % 3) * 0.05;
    const reference = 60 + (i % 150);
    return {
      seq: i + 1,
      ts: start + i * 2_000,
      model: 'distance',
      version: 2,
      output: [reference + 3],
      prediction: reference + 3,
      reference,
      latencyMs: 2,
      features,
    };
  });
}

test('drift page, incidents and rule editing over a fleet whose brightness drifts', { timeout: 120_000 }, async (t) => {
  const { server, api } = await startConsoleTestServer(t);
  const meta = JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v1, 'utf8'));
  await server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v2), metadata: meta });
  const summary = meta.trainingSummary as TrainingSummary;

  const start = Date.now() - 20 * MINUTE;
  await server.store.telemetry.storeBatches([
    { deviceId: 'car-1', stream: 's', records: telemetry(summary, start, 580, 300), historical: false },
    { deviceId: 'car-2', stream: 's', records: telemetry(summary, start + 500, 580, 300), historical: false },
    { deviceId: 'car-3', stream: 's', records: telemetry(summary, start + 900, 580), historical: false },
  ]);
  await api.putRule({
    body: {
      rule: {
        name: 'brightness-psi',
        metric: 'feature.brightness.psi',
        model: 'distance',
        scope: 'version',
        condition: { op: 'above', threshold: 0.25 },
        windowMs: 5 * MINUTE,
        forMs: 0,
        minSamples: 50,
      },
      actions: [{ type: 'log' }],
    },
  });
  await server.monitoring.engine!.tick();
  const { incidents } = await api.listIncidents({ query: { model: 'distance', state: 'open' } });
  const incident = incidents.find((i) => i.rule === 'brightness-psi');
  assert.ok(incident, `the rule fired: ${JSON.stringify(incidents.map((i) => i.rule))}`);

  // The drift page: the open incident's metric is charted with the rule's threshold and the onset.
  const drift = await renderPage(driftPage, testPageContext({ api, path: '/drift?model=distance' }));
  assert.match(drift, /data-testid="metric-chart"/);
  const island = /<script type="application\/json" id="drift-series">(.*?)<\/script>/s.exec(drift);
  assert.ok(island, 'the series chart has its data island');
  const series = JSON.parse(island[1]!) as {
    x: number[];
    series: Array<{ label: string; values: Array<number | null> }>;
    thresholds: Array<{ value: number }>;
    marks: Array<{ kind: string; at: number }>;
  };
  assert.deepEqual(
    series.series.map((s) => s.label),
    ['v2'],
  );
  assert.ok(series.x.length >= 20, 'a point a minute over the twenty minutes');
  assert.ok(
    series.thresholds.some((th) => th.value === 0.25),
    'the rule threshold is drawn',
  );
  assert.ok(
    series.marks.some((m) => m.kind === 'onset' && m.at === incident.openedAt),
    'the onset is marked',
  );
  const values = series.series[0]!.values.filter((v): v is number => v !== null);
  assert.ok(Math.max(...values) > 0.25 && Math.min(...values) < 0.25, 'quiet before the shift, drifted after');
  assert.match(drift, /data-testid="histogram-brightness"/);
  assert.match(drift, /data-testid="histogram-output"/);
  assert.match(drift, /data-testid="histogram-reference"/);
  const hist = JSON.parse(/id="hist-brightness">(.*?)<\/script>/s.exec(drift)![1]!) as {
    series: Array<{ label: string; share: number[] }>;
  };
  assert.deepEqual(
    hist.series.map((s) => s.label),
    ['baseline (training)', 'live'],
  );
  assert.match(drift, /brightness drifted/);
  assert.match(drift, new RegExp(`data-incident="${incident.id}"`));
  assert.match(drift, /href="\/devices\/car-1"/);
  const status = await renderPage(driftPage, testPageContext({ api, path: '/drift?model=distance' }), 'drift-status');
  assert.match(status, /^<div id="drift-status" data-live="incidents"/);
  const errorChart = await renderPage(
    driftPage,
    testPageContext({ api, path: '/drift?model=distance&metric=error.mae&scope=device:car-3&range=6h' }),
  );
  assert.match(errorChart, /data-testid="metric-chart"/);
  assert.match(errorChart, /"yLabel":"error.mae"/);

  // The incident list and page.
  const list = await renderPage(incidentListPage, testPageContext({ api, path: '/drift/incidents?state=open' }));
  assert.match(list, new RegExp(`data-incident="${incident.id}"`));
  const resolved = await renderPage(
    incidentListPage,
    testPageContext({ api, path: '/drift/incidents?state=resolved' }),
  );
  assert.doesNotMatch(resolved, new RegExp(`data-incident="${incident.id}"`));
  assert.match(resolved, /No incident matches/);
  const page = await renderPage(
    incidentPage,
    testPageContext({ api, path: `/drift/incidents/${incident.id}`, params: { id: incident.id } }),
  );
  assert.match(page, /data-testid="incident-since"/);
  assert.match(page, new RegExp(new Date(incident.openedAt).toISOString()));
  assert.match(page, /distance<\/a> v2/);
  assert.match(page, /data-testid="incident-chart"/);
  for (const d of incident.devices) assert.match(page, new RegExp(`href="/devices/${d}"`));
  assert.match(page, /No retraining run was started/);

  // Rules: the form shows the stored rule; saving a changed threshold goes through the API.
  const rules = await renderPage(ruleListPage, testPageContext({ api, path: '/drift/rules' }));
  assert.match(rules, /data-rule="brightness-psi"/);
  assert.match(rules, /data-rule="default.feature-drift"/);
  const edit = await renderPage(
    editRulePage,
    testPageContext({ api, path: '/drift/rules/brightness-psi/edit', params: { name: 'brightness-psi' } }),
  );
  assert.match(edit, /name="threshold" value="0.25"/);
  const fields = ruleToFields((await api.getRule({ params: { name: 'brightness-psi' } })).rule);
  const operator = testPageContext({ api, path: '/drift/rules/save', role: 'operator' });
  const saved = await saveRule(operator, { ...fields, threshold: '0.3', windowS: '600', original: 'brightness-psi' });
  assert.equal(saved.redirect, '/drift/rules');
  assert.equal(saved.flash?.kind, 'ok');
  const after = (await api.getRule({ params: { name: 'brightness-psi' } })).rule;
  assert.deepEqual(after.rule.condition, { op: 'above', threshold: 0.3 });
  assert.equal(after.rule.windowMs, 600_000);
  assert.deepEqual(after.actions, [{ type: 'log' }]);

  // A rule the API refuses comes back to the form with its reason and what was typed.
  const refused = await saveRule(operator, {
    ...fields,
    name: 'typo-rule',
    metric: 'feature.brightness.psy',
    back: '/drift/rules/new',
  });
  assert.equal(refused.flash?.kind, 'error');
  assert.match(refused.flash!.text, /psy/);
  assert.match(refused.redirect, /^\/drift\/rules\/new\?draft=/);
  const draft = decodeDraft(new URL(refused.redirect, 'http://x').searchParams.get('draft'));
  assert.equal(draft?.['metric'], 'feature.brightness.psy');
  const again = await renderPage(newRulePage, testPageContext({ api, path: refused.redirect }));
  assert.match(again, /value="feature.brightness.psy"/);
  assert.equal((await api.listRules()).rules.filter((r) => r.rule.name === 'typo-rule').length, 0);
  const notNumber = await saveRule(operator, { ...fields, threshold: 'high', back: '/drift/rules/new' });
  assert.match(notNumber.flash!.text, /threshold must be a number/);

  // Enable and disable round trip (a default gets a stored copy).
  const ctxRule = testPageContext({ api, path: '/drift/rules', params: { name: 'default.output-drift' } });
  await disableRule(ctxRule, {});
  assert.equal((await api.getRule({ params: { name: 'default.output-drift' } })).rule.rule.enabled, false);
  await enableRule(ctxRule, {});
  assert.equal((await api.getRule({ params: { name: 'default.output-drift' } })).rule.rule.enabled, true);

  // A viewer sees the same pages with the buttons that change rules disabled.
  const viewerRules = await renderPage(ruleListPage, testPageContext({ api, path: '/drift/rules', role: 'viewer' }));
  assert.match(viewerRules, /<button type="submit" disabled="" title="needs the operator role">Disable/);
  assert.match(viewerRules, /class="danger" disabled="" title="needs the operator role">Delete/);
  assert.doesNotMatch(viewerRules, /data-testid="new-rule"/);
  const viewerEdit = await renderPage(
    editRulePage,
    testPageContext({
      api,
      path: '/drift/rules/brightness-psi/edit',
      params: { name: 'brightness-psi' },
      role: 'viewer',
    }),
  );
  assert.match(viewerEdit, /class="primary" disabled="" title="needs the operator role">Save rule/);
});

test('the rule form turns seconds into ms, band fields into an outside condition, and back', () => {
  const { definition, problems } = fieldsToDefinition({
    name: 'saturation-band',
    metric: 'feature.saturation.mean',
    scope: 'version',
    op: 'outside',
    low: '0.4',
    high: '0.6',
    threshold: '9',
    windowS: '300',
    forS: '60',
    minSamples: '100',
    enabled: 'on',
    webhooks: 'https://ops.example/a\n\nhttps://ops.example/b\n',
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(definition.rule['condition'], { op: 'outside', low: 0.4, high: 0.6 });
  assert.equal(definition.rule['windowMs'], 300_000);
  assert.equal(definition.rule['forMs'], 60_000);
  assert.equal(definition.rule['enabled'], true);
  assert.equal(definition.rule['onDevice'], false);
  assert.deepEqual(definition.actions, [
    { type: 'webhook', url: 'https://ops.example/a' },
    { type: 'webhook', url: 'https://ops.example/b' },
  ]);
});
