/**
 * @module store/store-suite
 * The FleetStore contract as tests: every implementation (SQLite here, PostgreSQL beside it)
 * runs `runFleetStoreSuite` against a fresh store per test and must pass all of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Birth, TelemetryRecord } from '@edgeloop/protocol';
import {
  PENDING_REFERENCE_TTL_MS,
  type FleetStore,
  type NewModelVersion,
  type RolloutDeviceRecord,
  type RolloutRecord,
} from './fleet-store.js';

const birth = (deviceId: string, session: number, extra: Partial<Birth> = {}): Birth => ({
  v: 1,
  type: 'birth',
  deviceId,
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
  ...extra,
});

const record = (seq: number, extra: Partial<TelemetryRecord> = {}): TelemetryRecord => ({
  seq,
  ts: 1_000 + seq,
  model: seq % 2 ? 'a' : 'b',
  version: 1 + (seq % 3),
  output: seq % 5 ? [seq / 4] : [1, -2.5, seq],
  prediction: seq % 7 ? seq / 4 : null,
  latencyMs: seq / 8,
  features: seq % 4 ? { f: seq, g: -seq / 3 } : {},
  reference: seq % 3 ? seq + 0.5 : null,
  ...(seq % 6 ? {} : { requestId: `r${seq}` }),
  ...(seq % 9 ? {} : { shadow: true }),
  ...extra,
});

const modelVersion = (
  name: string,
  version: number,
  sha256 = `${name}-${version}`.padEnd(64, '0'),
): NewModelVersion => ({
  name,
  version,
  sha256,
  size: 10 * version,
  keyId: 'k1',
  createdAt: 5,
  envelope: { payloadType: 't', payload: `p${version}`, signatures: [] },
  manifest: { name, version } as unknown as NewModelVersion['manifest'],
  description: null,
  labels: { team: 'a' },
  metrics: { mae: 1.5 },
  trainingSummary: null,
  lineage: {},
});

const rollout = (id: string, model: string, state = 'running'): RolloutRecord => ({
  id,
  model,
  version: 2,
  baselineVersion: 1,
  strategy: 'staged',
  role: 'serve',
  target: { all: true },
  params: { waitMs: 1 },
  waves: [{ size: 1 }],
  state,
  reason: null,
  createdBy: 'op',
  createdAt: 10,
  updatedAt: 10,
  finishedAt: null,
  currentWave: 0,
  holding: false,
  promotedAt: null,
  judgedSince: 10,
  rollbackVersions: {},
});

const rolloutDevice = (
  rolloutId: string,
  deviceId: string,
  position: number,
  extra: Partial<RolloutDeviceRecord> = {},
): RolloutDeviceRecord => ({
  rolloutId,
  deviceId,
  wave: 0,
  position,
  state: 'pending',
  previousVersion: 1,
  assignedAt: null,
  stateAt: 10,
  times: { pending: 10 },
  reason: null,
  acknowledged: false,
  ...extra,
});

export function runFleetStoreSuite(name: string, open: () => Promise<FleetStore>): void {
  const withStore = (title: string, fn: (store: FleetStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  withStore('telemetry inserts are idempotent per (device, stream, seq)', async (s) => {
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]), 2);
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', [record(2), record(3)]), 1, 're-sent seq 2 is skipped');
    assert.equal(await s.telemetry.insertBatch('pi-1', 's2', [record(1)]), 1, 'another stream is distinct');
    assert.equal(await s.telemetry.insertBatch('pi-2', 's1', [record(1)]), 1, 'another device is distinct');
    assert.equal(await s.telemetry.count('pi-1'), 4);
    assert.equal(await s.telemetry.count(), 5);
    assert.deepEqual(
      (await s.telemetry.query({ device: 'pi-1', order: 'oldest' })).map((r) => r.seq),
      [1, 2, 3, 1],
    );
  });

  withStore('large batches store every field and count only new records', async (s) => {
    const first = Array.from({ length: 150 }, (_, i) => record(i + 1));
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', first, 5, true), 150);
    const overlapping = Array.from({ length: 141 }, (_, i) => record(i + 40));
    assert.equal(await s.telemetry.insertBatch('pi-1', 's1', overlapping, 6), 30);
    const rows = await s.telemetry.query({ device: 'pi-1', order: 'oldest', limit: 1000 });
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 180 }, (_, i) => i + 1),
    );
    for (const row of rows) {
      const want = record(row.seq);
      assert.deepEqual(
        {
          ts: row.ts,
          model: row.model,
          version: row.version,
          output: row.output,
          prediction: row.prediction,
          latencyMs: row.latencyMs,
          features: row.features,
          reference: row.reference,
          requestId: row.requestId,
          shadow: row.shadow,
        },
        {
          ts: want.ts,
          model: want.model,
          version: want.version,
          output: want.output,
          prediction: want.prediction ?? null,
          latencyMs: want.latencyMs,
          features: want.features,
          reference: want.reference ?? null,
          requestId: want.requestId ?? null,
          shadow: want.shadow === true,
        },
      );
      assert.equal(row.historical, row.seq <= 150);
      assert.equal(row.receivedAt, row.seq <= 150 ? 5 : 6, 're-sent records keep their first receive time');
    }
    assert.deepEqual(
      (await s.telemetry.query({ device: 'pi-1', shadow: true, limit: 1000 })).map((r) => r.seq).sort((a, b) => a - b),
      [9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 99, 108, 117, 126, 135, 144, 153, 162, 171, 180],
    );
    const page = await s.telemetry.query({ device: 'pi-1', order: 'oldest', afterId: rows[9]!.id, limit: 5 });
    assert.deepEqual(
      page.map((r) => r.seq),
      [11, 12, 13, 14, 15],
    );
  });

  withStore('a late reference value for a stored record is applied; re-sending it changes nothing', async (s) => {
    await s.telemetry.insertBatch('pi-1', 's1', [record(1, { reference: undefined }), record(2)]);
    assert.deepEqual(await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 42 }]), {
      applied: 1,
      pending: 0,
    });
    assert.deepEqual(await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 42 }]), {
      applied: 1,
      pending: 0,
    });
    const [row] = await s.telemetry.query({ device: 'pi-1', order: 'oldest', limit: 1 });
    assert.equal(row?.reference, 42);
  });

  withStore('a reference value that arrives before its record waits and is applied by the insert', async (s) => {
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [
        { seq: 7, reference: 70 },
        { seq: 8, reference: 80 },
      ]),
      { applied: 0, pending: 2 },
    );
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 7, reference: 71 }]),
      { applied: 0, pending: 1 },
      'a re-sent update replaces the waiting one',
    );
    await s.telemetry.insertBatch('pi-1', 's2', [record(7)]);
    await s.telemetry.insertBatch('pi-1', 's1', [record(6), record(7, { reference: undefined })]);
    const bySeq = new Map(
      (await s.telemetry.query({ device: 'pi-1', limit: 10 })).map((r) => [`${r.stream}/${r.seq}`, r.reference]),
    );
    assert.equal(bySeq.get('s1/7'), 71, 'the waiting value is applied');
    assert.equal(bySeq.get('s1/6'), record(6).reference ?? null, 'other records are untouched');
    assert.equal(bySeq.get('s2/7'), record(7).reference ?? null, 'another stream is not matched');
    await s.telemetry.insertBatch('pi-1', 's1', [record(7, { reference: 1 })]);
    assert.equal(
      (await s.telemetry.query({ device: 'pi-1', limit: 10 })).find((r) => r.stream === 's1' && r.seq === 7)?.reference,
      71,
      'a re-sent record does not undo it',
    );
    await s.telemetry.insertBatch('pi-1', 's1', [record(8)]);
    assert.equal((await s.telemetry.query({ device: 'pi-1', limit: 10 })).find((r) => r.seq === 8)?.reference, 80);
    assert.deepEqual(
      await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 8, reference: 80 }]),
      { applied: 1, pending: 0 },
      'nothing waits any more',
    );
  });

  withStore('a reference value whose record never comes is dropped after PENDING_REFERENCE_TTL_MS', async (s) => {
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 1, reference: 10 }], 1_000);
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 2, reference: 20 }], 1_000 + PENDING_REFERENCE_TTL_MS);
    await s.telemetry.updateReferences('pi-1', 's1', [{ seq: 3, reference: 30 }], 2_000 + PENDING_REFERENCE_TTL_MS);
    await s.telemetry.insertBatch(
      'pi-1',
      's1',
      [1, 2, 3].map((seq) => record(seq, { reference: undefined })),
    );
    const bySeq = new Map((await s.telemetry.query({ device: 'pi-1' })).map((r) => [r.seq, r.reference]));
    assert.deepEqual([bySeq.get(1), bySeq.get(2), bySeq.get(3)], [null, 20, 30]);
  });

  withStore('live error per (version, shadow), narrowed by devices and time', async (s) => {
    const rec = (
      seq: number,
      version: number,
      prediction: number,
      reference: number,
      shadow = false,
    ): TelemetryRecord => ({
      seq,
      ts: seq,
      model: 'm',
      version,
      output: [prediction],
      prediction,
      reference,
      latencyMs: 1,
      features: {},
      ...(shadow ? { shadow } : {}),
    });
    await s.telemetry.insertBatch('pi-1', 's', [
      rec(1, 1, 10, 12),
      rec(2, 1, 10, 14),
      rec(3, 2, 10, 10, true),
      rec(4, 2, 10, 11, true),
    ]);
    await s.telemetry.insertBatch('pi-2', 's', [rec(1, 1, 10, 20)]);
    const all = await s.telemetry.liveError({ model: 'm' });
    assert.deepEqual(
      all.map((e) => [e.version, e.shadow, e.n, e.mae]),
      [
        [1, false, 3, (2 + 4 + 10) / 3],
        [2, true, 2, 0.5],
      ],
    );
    assert.ok(Math.abs(all[0]!.rmse! - Math.sqrt((4 + 16 + 100) / 3)) < 1e-9);
    assert.deepEqual(
      (await s.telemetry.liveError({ model: 'm', devices: ['pi-1'], version: 1 })).map((e) => e.mae),
      [3],
    );
    assert.deepEqual(
      (await s.telemetry.liveError({ model: 'm', since: 2 })).map((e) => e.n),
      [1, 2],
    );
    assert.deepEqual(await s.telemetry.liveError({ model: 'm', version: 3, shadow: false }), [
      { model: 'm', version: 3, shadow: false, n: 0, mae: null, rmse: null },
    ]);
  });

  withStore('a unit of work commits together or not at all, and nested calls join it', async (s) => {
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]);
        await tx.devices.ensure('pi-1');
        await s.transaction(async (inner) =>
          inner.audit.append({ ts: 1, actor: 'a', action: 'x', target: null, details: {} }),
        );
        throw new Error('the second batch failed');
      }),
      /second batch failed/,
    );
    assert.equal(await s.telemetry.count(), 0, 'nothing of a failed unit is stored');
    assert.equal(await s.devices.exists('pi-1'), false);
    assert.deepEqual(await s.audit.list(), []);
    assert.deepEqual(
      await s.transaction(async (tx) => [
        await tx.telemetry.insertBatch('pi-1', 's1', [record(1)]),
        await s.telemetry.insertBatch('pi-2', 's1', [record(1)]),
      ]),
      [1, 1],
    );
    assert.equal(await s.telemetry.count(), 2);
  });

  withStore('work outside a unit of work waits for it instead of joining it', async (s) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const unit = s.transaction(async (tx) => {
      await tx.devices.ensure('pi-1');
      await gate;
      throw new Error('rolled back');
    });
    const outside = s.devices.ensure('pi-2');
    release();
    await assert.rejects(unit, /rolled back/);
    await outside;
    assert.deepEqual(
      (await s.devices.list()).map((d) => d.id),
      ['pi-2'],
    );
  });

  withStore('births, deaths and touches: a late death does not mark a reconnected device offline', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 1, { dropped: 5 }), 100);
    await s.devices.recordBirth(
      birth('pi-1', 2, { dropped: 2, models: [{ name: 'm', version: 1, sha256: 'x' }] }),
      200,
    );
    assert.equal(await s.devices.recordDeath('pi-1', 1), false);
    let d = await s.devices.get('pi-1');
    assert.deepEqual(
      [d?.online, d?.session, d?.firstSeen, d?.lastSeen, d?.dropped, d?.running.length, d?.info.arch],
      [true, 2, 100, 200, 5, 1, 'arm64'],
    );
    assert.equal(await s.devices.recordDeath('pi-1', 2), true);
    assert.equal((await s.devices.get('pi-1'))?.online, false);
    await s.devices.touch('pi-1', 7, 30, 9, 300);
    await s.devices.touch('pi-1', undefined, 5, 1, 400);
    d = await s.devices.get('pi-1');
    assert.deepEqual([d?.backlog, d?.records, d?.dropped, d?.lastSeen], [7, 35, 9, 400]);
    assert.equal(await s.devices.ensure('pi-1'), false);
    assert.equal((await s.devices.get('pi-1'))?.records, 35, 'ensure leaves a known device alone');
    assert.equal(await s.devices.ensure('pi-2', 500), true);
    assert.deepEqual([(await s.devices.get('pi-2'))?.firstSeen, (await s.devices.get('pi-2'))?.online], [500, false]);
    await s.devices.setRunningModel('pi-1', { name: 'm', version: 2, sha256: 'y' });
    await s.devices.setRunningModel('pi-1', { name: 'n', version: 1, sha256: 'z' });
    assert.deepEqual(
      (await s.devices.get('pi-1'))?.running.map((m) => `${m.name}@${m.version}`),
      ['m@2', 'n@1'],
    );
  });

  withStore('device selection by group, tags and ids; disabled devices left out unless asked', async (s) => {
    await s.devices.registerEnrolled('a', { group: 'site-1', tags: { hw: 'pi4', loc: 'x' } });
    await s.devices.registerEnrolled('b', { group: 'site-1', tags: { hw: 'pi5' } });
    await s.devices.registerEnrolled('c', { group: 'site-2', tags: { hw: 'pi4' } }, { arch: 'arm64' });
    await s.devices.registerEnrolled('d', { group: null, tags: {} });
    assert.equal(await s.devices.setDisabled('b', true), true);
    assert.equal(await s.devices.setDisabled('nobody', true), false);
    assert.deepEqual(await s.devices.select({}), [], 'no criteria select nothing');
    assert.deepEqual(await s.devices.select({ all: true }), ['a', 'c', 'd']);
    assert.deepEqual(await s.devices.select({ all: true, includeDisabled: true }), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await s.devices.select({ group: 'site-1', includeDisabled: true }), ['a', 'b']);
    assert.deepEqual(await s.devices.select({ tags: { hw: 'pi4' } }), ['a', 'c']);
    assert.deepEqual(await s.devices.select({ tags: { hw: 'pi4', loc: 'x' } }), ['a']);
    assert.deepEqual(
      await s.devices.select({ tags: { "hw') OR 1=1 --": 'pi4' } }),
      [],
      'tag keys are data, not SQL or JSON paths',
    );
    assert.deepEqual(await s.devices.select({ devices: ['c', 'b', 'zz'] }), ['c']);
    assert.deepEqual(
      (await s.devices.list({ group: 'site-1' })).map((d) => d.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      (await s.devices.list({ disabled: true })).map((d) => d.id),
      ['b'],
    );
    assert.deepEqual(
      (await s.devices.list({ tags: { hw: 'pi5' } })).map((d) => [d.id, d.disabled]),
      [['b', true]],
    );
    assert.equal((await s.devices.get('c'))?.info.arch, 'arm64');
    await s.devices.registerEnrolled('a', { group: null, tags: { loc: 'y', new: '1' } });
    const a = await s.devices.get('a');
    assert.deepEqual(
      [a?.group, a?.tags],
      ['site-1', { hw: 'pi4', loc: 'y', new: '1' }],
      're-enrollment keeps the group and merges tags',
    );
    assert.equal(await s.devices.setLabels('a', { group: null, tags: { only: 'this' } }), true);
    assert.deepEqual([(await s.devices.get('a'))?.group, (await s.devices.get('a'))?.tags], [null, { only: 'this' }]);
    assert.equal(await s.devices.setLabels('nobody', { group: 'g' }), false);
    assert.deepEqual([...(await s.devices.getMany(['a', 'zz', 'c'])).keys()].sort(), ['a', 'c']);
  });

  withStore('per-device counters: desired counter, report cursor, bytes sent, sample requests', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 3));
    assert.equal(await s.devices.desiredCounter('pi-1'), 0);
    assert.equal(await s.devices.nextDesiredCounter('pi-1', 1000), 1000);
    assert.equal(
      await s.devices.nextDesiredCounter('pi-1', 1000),
      1001,
      'the same millisecond still gets a higher counter',
    );
    assert.equal(await s.devices.nextDesiredCounter('pi-1', 900), 1002, 'a clock that stepped back does not lower it');
    assert.equal(await s.devices.desiredCounter('pi-1'), 1002);
    await assert.rejects(s.devices.nextDesiredCounter('nobody'), /unknown device/);
    assert.deepEqual(await s.devices.reportCursor('pi-1'), { session: 3, reportSession: null, reportSeq: 0 });
    await s.devices.setReportCursor('pi-1', 3, 4);
    assert.deepEqual(await s.devices.reportCursor('pi-1'), { session: 3, reportSession: 3, reportSeq: 4 });
    await s.devices.addBytesSent('pi-1', 100);
    await s.devices.addBytesSent('pi-1', 23);
    assert.equal((await s.devices.get('pi-1'))?.bytesSent, 123);
    assert.deepEqual(await s.devices.sampleRequests('pi-1'), { uploadUntil: null, capture: null });
    await s.devices.setSampleUploadUntil('pi-1', 77);
    await s.devices.setSampleCapture('pi-1', { until: 5, everyN: 2 });
    assert.deepEqual(await s.devices.sampleRequests('pi-1'), { uploadUntil: 77, capture: { until: 5, everyN: 2 } });
    await s.devices.setSampleCapture('pi-1', null);
    assert.equal((await s.devices.sampleRequests('pi-1')).capture, null);
  });

  withStore('assignments: serve and shadow tables kept apart; reports move only the named version', async (s) => {
    await s.assignments.set('a', 'm', 1, 10);
    await s.assignments.set('a', 'm', 2, 11);
    await s.assignments.set('b', 'm', 2, 12);
    await s.shadows.set('a', 'm', 3, 13);
    assert.deepEqual(await s.assignments.get('a', 'm'), {
      model: 'm',
      version: 2,
      state: 'assigned',
      code: null,
      reason: null,
      updatedAt: 11,
    });
    assert.equal(
      await s.assignments.setReportedState('a', 'm', 1, { state: 'active', code: null, reason: null }),
      false,
      'an older version is not the row',
    );
    assert.equal(
      await s.assignments.setReportedState('a', 'm', 2, { state: 'failed', code: 'E', reason: 'r' }, 20),
      true,
    );
    assert.deepEqual(await s.assignments.get('a', 'm'), {
      model: 'm',
      version: 2,
      state: 'failed',
      code: 'E',
      reason: 'r',
      updatedAt: 20,
    });
    await s.assignments.set('a', 'm', 2, 21);
    assert.equal((await s.assignments.get('a', 'm'))?.code, null, 'assigning again clears the report');
    assert.deepEqual(
      (await s.shadows.listForDevice('a')).map((x) => x.version),
      [3],
    );
    assert.deepEqual(await s.assignments.versions(), [{ name: 'm', version: 2 }]);
    assert.deepEqual(await s.assignments.devicesWith('m', 2), ['a', 'b']);
    assert.deepEqual([...(await s.assignments.forDevices('m', ['b', 'c'])).keys()], ['b']);
    assert.deepEqual(await s.assignments.devices(), ['a', 'b']);
    assert.equal(await s.assignments.remove('b', 'm', 1), false);
    assert.equal(await s.assignments.remove('b', 'm', 2), true);
    assert.deepEqual(await s.assignments.removeVersion('m', 2), ['a']);
    assert.deepEqual(await s.shadows.devices(), ['a'], 'the shadow table is separate');
    assert.equal(await s.shadows.remove('a', 'm'), true);
    assert.equal(await s.shadows.remove('a', 'm'), false);
  });

  withStore('update events are listed newest first', async (s) => {
    for (let i = 1; i <= 3; i++)
      await s.updateEvents.append('pi-1', {
        model: 'm',
        version: i,
        state: 'active',
        code: null,
        reason: null,
        session: 1,
        reportSeq: i,
        ts: i,
        receivedAt: 10 + i,
      });
    assert.deepEqual(
      (await s.updateEvents.list('pi-1', 2)).map((e) => e.reportSeq),
      [3, 2],
    );
    assert.deepEqual(await s.updateEvents.list('other'), []);
  });

  withStore(
    'an update event is stored once per (device, outbox stream, outbox id); events without one always',
    async (s) => {
      const event = (session: number, reportSeq: number) => ({
        model: 'm',
        version: 2,
        state: 'downloading',
        code: null,
        reason: null,
        session,
        reportSeq,
        ts: 1,
        receivedAt: 10,
      });
      const at = { stream: 's1', id: 7 };
      assert.equal(await s.updateEvents.hasOutboxReport('pi-1', at), false);
      assert.equal(await s.updateEvents.append('pi-1', event(1, 3), at), true);
      assert.equal(await s.updateEvents.hasOutboxReport('pi-1', at), true);
      assert.equal(await s.updateEvents.append('pi-1', event(2, 1), at), false, 'same position, new session');
      assert.equal(await s.updateEvents.append('pi-1', event(2, 2), { stream: 's1', id: 8 }), true, 'next id');
      assert.equal(await s.updateEvents.append('pi-1', event(2, 3), { stream: 's2', id: 7 }), true, 'other stream');
      assert.equal(await s.updateEvents.append('pi-2', event(1, 1), at), true, 'other device');
      assert.equal(await s.updateEvents.hasOutboxReport('pi-2', { stream: 's1', id: 8 }), false);
      assert.equal(await s.updateEvents.append('pi-1', event(3, 1)), true, 'no position');
      assert.equal(await s.updateEvents.append('pi-1', event(3, 1)), true, 'no position, again');
      assert.deepEqual(
        (await s.updateEvents.list('pi-1')).map((e) => [e.session, e.reportSeq]),
        [
          [3, 1],
          [3, 1],
          [2, 3],
          [2, 2],
          [1, 3],
        ],
      );
    },
  );

  withStore('a duplicate appended inside a transaction leaves the transaction usable', async (s) => {
    const event = {
      model: 'm',
      version: 1,
      state: 'active',
      code: null,
      reason: null,
      session: 1,
      reportSeq: 1,
      ts: 1,
      receivedAt: 1,
    };
    await s.updateEvents.append('pi-1', event, { stream: 's1', id: 1 });
    await s.transaction(async (tx) => {
      assert.equal(await tx.updateEvents.append('pi-1', event, { stream: 's1', id: 1 }), false);
      assert.equal(await tx.updateEvents.append('pi-1', event, { stream: 's1', id: 2 }), true);
    });
    assert.equal((await s.updateEvents.list('pi-1')).length, 2);
  });

  withStore('model versions: (name, version) is unique; status, envelope and artifact lookups', async (s) => {
    assert.equal(await s.models.latestVersion('m'), 0);
    assert.equal(await s.models.insert(modelVersion('m', 1)), true);
    assert.equal(await s.models.insert(modelVersion('m', 2, 'same'.padEnd(64, '0'))), true);
    assert.equal(await s.models.insert(modelVersion('m', 2)), false, 'a second push of v2 is refused');
    assert.equal(await s.models.insert(modelVersion('n', 1, 'same'.padEnd(64, '0'))), true);
    assert.equal(await s.models.latestVersion('m'), 2);
    assert.deepEqual(
      (await s.models.list()).map((m) => `${m.name}@${m.version}`),
      ['m@2', 'm@1', 'n@1'],
    );
    assert.deepEqual(
      (await s.models.versionsOf('m')).map((m) => m.version),
      [2, 1],
    );
    assert.deepEqual(await s.models.withArtifact('same'.padEnd(64, '0')), [
      { name: 'm', version: 2, size: 20 },
      { name: 'n', version: 1, size: 10 },
    ]);
    const v1 = await s.models.get('m', 1);
    assert.deepEqual(
      [v1?.status, v1?.labels, v1?.metrics, v1?.lineage, v1?.resignedAt],
      ['registered', { team: 'a' }, { mae: 1.5 }, {}, null],
    );
    await s.models.setStatus('m', 1, 'revoked', 'bad', 50);
    await s.models.replaceEnvelope(
      'm',
      1,
      { payloadType: 't', payload: 'new', signatures: [] },
      v1!.manifest,
      'k2',
      60,
    );
    const after = await s.models.get('m', 1);
    assert.deepEqual(
      [after?.status, after?.statusReason, after?.statusAt, after?.envelope.payload, after?.keyId, after?.resignedAt],
      ['revoked', 'bad', 50, 'new', 'k2', 60],
    );
  });

  withStore('samples are unique per (device, stream, seq)', async (s) => {
    const sample = {
      deviceId: 'pi-1',
      stream: 's',
      seq: 1,
      model: 'm',
      version: 1,
      ts: 1,
      reason: 'capture',
      prediction: 1,
      reference: null,
      contentType: 'image/jpeg',
      sha256: 'x'.repeat(64),
      bytes: 3,
      receivedAt: 9,
    };
    assert.equal(await s.samples.insert(sample), true);
    assert.equal(await s.samples.insert(sample), false);
    assert.equal(await s.samples.insert({ ...sample, seq: 2, model: 'n' }), true);
    const listed = await s.samples.list({ model: 'm' });
    assert.deepEqual(
      listed.map((x) => [x.seq, x.model]),
      [[1, 'm']],
    );
    assert.deepEqual(await s.samples.get(listed[0]!.id), listed[0]);
    assert.equal(await s.samples.get(999), undefined);
  });

  withStore('audit entries filter by actor, action area and target, newest first, paged', async (s) => {
    const add = (actor: string, action: string, target: string | null) =>
      s.audit.append({ ts: 1, actor, action, target, details: { actor } });
    await add('op', 'device.disable', 'a');
    await add('op', 'device.enable', 'a');
    await add('system', 'rollout.pause', 'r1');
    await add('op', 'devices', null);
    assert.deepEqual(
      (await s.audit.list({ action: 'device' })).map((e) => e.action),
      ['device.enable', 'device.disable'],
    );
    assert.deepEqual(
      (await s.audit.list({ actor: 'system' })).map((e) => e.details),
      [{ actor: 'system' }],
    );
    const all = await s.audit.list({ target: 'a' });
    assert.equal(all.length, 2);
    assert.deepEqual(
      (await s.audit.list({ before: all[0]!.id, limit: 1 })).map((e) => e.action),
      ['device.disable'],
    );
  });

  withStore('identity: credentials replace, tokens are taken atomically, revocations count once', async (s) => {
    await s.credentials.put('pi-1', 'h1', 1, 'enr-1');
    await s.credentials.put('pi-1', 'h2', 2, null);
    assert.deepEqual(await s.credentials.get('pi-1'), { secretHash: 'h2', issuedAt: 2, enrolledWith: null });
    assert.equal(await s.credentials.remove('pi-1'), true);
    assert.equal(await s.credentials.remove('pi-1'), false);
    const token = {
      id: 'enr-1',
      uses: 2,
      usesLeft: 2,
      expiresAt: 99,
      group: 'g',
      tags: { a: 'b' },
      createdAt: 1,
      createdBy: 'op',
      revokedAt: null,
    };
    await s.enrollmentTokens.insert({ ...token, tokenHash: 'th' });
    await assert.rejects(
      s.enrollmentTokens.insert({ ...token, id: 'enr-2', tokenHash: 'th' }),
      'token hashes are unique',
    );
    assert.deepEqual(await s.enrollmentTokens.byHash('th'), token);
    const takes = await Promise.all([1, 2, 3].map(() => s.enrollmentTokens.takeUse('enr-1')));
    assert.deepEqual(takes.filter(Boolean).length, 2, 'two uses, three takers: one goes without');
    assert.equal((await s.enrollmentTokens.get('enr-1'))?.usesLeft, 0);
    assert.equal(await s.enrollmentTokens.revoke('enr-1', 5), true);
    assert.equal(await s.enrollmentTokens.revoke('enr-1', 6), false);
    assert.equal((await s.enrollmentTokens.list())[0]?.revokedAt, 5);
    await s.adminTokens.insert({ id: 'adm-1', name: 'admin', tokenHash: 'a1', createdAt: 1, createdBy: 'system' });
    await s.adminTokens.insert({ id: 'adm-2', name: 'ci', tokenHash: 'a2', createdAt: 2, createdBy: 'admin' });
    await s.adminTokens.setLastUsed('adm-2', 7);
    assert.deepEqual(await s.adminTokens.byHash('a2'), {
      id: 'adm-2',
      name: 'ci',
      createdAt: 2,
      createdBy: 'admin',
      lastUsedAt: 7,
      revokedAt: null,
    });
    assert.equal(await s.adminTokens.activeCount(), 2);
    assert.equal(await s.adminTokens.revoke('adm-1', 8), true);
    assert.equal(await s.adminTokens.revoke('adm-1', 9), false);
    assert.equal(await s.adminTokens.activeCount(), 1);
    assert.deepEqual(
      (await s.adminTokens.list()).map((t) => t.id),
      ['adm-1', 'adm-2'],
    );
  });

  withStore('keys: activating a pending key stores the keyset and retires every other key', async (s) => {
    await s.keys.addPending('k1', 'pub1', 'payload1', 1);
    assert.deepEqual(await s.keys.activate('k1', 1, { payloadType: 't', payload: 'ks1', signatures: [] }, 2), []);
    await s.keys.addPending('k2', 'pub2', 'payload2', 3);
    await s.keys.addPending('k3', 'pub3', 'payload3', 4);
    await s.keys.setPendingKeyset('k3', 'payload3b');
    assert.equal((await s.keys.keys('pending')).at(-1)?.pendingKeyset, 'payload3b');
    assert.deepEqual((await s.keys.activate('k3', 2, { payloadType: 't', payload: 'ks2', signatures: [] }, 5)).sort(), [
      'k1',
      'k2',
    ]);
    assert.deepEqual(
      (await s.keys.keys()).map((k) => [k.keyId, k.state]),
      [
        ['k1', 'retired'],
        ['k2', 'retired'],
        ['k3', 'active'],
      ],
    );
    assert.equal((await s.keys.keys('active'))[0]?.pendingKeyset, null);
    assert.deepEqual(
      [(await s.keys.latestKeyset())?.version, (await s.keys.latestKeyset())?.envelope.payload],
      [2, 'ks2'],
    );
    await assert.rejects(
      s.keys.activate('k3', 2, { payloadType: 't', payload: 'again', signatures: [] }),
      'a keyset version is stored once',
    );
    assert.equal((await s.keys.keys('active'))[0]?.keyId, 'k3', 'the failed activation changed nothing');
  });

  withStore('rollouts: one active per model, updates, devices and the work list', async (s) => {
    assert.equal(
      await s.rollouts.insert(rollout('r1', 'm'), [rolloutDevice('r1', 'a', 0), rolloutDevice('r1', 'b', 1)]),
      true,
    );
    assert.equal(
      await s.rollouts.insert(rollout('r2', 'm'), [rolloutDevice('r2', 'a', 0)]),
      false,
      'a second active rollout of m is refused',
    );
    assert.deepEqual(await s.rollouts.devices('r2'), [], 'and leaves no devices behind');
    assert.equal(await s.rollouts.insert(rollout('r3', 'n', 'completed'), []), true);
    const r1 = (await s.rollouts.get('r1'))!;
    assert.deepEqual(
      [r1.target, r1.params, r1.waves, r1.holding],
      [{ all: true }, { waitMs: 1 }, [{ size: 1 }], false],
    );
    await s.rollouts.update({ ...r1, state: 'rolled-back', holding: true, rollbackVersions: { 1: 4 }, updatedAt: 20 });
    const back = (await s.rollouts.get('r1'))!;
    assert.deepEqual(
      [back.state, back.holding, back.rollbackVersions, back.updatedAt],
      ['rolled-back', true, { 1: 4 }, 20],
    );
    assert.equal(await s.rollouts.activeFor('m'), undefined);
    assert.deepEqual(
      (await s.rollouts.workList(['assigned'])).map((r) => r.id),
      [],
      'rolled back with nothing to return',
    );
    await s.rollouts.updateDevice(
      rolloutDevice('r1', 'b', 1, {
        state: 'assigned',
        assignedAt: 15,
        times: { pending: 10, assigned: 15 },
        acknowledged: true,
      }),
    );
    assert.deepEqual(
      (await s.rollouts.workList(['assigned'])).map((r) => r.id),
      ['r1'],
    );
    const devs = await s.rollouts.devices('r1');
    assert.deepEqual(
      devs.map((d) => [d.deviceId, d.state, d.assignedAt, d.acknowledged]),
      [
        ['a', 'pending', null, false],
        ['b', 'assigned', 15, true],
      ],
    );
    assert.equal(
      await s.rollouts.insert(rollout('r4', 'm'), [rolloutDevice('r4', 'a', 0)]),
      true,
      'a new rollout once the old one finished',
    );
    assert.deepEqual((await s.rollouts.list({ model: 'm' })).map((r) => r.id).sort(), ['r1', 'r4']);
    assert.deepEqual(
      (await s.rollouts.list({ state: 'completed' })).map((r) => r.id),
      ['r3'],
    );
  });

  withStore('rollout arms: candidate after assignment, baseline before it within the lookback', async (s) => {
    const rec = (seq: number, version: number, err: number, shadow = false): TelemetryRecord => ({
      seq,
      ts: seq,
      model: 'm',
      version,
      output: [0],
      prediction: 100 + err,
      reference: 100,
      latencyMs: 1,
      features: {},
      ...(shadow ? { shadow } : {}),
    });
    await s.rollouts.insert(rollout('r1', 'm'), [
      rolloutDevice('r1', 'a', 0, { state: 'assigned', assignedAt: 1000 }),
      rolloutDevice('r1', 'b', 1),
    ]);
    await s.telemetry.insertBatch('a', 's', [rec(1, 1, 2)], 500);
    await s.telemetry.insertBatch('a', 's', [rec(2, 1, 4)], 900);
    await s.telemetry.insertBatch('a', 's', [rec(3, 2, 6), rec(4, 2, 8)], 1100);
    await s.telemetry.insertBatch('b', 's', [rec(1, 1, 10)], 50);
    await s.telemetry.insertBatch('b', 's', [rec(2, 1, 12)], 20);
    await s.telemetry.insertBatch('c', 's', [rec(1, 2, 100)], 1100);
    const q = {
      rolloutId: 'r1',
      model: 'm',
      candidate: 2,
      createdAt: 30,
      judgedSince: 0,
      lookbackMs: 200,
      shadow: false,
    };
    assert.deepEqual(await s.telemetry.rolloutArm({ ...q, arm: 'candidate' }), { records: 2, mae: 7 });
    assert.deepEqual(
      await s.telemetry.rolloutArm({ ...q, arm: 'baseline' }),
      { records: 2, mae: 7 },
      'a within the lookback, b since the rollout began',
    );
    assert.deepEqual(await s.telemetry.rolloutArm({ ...q, arm: 'candidate', judgedSince: 2000 }), {
      records: 0,
      mae: null,
    });
    assert.deepEqual(await s.telemetry.rolloutArmPredictions({ ...q, arm: 'candidate' }, 1), [108]);
    assert.deepEqual((await s.telemetry.rolloutArmPredictions({ ...q, arm: 'baseline' }, 10)).sort(), [104, 110]);
  });

  withStore('transfer counters add up per device, artifact and transport', async (s) => {
    await s.transfers.add(
      [
        { deviceId: 'a', sha256: 'x', transport: 'http', bytes: 10, requests: 1 },
        { deviceId: 'a', sha256: 'x', transport: 'mqtt', bytes: 5, requests: 1 },
      ],
      1,
    );
    await s.transfers.add([{ deviceId: 'a', sha256: 'x', transport: 'http', bytes: 7, requests: 0 }], 2);
    assert.deepEqual(await s.transfers.detail('a'), [
      { sha256: 'x', transport: 'http', bytes: 17, requests: 1, updatedAt: 2 },
      { sha256: 'x', transport: 'mqtt', bytes: 5, requests: 1, updatedAt: 1 },
    ]);
  });
}
