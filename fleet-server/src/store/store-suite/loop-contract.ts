/**
 * @module store/store-suite/loop-contract
 * The store contract for the retraining loop: policies upserted, listed by model and deleted;
 * at most one running run per model (also when starts race), another model unaffected and a
 * new start allowed once the first finished; runs listed newest first with filters and pages;
 * the automatic runs counted for the daily budget; the last finished run for the cool-down.
 */
import assert from 'node:assert/strict';
import { loopPolicySchema, type LoopRun } from '@edgeloop/protocol/rest';
import type { LoopPolicyRecord } from '../fleet-store.js';
import type { WithStore } from './fixtures.js';

const policyRecord = (model: string, at = 1, extra: Partial<LoopPolicyRecord> = {}): LoopPolicyRecord => ({
  policy: loopPolicySchema.parse({ model }),
  updatedAt: at,
  updatedBy: 'admin',
  source: 'api',
  ...extra,
});

/** A loop run of `model` created at `createdAt`, running its data step unless `extra` says otherwise. */
export const loopRun = (id: string, model: string, createdAt: number, extra: Partial<LoopRun> = {}): LoopRun => ({
  id,
  model,
  state: 'running',
  step: 'data',
  trigger: {
    kind: 'incident',
    actor: 'system',
    at: createdAt,
    incidentId: 'in-1',
    rule: 'drift',
    onset: createdAt - 1000,
    devices: ['d1'],
    reason: null,
  },
  policy: loopPolicySchema.parse({ model }),
  champion: 1,
  datasetId: null,
  trainingJobId: null,
  trainingRunId: null,
  gate: null,
  version: null,
  rolloutId: null,
  steps: [
    { name: 'trigger', status: 'succeeded', startedAt: createdAt, finishedAt: createdAt, outcome: 'drift', detail: {} },
    { name: 'data', status: 'running', startedAt: createdAt, finishedAt: null, outcome: null, detail: {} },
  ],
  reason: null,
  createdAt,
  updatedAt: createdAt,
  finishedAt: null,
  ...extra,
});

/** The run ended in `state` at `at`. */
const finished = (run: LoopRun, state: LoopRun['state'], at: number): LoopRun => ({
  ...run,
  state,
  reason: state === 'succeeded' ? null : `ended ${state}`,
  updatedAt: at,
  finishedAt: at,
});

