import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Birth, UpdateReport } from '@edgeloop/protocol';
import { DeviceDirectory } from '../devices/device-directory.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { recordUpdateReport } from './update-reports.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-reports-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, directory: new DeviceDirectory(store) };
}

const birth = (session: number): Birth => ({
  v: 1,
  type: 'birth',
  deviceId: 'pi-1',
  session,
  ts: 1,
  agentVersion: '0.1.0',
  arch: 'arm64',
  platform: 'linux',
  cpus: 4,
  memTotalMb: 4096,
  runtime: { name: 'onnxruntime-node', version: '1.30.0' },
  models: [],
  stream: 's1',
  backlog: 0,
});

test('replayed update reports are refused; fresh ones move the assignment state and what the device runs', async (t) => {
  const { store, directory } = await setup(t);
  await store.devices.recordBirth(birth(1));
  await store.assignments.set('pi-1', 'm', 2);
  const report = (reportSeq: number, state: UpdateReport['state']): UpdateReport => ({
    v: 1,
    model: 'm',
    version: 2,
    state,
    ts: 1,
    session: 1,
    reportSeq,
  });
  assert.equal((await recordUpdateReport(store, 'pi-1', report(5, 'downloading'))).ok, true);
  assert.equal((await recordUpdateReport(store, 'pi-1', report(6, 'active'))).ok, true);
  assert.equal(
    (await recordUpdateReport(store, 'pi-1', report(5, 'downloading'))).ok,
    false,
    'replay of an old report',
  );
  assert.equal((await recordUpdateReport(store, 'pi-1', report(6, 'active'))).ok, false, 'replay of the last report');
  const view = (await directory.get('pi-1'))!;
  assert.equal(view.assignments[0]?.state, 'active');
  assert.deepEqual(
    view.models.map((m) => m.version),
    [2],
  );
  assert.deepEqual(
    (await directory.events('pi-1')).map((e) => [e.reportSeq, e.state]),
    [
      [6, 'active'],
      [5, 'downloading'],
    ],
  );
});

test('update reports count only for the current session, and reportSeq cannot leap ahead', async (t) => {
  const { store } = await setup(t);
  await store.devices.recordBirth(birth(7));
  const report = (session: number, reportSeq: number): UpdateReport => ({
    v: 1,
    model: 'm',
    version: 2,
    state: 'downloading',
    ts: 1,
    session,
    reportSeq,
  });
  const code = async (r: UpdateReport) => {
    const taken = await recordUpdateReport(store, 'pi-1', r);
    return taken.ok ? 'taken' : taken.code;
  };
  assert.equal(await code(report(7, 1)), 'taken');
  assert.equal(await code(report(7, 999_999)), 'seq-jump');
  assert.equal(await code(report(7, 2)), 'taken', 'the jump did not move the floor');
  assert.equal(await code(report(8, 1)), 'wrong-session', 'a session the device has not announced');
  await store.devices.recordBirth(birth(8));
  assert.equal(await code(report(7, 3)), 'wrong-session', 'an earlier session is over');
  assert.equal(await code(report(8, 1)), 'taken', 'a new session starts again at 1');
});

test('a shadow report moves the shadow assignment only, and does not change what the device serves', async (t) => {
  const { store, directory } = await setup(t);
  await store.devices.recordBirth(birth(1));
  await store.assignments.set('pi-1', 'm', 1);
  await store.shadows.set('pi-1', 'm', 2);
  const taken = await recordUpdateReport(store, 'pi-1', {
    v: 1,
    model: 'm',
    version: 2,
    state: 'active',
    ts: 1,
    session: 1,
    reportSeq: 1,
    role: 'shadow',
  });
  assert.equal(taken.ok, true);
  const view = (await directory.get('pi-1'))!;
  assert.deepEqual([view.assignments[0]?.state, view.shadows[0]?.state, view.models.length], ['assigned', 'active', 0]);
});
