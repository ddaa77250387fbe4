import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordUpdateReport } from '../../../deploy/update-reports.js';
import type { RunningFleetServer } from '../../../running-server.js';
import { startConsoleTestServer } from '../../testing/console-test-server.js';
import { renderPage, testPageContext } from '../../testing/render-page.js';
import type { RestClient } from '@edgeloop/protocol/client';
import { createRollout, pauseRollout, previewRollout, resumeRollout } from './rollout-actions.js';
import { buildRolloutRequest, readRolloutForm } from './rollout-form.js';
import { rolloutListPage } from './rollout-list-page.js';
import { rolloutNewPage } from './rollout-new-page.js';
import { rolloutPage } from './rollout-page.js';

const DEVICES = ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5', 'cam-6'];

async function seed(server: RunningFleetServer) {
  for (const [i, id] of DEVICES.entries()) {
    await server.store.devices.ensure(id);
    await server.store.devices.setLabels(id, { group: i < 4 ? 'north' : 'south' });
  }
}

/** The device reports the update as the agent would (through the update ingest's own function). */
async function report(server: RunningFleetServer, deviceId: string, version: number, state: 'active') {
  const cursor = await server.store.devices.reportCursor(deviceId);
  const last = cursor?.reportSession === cursor?.session ? (cursor?.reportSeq ?? 0) : 0;
  const taken = await recordUpdateReport(server.store, deviceId, {
    v: 1,
    model: 'distance',
    version,
    state,
    ts: Date.now(),
    session: cursor?.session ?? 0,
    reportSeq: last + 1,
  });
  assert.ok(taken.ok, 'report taken');
}

const FORM = {
  strategy: 'staged',
  version: 'distance@1',
  target: 'all',
  waves: '20%, 100%',
  bakeSeconds: '0',
  healthySeconds: '0',
  reason: 'console test',
};

async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const detail = (api: RestClient, id: string, role?: 'viewer' | 'operator', fragment?: string) =>
  renderPage(rolloutPage, testPageContext({ api, path: `/rollouts/${id}`, params: { id }, role }), fragment);

