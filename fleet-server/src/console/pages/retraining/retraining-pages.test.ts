import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPage, testPageContext } from '../../testing/render-page.js';
import { datasetListPage, datasetPage } from './dataset-pages.js';
import { lineageLookupPage, recordLineagePage, versionLineagePage } from './lineage-page.js';
import { loopRunPage } from './loop-run-page.js';
import { cancelLoopRun, triggerRetraining } from './retraining-actions.js';
import { DONE_RUN, INCIDENT, RUNNING_RUN, retrainingFixture } from './retraining-fixture.js';
import { retrainingPage } from './retraining-page.js';
import { sweepCurves, trainingJobPage } from './training-job-page.js';

/** The text of an element with this attribute, tags stripped (enough to read a step or a row). */
function textOf(html: string, attr: string): string {
  const start = html.indexOf(attr);
  assert.ok(start >= 0, `no ${attr} in the page`);
  const open = html.lastIndexOf('<', start);
  const tag = /^<([a-z0-9]+)/.exec(html.slice(open))![1]!;
  const end = html.indexOf(`</${tag}>`, start);
  return html
    .slice(open, end)
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

test(
  'the retraining pages: loop runs, a run step by step with its gate, a sweep side by side, datasets, lineage, retrain now',
  { timeout: 120_000 },
  async (t) => {
    const f = await retrainingFixture(t);
    const { api } = f;
    const ctx = (path: string, params: Record<string, string> = {}, role?: 'viewer' | 'operator' | 'admin') =>
      testPageContext({ api, path, params, ...(role ? { role } : {}) });

    await t.test('the index lists runs, policies and jobs, and offers retrain now', async () => {
      const html = await renderPage(retrainingPage, ctx('/retraining'));
      const done = textOf(html, `data-run="${DONE_RUN}"`);
      assert.match(done, /distance succeeded incident \(default\.feature-drift\) resolve v1 → v2/);
      assert.match(done, /distance v2 serves and the trigger cleared/);
      const running = textOf(html, `data-run="${RUNNING_RUN}"`);
      assert.match(running, /running schedule train v2 → –/);
      assert.match(running, /training 1 run/, 'a running run shows what its current step does');
      assert.ok(html.indexOf(RUNNING_RUN) < html.indexOf(DONE_RUN), 'newest first');
      assert.match(
        textOf(html, 'data-testid="loop-policies"'),
        /distance enabled incidents affected devices, ≥ 600 samples, 30 % replay/,
      );
      assert.match(
        textOf(html, 'data-testid="training-jobs"'),
        new RegExp(`${f.jobId} succeeded ${f.drifted} fixture 2 succeeded distance v2`),
      );
      assert.match(html, /<button type="submit">Retrain now<\/button>/);
      assert.match(html, /name="force" value="true"/);

      const filtered = await renderPage(retrainingPage, ctx('/retraining?state=succeeded'));
      assert.doesNotMatch(filtered, new RegExp(`data-run="${RUNNING_RUN}"`));
      assert.match(filtered, new RegExp(`data-run="${DONE_RUN}"`));
      const region = await renderPage(retrainingPage, ctx('/retraining'), 'loop');
      assert.match(region, /^<div id="loop" data-live="loop training" data-src="\/retraining\?fragment=loop"/);

      const viewer = await renderPage(retrainingPage, ctx('/retraining', {}, 'viewer'));
      assert.match(viewer, /<button type="submit" disabled="" title="needs the operator role">Retrain now<\/button>/);
    });

    await t.test('a loop run step by step, with its ids as links and the gate comparison', async () => {
      const html = await renderPage(loopRunPage, ctx(`/retraining/runs/${DONE_RUN}`, { id: DONE_RUN }));
      for (const name of ['trigger', 'data', 'train', 'gate', 'register', 'rollout', 'resolve'])
        assert.match(html, new RegExp(`data-testid="loop-step-${name}" data-status="succeeded"`), name);
      assert.match(textOf(html, 'data-testid="loop-step-trigger"'), /incident in-drift-1 .* devices car-3/);
      assert.match(html, new RegExp(`href="/drift/incidents/${INCIDENT}" data-node="incident:${INCIDENT}"`));
      assert.match(html, new RegExp(`href="/retraining/datasets/${f.drifted}" data-node="dataset:${f.drifted}"`));
      assert.match(html, new RegExp(`href="/retraining/jobs/${f.jobId}" data-node="job:${f.jobId}"`));
      assert.match(html, /href="\/models\/distance\/versions\/2" data-node="version:distance@2"/);
      assert.match(html, /href="\/rollouts\/ro-loop-1" data-node="rollout:ro-loop-1"/);
      assert.match(
        textOf(html, 'data-testid="loop-step-data"'),
        /have 40 need 30 from 2026-09-21 15:19:00 UTC to 2026-09-21 15:20:00 UTC devices car-3 captureForMs 10 min/,
      );
      const gate = textOf(html, 'data-testid="gate-comparison"');
      assert.match(gate, /Verdict: accepted — champion distance v1/);
      assert.match(gate, /Recent holdout 40 21\.5 9\.25 0\.43 ratio ≤ 0\.9 \(at least 10 % better\) held/);
      assert.match(gate, /Original holdout 35 8 8\.4 1\.05 ratio ≤ 1\.1 \(at most 10 % worse\) held/);
      assert.match(
        html,
        /<svg class="gate-bars"[^>]*role="img"[^>]*aria-label="Mean absolute error, champion vs challenger\. Recent holdout: champion MAE 21\.5, challenger 9\.25/,
      );
      assert.doesNotMatch(html, /Cancel run/, 'a finished run cannot be cancelled');

      const running = await renderPage(loopRunPage, ctx(`/retraining/runs/${RUNNING_RUN}`, { id: RUNNING_RUN }));
      assert.match(
        running,
        /data-testid="loop-step-train" data-status="running" class="loop-step step-running" aria-current="step"/,
      );
      assert.match(running, /data-testid="loop-step-gate" data-status="pending"/);
      assert.match(running, /The gate has not compared a challenger yet/);
      assert.match(running, /Cancel run<\/button>/);
      const viewer = await renderPage(
        loopRunPage,
        ctx(`/retraining/runs/${RUNNING_RUN}`, { id: RUNNING_RUN }, 'viewer'),
      );
      assert.match(viewer, /disabled="" title="needs the operator role">Cancel run/);
      const bad = await renderPage(loopRunPage, ctx('/retraining/runs/nope', { id: 'nope' }));
      assert.match(bad, /is not a loop run id/);
    });

    await t.test(
      'a sweep side by side: params with the differing ones marked, metrics, best run, curves, log',
      async () => {
        const html = await renderPage(trainingJobPage, ctx(`/retraining/jobs/${f.jobId}`, { id: f.jobId }));
        assert.match(
          html,
          new RegExp(`<th scope="col" id="run-${f.bestRunId}" data-run="${f.bestRunId}" class="best">`),
        );
        assert.match(textOf(html, 'data-param="learningRate"'), /learningRate differs (0\.2 0\.8|0\.8 0\.2)/);
        assert.match(textOf(html, 'data-param="epochs"'), /epochs differs 3 5/);
        assert.match(html, /data-param="mode" data-differs="no"/);
        assert.match(textOf(html, 'data-metric="validation MAE"'), /validation MAE \d/);
        assert.match(html, /data-testid="curve-valmae"/);
        assert.match(textOf(html, 'data-testid="run-log"'), /fixture trainer: \d+ items/);
        const job = await api.getTrainingJob({ params: { id: f.jobId } });
        const curves = sweepCurves(job.runs);
        assert.deepEqual(curves.valMae.x, [1, 2, 3, 4, 5], 'aligned on every epoch any run reached');
        assert.equal(curves.valMae.xTime, false);
        assert.deepEqual(
          curves.valMae.series.map((s) => s.values.filter((v) => v !== null).length),
          job.runs.map((r) => r.params.epochs),
        );
        const other = await renderPage(
          trainingJobPage,
          ctx(`/retraining/jobs/${f.jobId}?log=${f.otherRunId}`, { id: f.jobId }),
        );
        const otherPosition = job.runs.find((r) => r.id === f.otherRunId)!.position + 1;
        assert.match(other, new RegExp(`<h2 id="log">Log of run ${otherPosition}</h2>`));
      },
    );

    await t.test('datasets with their sources, replay share and items in pages', async () => {
      const list = await renderPage(datasetListPage, ctx('/retraining/datasets'));
      assert.match(
        textOf(list, `data-dataset="${f.drifted}"`),
        new RegExp(
          `drifted .* 52 .* 3 device\\(s\\): car-1, car-2, car-3 up to 12 items \\(23 %\\) from ${f.original}`,
        ),
      );
      assert.match(textOf(list, `data-dataset="${f.original}"`), /garage .* 60 .* 2 device\(s\): car-1, car-2 none/);

      const html = await renderPage(datasetPage, ctx(`/retraining/datasets/${f.drifted}`, { id: f.drifted }));
      assert.match(textOf(html, 'data-testid="dataset-sources"'), /car-1 \d+ .* car-3 40/);
      assert.match(
        html,
        /href="\/models\/distance\/versions\/2">distance v2<\/a> \(<a href="\/retraining\/lineage\/models\/distance\/2">lineage/,
      );
      assert.match(html, /Versions sampled<\/dt><dd>distance \(every version\)/);
      assert.match(html, /data-chart="histogram" data-source="label-hist"/);
      assert.equal((html.match(/<tr><th scope="row" class="mono"/g) ?? []).length, 50, 'the first 50 items');
      const next = /href="([^"]+)" rel="next" data-testid="items-next"/.exec(html)![1]!.replace(/&amp;/g, '&');
      const page2 = await renderPage(datasetPage, ctx(next, { id: f.drifted }));
      assert.equal((page2.match(/<tr><th scope="row" class="mono"/g) ?? []).length, 2, 'and the other 2');
      assert.match(page2, /← First page/);
      const bad = await renderPage(datasetPage, ctx('/retraining/datasets/x', { id: 'x' }));
      assert.match(bad, /is not a dataset id/);
    });

    await t.test('the lineage walk from a device record to the dataset and its devices', async () => {
      const html = await renderPage(
        recordLineagePage,
        ctx(`/retraining/lineage/records/${f.recordId}`, { id: String(f.recordId) }),
      );
      const order = [
        `data-node="record:${f.recordId}"`,
        'data-node="version:distance@2"',
        `data-node="loop-run:${DONE_RUN}"`,
        `data-node="run:${f.bestRunId}"`,
        `data-node="dataset:${f.drifted}"`,
        'data-node="device:car-3"',
      ].map((n) => html.indexOf(n));
      assert.ok(
        order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
        `every hop, in order: ${order.join(', ')}`,
      );
      assert.match(html, new RegExp(`<a href="/retraining/datasets/${f.drifted}" data-node="dataset:${f.drifted}">`));
      assert.match(html, /predicted 120, reference value 118/);
      assert.deepEqual(
        textOf(html, 'data-testid="lineage-gaps"'),
        `incident ${INCIDENT} is not on this server`,
        'the walk says what it cannot follow',
      );
      const v1 = await renderPage(
        versionLineagePage,
        ctx('/retraining/lineage/models/distance/1', { name: 'distance', version: '1' }),
      );
      assert.match(textOf(v1, 'data-testid="lineage-gaps"'), /distance v1 names no training run/);
      assert.match(v1, /Not made by the retraining loop/);
      assert.equal(
        await renderPage(lineageLookupPage, ctx(`/retraining/lineage?record=${f.recordId}`)),
        `RESPONSE 303 /retraining/lineage/records/${f.recordId}`,
      );
      assert.equal(
        await renderPage(lineageLookupPage, ctx('/retraining/lineage?model=distance&version=2')),
        'RESPONSE 303 /retraining/lineage/models/distance/2',
      );
      assert.match(await renderPage(lineageLookupPage, ctx('/retraining/lineage?record=x')), /Give a record id/);
      const bad = await renderPage(recordLineagePage, ctx('/retraining/lineage/records/abc', { id: 'abc' }));
      assert.match(bad, /is not a telemetry record id/);
    });

    await t.test(
      'retrain now: refused while a run goes and in the cool-down (saying to force), then forced',
      async () => {
        const form = { model: 'distance', reason: 'new site' };
        const busy = await triggerRetraining(ctx('/retraining'), form);
        assert.equal(busy.redirect, '/retraining');
        assert.equal(busy.flash?.kind, 'error');
        assert.match(
          busy.flash!.text,
          new RegExp(`distance was not retrained: loop run ${RUNNING_RUN} of distance is running`),
        );

        const cancelled = await cancelLoopRun(ctx(`/retraining/runs/${RUNNING_RUN}`, { id: RUNNING_RUN }), {
          reason: 'wrong window',
        });
        assert.equal(cancelled.redirect, `/retraining/runs/${RUNNING_RUN}`);
        assert.match(cancelled.flash!.text, /is cancelled: cancelled by .*wrong window/);

        const cooling = await triggerRetraining(ctx('/retraining'), form);
        assert.match(cooling.flash!.text, /is in its cool-down for \d+ s more .* \(tick “Force” to start anyway\)/);
        const forced = await triggerRetraining(ctx('/retraining'), { ...form, force: 'true' });
        assert.equal(forced.flash?.kind, 'ok', forced.flash?.text);
        const id = /^\/retraining\/runs\/(lr-[0-9a-f]{10})$/.exec(forced.redirect)![1]!;
        const { run } = await api.getLoopRun({ params: { id } });
        assert.deepEqual([run.state, run.trigger.kind, run.trigger.reason], ['running', 'manual', 'new site']);
        const none = await triggerRetraining(ctx('/retraining'), { model: '../x' });
        assert.match(none.flash!.text, /choose a model/);
      },
    );
  },
);
