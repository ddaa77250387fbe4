import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Birth, TelemetryRecord, UpdateReport } from '@edgeloop/protocol';
import { openFleetDb } from './fleet-db.js';
import { DeviceStore } from './device-store.js';
import { TelemetryStore } from './telemetry-store.js';

function stores(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-fleetdb-'));
  const db = openFleetDb(join(dir, 'fleet.db'));
  t.after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  return { devices: new DeviceStore(db), telemetry: new TelemetryStore(db) };
}

const birth = (session: number): Birth => ({
  v: 1, type: 'birth', deviceId: 'pi-1', session, ts: 1, agentVersion: '0.1.0', arch: 'arm64', platform: 'linux', cpus: 4,
  memTotalMb: 4096, runtime: { name: 'onnxruntime-node', version: '1.30.0' }, models: [], stream: 's1', backlog: 0,
});
const record = (seq: number, requestId = `r${seq}`): TelemetryRecord => ({ seq, ts: seq, model: 'm', version: 1, requestId, output: [seq], latencyMs: 1, features: {} });

test('telemetry inserts are idempotent per (device, stream, seq)', (t) => {
  const { telemetry } = stores(t);
  assert.equal(telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]), 2);
  assert.equal(telemetry.insertBatch('pi-1', 's1', [record(2), record(3)]), 1, 're-sent seq 2 is skipped');
  assert.equal(telemetry.insertBatch('pi-1', 's2', [record(1)]), 1, 'another stream (a reinstalled agent) is distinct');
  assert.equal(telemetry.insertBatch('pi-2', 's1', [record(1)]), 1, 'another device is distinct');
  assert.equal(telemetry.count('pi-1'), 4);
  assert.deepEqual(telemetry.query({ device: 'pi-1', order: 'oldest' }).map((r) => r.seq), [1, 2, 3, 1]);
});

test('a late death from an older session does not mark a reconnected device offline', (t) => {
  const { devices } = stores(t);
  devices.recordBirth(birth(1));
  devices.recordBirth(birth(2));
  devices.recordDeath('pi-1', 1);
  assert.equal(devices.get('pi-1')?.online, true);
  devices.recordDeath('pi-1', 2);
  assert.equal(devices.get('pi-1')?.online, false);
});

test('replayed update reports are refused; fresh ones move the assignment state', (t) => {
  const { devices } = stores(t);
  devices.recordBirth(birth(1));
  devices.assign('pi-1', 'm', 2);
  const report = (reportSeq: number, state: UpdateReport['state']): UpdateReport => ({ v: 1, model: 'm', version: 2, state, ts: 1, session: 1, reportSeq });
  assert.equal(devices.recordUpdateReport('pi-1', report(5, 'downloading')).ok, true);
  assert.equal(devices.recordUpdateReport('pi-1', report(6, 'active')).ok, true);
  assert.equal(devices.recordUpdateReport('pi-1', report(5, 'downloading')).ok, false, 'replay of an old report');
  assert.equal(devices.recordUpdateReport('pi-1', report(6, 'active')).ok, false, 'replay of the last report');
  const view = devices.get('pi-1')!;
  assert.equal(view.assignments[0]?.state, 'active');
  assert.deepEqual(view.models.map((m) => m.version), [2]);
});

test('update reports count only for the current session, and reportSeq cannot leap ahead', (t) => {
  const { devices } = stores(t);
  devices.recordBirth(birth(7));
  const report = (session: number, reportSeq: number): UpdateReport => ({ v: 1, model: 'm', version: 2, state: 'downloading', ts: 1, session, reportSeq });
  assert.equal(devices.recordUpdateReport('pi-1', report(7, 1)).ok, true);
  const jump = devices.recordUpdateReport('pi-1', report(7, 999_999));
  assert.equal(jump.ok ? 'taken' : jump.code, 'seq-jump');
  assert.equal(devices.recordUpdateReport('pi-1', report(7, 2)).ok, true, 'the jump did not move the floor');
  const ahead = devices.recordUpdateReport('pi-1', report(8, 1));
  assert.equal(ahead.ok ? 'taken' : ahead.code, 'wrong-session', 'a session the device has not announced');
  devices.recordBirth(birth(8));
  const stale = devices.recordUpdateReport('pi-1', report(7, 3));
  assert.equal(stale.ok ? 'taken' : stale.code, 'wrong-session', 'an earlier session is over');
  assert.equal(devices.recordUpdateReport('pi-1', report(8, 1)).ok, true, 'a new session starts again at 1');
});

test('desired-state counters grow per device and never fall below the clock', (t) => {
  const { devices } = stores(t);
  devices.recordBirth(birth(1));
  assert.equal(devices.desiredCounter('pi-1'), 0);
  assert.equal(devices.nextDesiredCounter('pi-1', 1000), 1000);
  assert.equal(devices.nextDesiredCounter('pi-1', 1000), 1001, 'the same millisecond still gets a higher counter');
  assert.equal(devices.nextDesiredCounter('pi-1', 900), 1002, 'a clock that stepped back does not lower it');
  assert.equal(devices.nextDesiredCounter('pi-1', 5000), 5000);
  assert.equal(devices.desiredCounter('pi-1'), 5000);
  assert.throws(() => devices.nextDesiredCounter('nobody'), /unknown device/);
});