test('preview shows the waves the server cuts, create starts exactly that, and the pages follow it to completed', async (t) => {
  const { server, api } = await startConsoleTestServer(t);
  await seed(server);
  const operator = testPageContext({ api, path: '/rollouts/new', role: 'operator' });

  const empty = await renderPage(rolloutListPage, testPageContext({ api, path: '/rollouts' }));
  assert.match(empty, /No rollout yet/);

  const back = await previewRollout(operator, { _csrf: 'csrf-test', ...FORM });
  assert.match(back.redirect, /^\/rollouts\/new\?.*preview=1/);
  assert.doesNotMatch(back.redirect, /_csrf/, 'the CSRF token never goes into a URL');
  const preview = await renderPage(rolloutNewPage, testPageContext({ api, path: back.redirect, role: 'operator' }));
  assert.match(preview, /reaches <strong>6<\/strong> device\(s\) in <strong>2<\/strong> wave\(s\)/);
  const wave1 = /data-testid="preview-wave-1">(.*?)<\/tr>/s.exec(preview)?.[1] ?? '';
  assert.match(wave1, /<td class="num">2<\/td>/, 'wave 1: 20 % of 6, rounded up');
  assert.equal((wave1.match(/href="\/devices\//g) ?? []).length, 2, 'wave 1 names its two devices');
  assert.match(preview, /data-testid="preview-wave-2"/);
  assert.match(preview, /value="20%, 100%"/, 'the form keeps what was entered');
  assert.match(preview, /Start rolling out distance v1 to 6 device\(s\) in 2 wave\(s\), as previewed\?/);
  assert.deepEqual((await api.listRollouts()).rollouts, [], 'a preview creates nothing');
  await assert.rejects(
    api.previewRollout({
      body: {
        model: 'distance',
        version: 1,
        strategy: 'ab',
        target: { all: true },
        parameters: { waves: [{ count: 1 }] },
      },
    }),
    /waves apply to staged and canary rollouts, not ab/,
    'the preview refuses what create refuses',
  );

  const bad = await renderPage(
    rolloutNewPage,
    testPageContext({ api, path: '/rollouts/new?strategy=staged&version=distance@1&target=group&preview=1' }),
  );
  assert.match(bad, /Cannot preview: Group: choose the group to roll out to/);

  const created = await createRollout(operator, { _csrf: 'csrf-test', ...FORM });
  const id = /^\/rollouts\/(ro-[0-9a-f]+)$/.exec(created.redirect)?.[1];
  assert.ok(id, `redirected to the new rollout: ${created.redirect}`);
  assert.equal(created.flash?.kind, 'ok');
  assert.match(created.flash!.text, /distance v1 to 6 device\(s\) in 2 wave\(s\)/);

  const refused = await createRollout(operator, { ...FORM });
  assert.equal(refused.flash?.kind, 'error');
  assert.match(refused.flash!.text, /not created: .*still running/, 'one active rollout per model');
  assert.match(refused.redirect, /^\/rollouts\/new\?/, 'back to the filled-in form');

  const list = await renderPage(rolloutListPage, testPageContext({ api, path: '/rollouts' }));
  assert.match(list, new RegExp(`href="/rollouts/${id}">${id}</a>`));
  assert.match(list, /distance v1/);
  assert.match(list, /staged/);
  const filtered = await renderPage(rolloutListPage, testPageContext({ api, path: '/rollouts?state=completed' }));
  assert.match(filtered, /No rollout matches the filter/);

  const page = await detail(api, id);
  assert.match(page, /<span class="badge badge-info" data-testid="rollout-state">running<\/span>/);
  assert.match(page, /data-testid="wave-1"/);
  assert.match(page, /data-testid="wave-2"/);
  assert.match(page, /href="\/devices\/cam-1"/);
  assert.match(page, /data-gate="success"/, 'gate readings');
  assert.match(page, /data-testid="live-error"/);
  assert.match(page, /data-testid="decision-history"/);
  assert.match(page, /<td>create<\/td><td>console test<\/td>/, 'the decision history names the create and its reason');
  for (const label of ['Pause', 'Abort', 'Roll back']) assert.match(page, new RegExp(`>${label}</button>`));
  assert.doesNotMatch(page, />Resume<\/button>/, 'resume only when paused');
  assert.doesNotMatch(page, />Promote<\/button>/, 'promote is for ab and shadow');

  // The devices take the version; the live region follows the engine to completed.
  await waitFor('every device done', async () => {
    const d = await api.getRollout({ params: { id } });
    for (const dev of d.devices) if (dev.state === 'assigned') await report(server, dev.deviceId, 1, 'active');
    return d.rollout.state === 'completed';
  });
  const region = await detail(api, id, undefined, 'rollout');
  assert.match(region, /^<div id="rollout" data-live="rollouts devices"/);
  assert.match(region, /data-testid="rollout-state">completed</);
  assert.match(region, /<td>complete<\/td>/, 'the engine decision is in the history');
  assert.match(region, />Roll back<\/button>/, 'a completed rollout can still be rolled back');
  assert.doesNotMatch(region, />Pause<\/button>/);
  assert.deepEqual(server.contractViolations, [], 'every answer kept the REST contract');
});

test('pause and resume round-trip through the actions; a viewer sees every state-changing button disabled', async (t) => {
  const { server, api } = await startConsoleTestServer(t);
  await seed(server);
  const { rollout } = await api.createRollout({
    body: {
      model: 'distance',
      version: 1,
      strategy: 'canary',
      target: { group: 'north' },
      parameters: { canary: { count: 1 } },
    },
  });
  const id = rollout.id;
  const ctx = testPageContext({ api, path: `/rollouts/${id}`, params: { id }, role: 'operator' });

  const paused = await pauseRollout(ctx, { _csrf: 'csrf-test', reason: 'checking the canary' });
  assert.equal(paused.redirect, `/rollouts/${id}`);
  assert.match(paused.flash!.text, /is paused/);
  const pausedPage = await detail(api, id);
  assert.match(pausedPage, /data-testid="rollout-state">paused</);
  assert.match(pausedPage, /checking the canary/);
  assert.match(pausedPage, />Resume<\/button>/);
  assert.doesNotMatch(pausedPage, />Pause<\/button>/);

  await resumeRollout(ctx, { _csrf: 'csrf-test' });
  const resumed = await api.getRollout({ params: { id } });
  assert.equal(resumed.rollout.state, 'running');
  const history = await detail(api, id);
  assert.ok(
    history.indexOf('<td>pause</td>') < history.indexOf('<td>resume</td>'),
    'the history lists pause, then resume',
  );
  await assert.rejects(resumeRollout(ctx, {}), /cannot resume rollout .* only a paused rollout can be resumed/);

  const viewer = await detail(api, id, 'viewer');
  for (const label of ['Pause', 'Abort', 'Roll back'])
    assert.match(viewer, new RegExp(`disabled="" title="needs the operator role">${label}</button>`));
  const viewerNew = await renderPage(rolloutNewPage, testPageContext({ api, path: '/rollouts/new', role: 'viewer' }));
  assert.match(viewerNew, /disabled="" title="needs the operator role">Preview waves/);
  assert.match(viewerNew, /disabled="" title="needs the operator role">Create rollout/);
  assert.match(viewerNew, /<label for="rf-strategy">Strategy<\/label>/);
  assert.match(viewerNew, /<label for="rf-version">Model version<\/label>/);
  const viewerList = await renderPage(rolloutListPage, testPageContext({ api, path: '/rollouts', role: 'viewer' }));
  assert.match(viewerList, /Creating a rollout needs the operator role/);
});

test('the form reads shares, counts and gates, and names every field it cannot read', () => {
  const form = readRolloutForm(
    (k) =>
      ({
        strategy: 'canary',
        version: 'distance@3',
        target: 'tag',
        tags: 'site=north, line=2',
        canary: '2',
        waves: '50%, 100%',
        successPercent: '90',
        maxErrorRatio: '1.5',
        maxPsi: '0.25',
        bakeSeconds: '30',
      })[k],
  );
  const built = buildRolloutRequest(form);
  assert.ok(built.ok);
  assert.deepEqual(built.request, {
    model: 'distance',
    version: 3,
    strategy: 'canary',
    target: { tags: { site: 'north', line: '2' } },
    parameters: {
      waves: [{ percent: 50 }, { percent: 100 }],
      canary: { count: 2 },
      waitMs: 30_000,
      successThreshold: 0.9,
      liveError: { maxErrorRatio: 1.5 },
      drift: { maxPsi: 0.25 },
    },
  });
  const bad = buildRolloutRequest(
    readRolloutForm((k) => ({ strategy: 'staged', version: '', target: 'devices', waves: '10%, lots' })[k]),
  );
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, [
    'Model version: choose the version to roll out',
    'Devices: list the device ids, separated by commas or spaces',
    'Waves: "lots" is neither a share like 10% nor a device count like 3',
  ]);
});