export function loopContract(withStore: WithStore): void {
  withStore('loop policies upsert by model, list in model order, delete', async (s) => {
    const l = s.loop;
    for (const model of ['speed', 'distance']) await l.putPolicy(policyRecord(model));
    const changed = policyRecord('speed', 5, { updatedBy: 'ops', source: 'config' });
    changed.policy.guards.maxRunsPerDay = 2;
    await l.putPolicy(changed);
    assert.deepEqual(await l.getPolicy('speed'), changed);
    assert.equal(await l.getPolicy('nope'), undefined);
    assert.deepEqual(
      (await l.listPolicies()).map((p) => [p.policy.model, p.updatedAt]),
      [
        ['distance', 1],
        ['speed', 5],
      ],
    );
    assert.equal(await l.deletePolicy('speed'), true);
    assert.equal(await l.deletePolicy('speed'), false);
    assert.deepEqual(
      (await l.listPolicies()).map((p) => p.policy.model),
      ['distance'],
    );
  });

  withStore('loop runs: one running per model, another model unaffected, allowed again once finished', async (s) => {
    const l = s.loop;
    const first = loopRun('lr-0000000001', 'distance', 100);
    assert.equal(await l.startRun(first), true);
    assert.equal(await l.startRun(loopRun('lr-0000000002', 'distance', 110)), false);
    assert.equal(await l.getRun('lr-0000000002'), undefined, 'the refused run is not stored');
    assert.equal(await l.startRun(loopRun('lr-0000000003', 'speed', 120)), true);
    assert.equal((await l.runningRun('distance'))?.id, 'lr-0000000001');
    assert.equal(await l.startRun(first), false, 'the same id twice');

    const moved = { ...first, step: 'train' as const, trainingJobId: 'tj-1', updatedAt: 130 };
    await l.updateRun(moved);
    assert.deepEqual(await l.getRun(first.id), moved);
    await l.updateRun(finished(moved, 'rejected', 140));
    assert.equal(await l.runningRun('distance'), undefined);
    assert.equal(await l.startRun(loopRun('lr-0000000004', 'distance', 150)), true);
    assert.equal((await l.runningRun('distance'))?.id, 'lr-0000000004');
    assert.equal((await l.getRun(first.id))?.reason, 'ended rejected');
  });

  withStore('loop runs: of racing starts for one model exactly one wins', async (s) => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((c) => `lr-00000000${c}${c}`);
    const started = await Promise.all(ids.map((id, i) => s.loop.startRun(loopRun(id, 'distance', 100 + i))));
    assert.equal(started.filter(Boolean).length, 1);
    assert.equal((await s.loop.listRuns()).length, 1);
  });

  withStore('loop runs: a finished run is stored only while none of its model runs', async (s) => {
    const l = s.loop;
    const failed = (id: string, at: number) => finished(loopRun(id, 'distance', at), 'failed', at);
    assert.equal(await l.startRun(failed('lr-0000000001', 100)), true);
    assert.equal(await l.startRun(loopRun('lr-0000000002', 'distance', 110)), true);
    assert.equal(await l.startRun(failed('lr-0000000003', 120)), false);
  });

  withStore('loop runs list newest first with model and state filters and pages by createdAt', async (s) => {
    const l = s.loop;
    const runs = [
      finished(loopRun('lr-0000000001', 'distance', 100), 'succeeded', 150),
      finished(loopRun('lr-0000000002', 'speed', 200), 'failed', 250),
      finished(loopRun('lr-0000000003', 'distance', 300), 'cancelled', 310),
      loopRun('lr-0000000005', 'distance', 400),
      loopRun('lr-0000000004', 'speed', 400),
    ];
    for (const r of runs) assert.equal(await l.startRun(r), true);
    const ids = (list: LoopRun[]) => list.map((r) => r.id.slice(-1));
    assert.deepEqual(ids(await l.listRuns()), ['5', '4', '3', '2', '1'], 'createdAt desc, then id desc');
    assert.deepEqual(ids(await l.listRuns({ model: 'distance' })), ['5', '3', '1']);
    assert.deepEqual(ids(await l.listRuns({ state: 'running' })), ['5', '4']);
    assert.deepEqual(ids(await l.listRuns({ model: 'speed', state: 'failed' })), ['2']);
    assert.deepEqual(ids(await l.listRuns({ limit: 2 })), ['5', '4']);
    assert.deepEqual(ids(await l.listRuns({ before: 400, limit: 2 })), ['3', '2']);
    assert.deepEqual(ids(await l.listRuns({ before: 200 })), ['1']);
    assert.deepEqual(await l.listRuns({ model: 'nope' }), []);
  });

  withStore('loop runs: automatic runs since a time counted per model; the last finished one found', async (s) => {
    const l = s.loop;
    const manual = (r: LoopRun): LoopRun => ({ ...r, trigger: { ...r.trigger, kind: 'manual', actor: 'ops' } });
    const runs = [
      finished(loopRun('lr-0000000001', 'distance', 100), 'succeeded', 500),
      finished(loopRun('lr-0000000002', 'distance', 200), 'failed', 300),
      finished(manual(loopRun('lr-0000000003', 'distance', 300)), 'rejected', 400),
      finished(loopRun('lr-0000000004', 'speed', 300), 'failed', 900),
      loopRun('lr-0000000005', 'distance', 600),
    ];
    for (const r of runs) assert.equal(await l.startRun(r), true);
    assert.equal(await l.countAutomaticSince('distance', 0), 3);
    assert.equal(await l.countAutomaticSince('distance', 200), 2, 'created at or after since');
    assert.equal(await l.countAutomaticSince('distance', 601), 0);
    assert.equal(await l.countAutomaticSince('speed', 0), 1);
    assert.equal((await l.lastFinished('distance'))?.id, 'lr-0000000001', 'by finishedAt, not createdAt');
    assert.equal((await l.lastFinished('speed'))?.id, 'lr-0000000004');
    assert.equal(await l.lastFinished('nope'), undefined);
  });
}
