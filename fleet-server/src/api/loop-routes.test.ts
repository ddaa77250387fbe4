/**
 * The loop routes over a real SQLite store, every answer checked against the REST contract:
 * policies set with defaults applied (and refused with a reason), read, listed, removed and
 * audited; runs listed newest first with filters and pages, one read in full; trigger and
 * cancel handed to the loop engine (a recording stand-in here: the engine is tested on its
 * own) with the caller's name, and answered 503 where no engine runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoopPolicyView, LoopRun } from '@edgeloop/protocol/rest';
import { loopRun } from '../store/store-suite/loop-contract.js';
import { loopApi, type Answer } from './loop-api-fixture.js';

test('loop policies: set with defaults, refused with a reason, read, listed, removed, audited', async (t) => {
  const { api, audit, violations } = await loopApi(t);
  assert.deepEqual((await api('GET', '/loop/policies')).body, { policies: [] });
  const none = await api('GET', '/loop/policies/distance');
  assert.equal(none.status, 404);
  assert.match(none.body.error!, /no loop policy for model "distance"; set one with edgeloop loop policy set <file>/);

  const set = await api('PUT', '/loop/policies/distance', { guards: { maxRunsPerDay: 2 } });
  assert.equal(set.status, 200, set.body.error);
  const view = set.body.policy as LoopPolicyView;
  assert.equal(view.updatedBy, 'ops');
  assert.equal(view.policy.model, 'distance', 'the model comes from the path');
  assert.deepEqual(view.policy.guards, { cooldownMs: 30 * 60_000, maxRunsPerDay: 2 });
  assert.equal(view.policy.dataset.replayShare, 0.3, 'defaults applied');
  assert.deepEqual(view.policy.triggers, [{ kind: 'incident' }]);
  assert.deepEqual((await api('GET', '/loop/policies/distance')).body, { policy: view });

  const mismatch = await api('PUT', '/loop/policies/distance', { model: 'speed' });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body.error!, /the body's model \("speed"\) is not the path's \(distance\)/);
  const invalid = await api('PUT', '/loop/policies/distance', { gate: { minImprovement: 2 } });
  assert.equal(invalid.status, 400);
  assert.match(invalid.body.error!, /invalid loop policy: gate\.minImprovement.*; send e\.g\. \{"model": "distance"/);
  const unknownField = await api('PUT', '/loop/policies/distance', { gaurds: {} });
  assert.equal(unknownField.status, 400, 'a misspelt field is refused, not ignored');
  const unregistered = await api('PUT', '/loop/policies/weight', {});
  assert.equal(unregistered.status, 404);
  assert.match(unregistered.body.error!, /no model "weight" is registered.*edgeloop models push/);
  assert.equal((await api('PUT', '/loop/policies/bad name', {})).status, 400);

  await api('PUT', '/loop/policies/speed', { model: 'speed', enabled: false });
  const listed = (await api('GET', '/loop/policies')).body.policies as LoopPolicyView[];
  assert.deepEqual(
    listed.map((p) => [p.policy.model, p.policy.enabled]),
    [
      ['distance', true],
      ['speed', false],
    ],
  );
  assert.deepEqual((await api('DELETE', '/loop/policies/speed')).body, { removed: 'speed' });
  assert.equal((await api('DELETE', '/loop/policies/speed')).status, 404);
  assert.deepEqual((await audit.list({ action: 'loop' })).map((e) => [e.action, e.target, e.actor]).reverse(), [
    ['loop.policy.set', 'distance', 'ops'],
    ['loop.policy.set', 'speed', 'ops'],
    ['loop.policy.delete', 'speed', 'ops'],
  ]);
  assert.deepEqual(violations, []);
});

test('loop runs: trigger and cancel go to the engine as the caller; runs listed, paged and read', async (t) => {
  const { api, store, loop, violations } = await loopApi(t);
  await api('PUT', '/loop/policies/distance', {});
  const started = await api('POST', '/loop/policies/distance/trigger', { reason: 'new firmware' });
  assert.equal(started.status, 202, started.body.error);
  const run = started.body.run as LoopRun;
  assert.equal(run.trigger.reason, 'new firmware');
  const busy = await api('POST', '/loop/policies/distance/trigger');
  assert.equal(busy.status, 409, "the engine's refusal reaches the caller");
  assert.match(busy.body.error!, /a run of distance is running/);
  assert.equal((await api('POST', '/loop/policies/speed/trigger', { force: true })).status, 404);
  assert.equal((await api('POST', '/loop/policies/distance/trigger', { force: 'yes' })).status, 400);

  const cancelled = await api('POST', `/loop/runs/${run.id}/cancel`, { reason: 'wrong window' });
  assert.equal(cancelled.status, 200, cancelled.body.error);
  assert.equal((cancelled.body.run as LoopRun).state, 'cancelled');
  assert.equal((await api('POST', `/loop/runs/${run.id}/cancel`)).status, 409);
  assert.equal((await api('POST', '/loop/runs/pi-1/cancel')).status, 400);
  assert.deepEqual(loop!.calls, [
    ['trigger', 'distance', { reason: 'new firmware', force: false }, 'ops'],
    ['trigger', 'distance', { force: false }, 'ops'],
    ['trigger', 'speed', { force: true }, 'ops'],
    ['cancel', run.id, 'wrong window', 'ops'],
    ['cancel', run.id, undefined, 'ops'],
  ]);

  // Older runs, written as the engine would.
  const failed = (r: LoopRun): LoopRun => ({
    ...r,
    state: 'failed',
    reason: 'too few samples',
    finishedAt: r.createdAt,
  });
  for (const r of [
    failed(loopRun('lr-0000000001', 'distance', 100)),
    failed(loopRun('lr-0000000002', 'speed', 200)),
    loopRun('lr-0000000003', 'speed', 300),
  ])
    assert.equal(await store.loop.startRun(r), true);
  const ids = (a: Answer) => (a.body.runs as LoopRun[]).map((r) => r.id);
  assert.deepEqual(ids(await api('GET', '/loop/runs')), [run.id, 'lr-0000000003', 'lr-0000000002', 'lr-0000000001']);
  const page = await api('GET', '/loop/runs?limit=2');
  assert.deepEqual([ids(page), page.body.next], [[run.id, 'lr-0000000003'], 300]);
  const rest = await api('GET', '/loop/runs?limit=2&before=300');
  assert.deepEqual([ids(rest), rest.body.next], [['lr-0000000002', 'lr-0000000001'], 100]);
  assert.deepEqual((await api('GET', '/loop/runs?limit=2&before=100')).body, { runs: [], next: null });
  assert.deepEqual(ids(await api('GET', '/loop/runs?model=speed&state=failed')), ['lr-0000000002']);
  const badState = await api('GET', '/loop/runs?state=done');
  assert.equal(badState.status, 400);
  assert.match(badState.body.error!, /state/);
  assert.equal((await api('GET', '/loop/runs?limit=0')).status, 400);

  assert.deepEqual((await api('GET', '/loop/runs/lr-0000000002')).body, {
    run: failed(loopRun('lr-0000000002', 'speed', 200)),
  });
  const unknown = await api('GET', '/loop/runs/lr-00000000ff');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error!, /no loop run lr-00000000ff; edgeloop loop list shows the runs/);
  const malformed = await api('GET', '/loop/runs/tj-1');
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.error!, /must be a loop run id: lr- and 10 hex digits/);
  assert.deepEqual(violations, []);
});

test('without the loop engine, trigger and cancel answer 503 and everything else works', async (t) => {
  const { api, violations } = await loopApi(t, false);
  assert.equal((await api('PUT', '/loop/policies/distance', {})).status, 200);
  const trigger = await api('POST', '/loop/policies/distance/trigger', {});
  assert.equal(trigger.status, 503);
  assert.match(trigger.body.error!, /the retraining loop is not running on this server/);
  assert.equal((await api('POST', '/loop/runs/lr-0000000001/cancel')).status, 503);
  assert.deepEqual((await api('GET', '/loop/runs')).body, { runs: [], next: null });
  assert.deepEqual(violations, []);
});
