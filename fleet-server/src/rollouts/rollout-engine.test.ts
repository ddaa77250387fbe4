/**
 * The rollout engine on a real SQLite fleet store: waves, gates, automatic rollback through a re-release,
 * concurrency, operator actions, and carrying on after a restart. Devices report through the
 * same recordUpdateReport the update ingest calls (the agent path is covered in test/integration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import type { RegistryError } from '../registry/model-registry.js';
import { rolloutParametersSchema } from '@edgeloop/protocol/rest';
import type { CreateRollout } from './rollout-params.js';
import { openKit, seedFleet, type Kit } from './rollout-test-kit.js';

function request(
  over: Partial<Omit<CreateRollout, 'parameters'>> & { parameters?: z.input<typeof rolloutParametersSchema> },
): CreateRollout {
  return {
    model: 'distance',
    version: 2,
    strategy: 'staged',
    target: { all: true },
    ...over,
    parameters: rolloutParametersSchema.parse(over.parameters ?? {}),
  };
}

const stateOf = async (k: Kit, id: string) => (await k.engine.store.devices(id)).map((d) => d.state);
const assignedVersion = (k: Kit, device: string) => k.assignedVersion(device);

test('update failures in the first wave roll back exactly the devices given the candidate, via a re-release', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 10);
  const r = await k.engine.create(
    request({ parameters: { waves: [{ percent: 20 }, { percent: 100 }], waitMs: 0, minDevices: 2 } }),
    'alice',
  );
  assert.deepEqual(
    r.waves.map((w) => w.size),
    [2, 8],
  );
  const wave1 = (await k.engine.store.devices(r.id)).filter((d) => d.state === 'assigned').map((d) => d.deviceId);
  assert.deepEqual(wave1, ids.slice(0, 2), 'only the first wave is assigned');

  await k.report(wave1[0]!, 2, 'active');
  await k.report(wave1[1]!, 2, 'failed', { code: 'health-check-failed', reason: 'output off' });
  await k.tick();

  const after = (await k.engine.store.get(r.id))!;
  assert.equal(after.state, 'rolled-back');
  assert.match(after.reason!, /wave 1: 1 of 2 decided devices failed/);
  const rerelease = (await k.store.models.get('distance', 3))!;
  assert.equal(rerelease.sha256, (await k.store.models.get('distance', 1))!.sha256, 'v3 is v1 again');
  assert.equal(rerelease.lineage.trigger, 'rollback');
  assert.equal(rerelease.lineage.parent, 1);
  assert.deepEqual(after.rollbackVersions, { '1': 3 });
  for (const id of wave1) assert.equal(await assignedVersion(k, id), 3);
  for (const id of ids.slice(2)) assert.equal(await assignedVersion(k, id), 1, `${id} was never given the candidate`);
  assert.deepEqual(await stateOf(k, r.id), ['rolled-back', 'rolled-back', ...new Array(8).fill('pending')]);

  const audit = await k.audit.list({ target: r.id });
  const rollback = audit.find((a) => a.action === 'rollout.rollback')!;
  assert.equal(rollback.actor, 'system');
  assert.equal(rollback.details.failures, 1);
  assert.equal(rollback.details.decided, 2);
  assert.ok(audit.some((a) => a.action === 'rollout.rerelease' && a.details.as === 3));
  assert.ok(audit.some((a) => a.action === 'rollout.create' && a.actor === 'alice'));
});

test('a candidate with worse live error than the baseline is rolled back, with the numbers in the audit log', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 4);
  for (const id of ids) await k.records(id, 1, 10, 5); // baseline MAE 5 before the switch
  const params = { waves: [{ count: 1 }, { percent: 100 }], waitMs: 0, liveError: { minRecords: 10 } };
  const r = await k.engine.create(request({ parameters: params }), 'op');
  await k.report(ids[0]!, 2, 'active');
  await k.tick();
  assert.equal(
    (await k.engine.store.get(r.id))!.currentWave,
    0,
    "waits for the candidate's reference-joined records (baseline has them)",
  );
  await k.records(ids[0]!, 2, 10, 9); // MAE 9 vs 5: ratio 1.8
  await k.tick();
  const after = (await k.engine.store.get(r.id))!;
  assert.equal(after.state, 'rolled-back');
  assert.match(after.reason!, /live error: candidate MAE 9 \(10 records\) vs baseline MAE 5/);
  const entry = (await k.audit.list({ target: r.id, action: 'rollout.rollback' }))[0]!;
  assert.equal(entry.details.gate, 'live-error');
  assert.equal((entry.details.candidate as { mae: number }).mae, 9);
});

test('a rollout carries on after a restart and completes; downloads stay under maxConcurrentDownloads', async (t) => {
  let k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 5);
  for (const id of ids) await k.records(id, 1, 10, 5);
  const r = await k.engine.create(
    request({
      parameters: {
        waves: [{ count: 1 }, { percent: 100 }],
        waitMs: 0,
        maxConcurrentDownloads: 2,
        liveError: { minRecords: 10 },
      },
    }),
    'op',
  );
  await k.report(ids[0]!, 2, 'active');
  await k.records(ids[0]!, 2, 10, 4); // better than the baseline
  await k.tick();
  assert.equal((await k.engine.store.get(r.id))!.currentWave, 1);
  assert.deepEqual(
    await stateOf(k, r.id),
    ['active', 'assigned', 'assigned', 'pending', 'pending'],
    'two downloads at a time',
  );

  k = await k.reopen(); // the server restarts mid-rollout
  await k.tick();
  assert.deepEqual(await stateOf(k, r.id), ['active', 'assigned', 'assigned', 'pending', 'pending']);
  await k.report(ids[1]!, 2, 'downloading');
  await k.report(ids[2]!, 2, 'verified');
  await k.tick();
  assert.deepEqual(
    await stateOf(k, r.id),
    ['active', 'downloading', 'verified', 'assigned', 'pending'],
    'a verified device frees its download slot',
  );
  for (const id of ids.slice(1, 4)) await k.report(id, 2, 'active');
  await k.tick();
  assert.deepEqual(await stateOf(k, r.id), ['active', 'active', 'active', 'active', 'assigned']);
  await k.report(ids[4]!, 2, 'active');
  await k.tick();
  const done = (await k.engine.store.get(r.id))!;
  assert.equal(done.state, 'completed', done.reason ?? '');
  for (const id of ids) assert.equal(await assignedVersion(k, id), 2);
  const times = (await k.engine.store.devices(r.id))[1]!.times;
  assert.ok(
    times.pending! <= times.assigned! && times.assigned! <= times.downloading! && times.downloading! <= times.active!,
    JSON.stringify(times),
  );
  assert.ok(
    (await k.audit.list({ target: r.id })).some((a) => a.action === 'rollout.complete' && a.actor === 'system'),
  );
});

test('one active rollout per model, revoked candidates refused, operator pause/resume/abort', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 3);
  const r = await k.engine.create(request({ strategy: 'direct', target: { devices: [ids[0]!] } }), 'op');
  await assert.rejects(
    k.engine.create(request({ strategy: 'direct' }), 'op'),
    (e: RegistryError) => e.status === 409 && /still running/.test(e.message),
  );
  await assert.rejects(k.engine.operate('resume', r.id, 'op', undefined), (e: RegistryError) => e.status === 409);
  await k.engine.operate('pause', r.id, 'op', 'looks odd');
  await k.report(ids[0]!, 2, 'failed', { code: 'load-failed' });
  await k.tick();
  assert.equal((await k.engine.store.get(r.id))!.state, 'paused', 'a paused rollout takes no decision');
  assert.equal((await k.engine.store.devices(r.id))[0]!.state, 'failed', 'but keeps tracking devices');
  await k.engine.operate('resume', r.id, 'op', undefined);
  assert.equal((await k.engine.store.devices(r.id))[0]!.acknowledged, true, 'resume acknowledges present failures');
  await k.engine.operate('abort', r.id, 'op', 'enough');
  assert.equal((await k.engine.store.get(r.id))!.state, 'aborted');
  assert.equal(await assignedVersion(k, ids[0]!), 2, 'abort leaves devices as they are');
  assert.deepEqual((await k.audit.list({ target: r.id })).map((a) => `${a.actor}:${a.action}`).reverse(), [
    'op:rollout.create',
    'op:rollout.pause',
    'op:rollout.resume',
    'op:rollout.abort',
  ]);

  await k.store.models.setStatus('distance', 2, 'revoked', 'bad');
  await assert.rejects(
    k.engine.create(request({ strategy: 'direct' }), 'op'),
    (e: RegistryError) => e.status === 409 && /revoked/.test(e.message),
  );
});

test('ab holds at its share until promoted, then goes to 100 %', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 4);
  const r = await k.engine.create(
    request({ strategy: 'ab', parameters: { abPercent: 50, waitMs: 0, liveError: { required: 'never' } } }),
    'op',
  );
  for (const id of ids.slice(0, 2)) await k.report(id, 2, 'active');
  await k.tick();
  await k.tick();
  assert.equal((await k.engine.store.get(r.id))!.holding, true);
  assert.deepEqual(await stateOf(k, r.id), ['active', 'active', 'pending', 'pending']);
  await assert.rejects(k.engine.operate('promote', 'ro-nope', 'op', undefined), (e: RegistryError) => e.status === 404);
  await k.engine.operate('promote', r.id, 'op', 'B wins');
  await k.tick();
  assert.deepEqual(await stateOf(k, r.id), ['active', 'active', 'assigned', 'assigned']);
  for (const id of ids.slice(2)) await k.report(id, 2, 'active');
  await k.tick();
  assert.equal((await k.engine.store.get(r.id))!.state, 'completed');
});

test('shadow: the candidate runs as a shadow, its error is compared on the same devices, abort removes it', async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 2);
  const r = await k.engine.create(request({ strategy: 'shadow', parameters: { liveError: { minRecords: 5 } } }), 'op');
  assert.equal(r.role, 'shadow');
  for (const id of ids) {
    assert.equal(await assignedVersion(k, id), 1, 'the serving assignment is untouched');
    assert.equal((await k.store.shadows.get(id, 'distance'))?.version, 2);
    await k.report(id, 2, 'active', { role: 'shadow' });
  }
  await k.tick();
  for (const id of ids) {
    await k.records(id, 1, 5, 6);
    await k.records(id, 2, 5, 3, true);
  }
  const detail = await (await import('./rollout-view.js')).detailView(k.engine, (await k.engine.store.get(r.id))!);
  assert.deepEqual([detail.liveError.candidate.mae, detail.liveError.baseline.mae], [3, 6]);
  assert.equal(detail.liveError.candidate.records, 10);
  await k.engine.operate('abort', r.id, 'op', undefined);
  for (const id of ids) assert.equal(await k.store.shadows.get(id, 'distance'), undefined);
  assert.deepEqual(await stateOf(k, r.id), ['rolled-back', 'rolled-back']);
});

test("drift of the candidate's predictions pauses the rollout when maxPsi is set", async (t) => {
  const k = await openKit();
  t.after(() => k.close());
  const ids = await seedFleet(k, 3);
  for (const id of ids) await k.records(id, 1, 20, 5);
  const r = await k.engine.create(
    request({
      parameters: {
        waves: [{ count: 1 }, { percent: 100 }],
        waitMs: 0,
        drift: { maxPsi: 0.25, minRecords: 10, action: 'pause' },
        liveError: { maxErrorRatio: 1000 },
      },
    }),
    'op',
  );
  await k.report(ids[0]!, 2, 'active');
  await k.records(ids[0]!, 2, 20, 300); // predictions far outside the baseline's range
  await k.tick();
  const after = (await k.engine.store.get(r.id))!;
  assert.equal(after.state, 'paused');
  assert.match(after.reason!, /prediction drift: PSI [\d.]+ .* exceeds maxPsi 0.25/);
  assert.equal((await k.audit.list({ target: r.id, action: 'rollout.pause' }))[0]!.actor, 'system');
});
