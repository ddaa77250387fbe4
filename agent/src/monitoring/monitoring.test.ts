/**
 * On-device monitoring end to end on the device side: real SQLite, the real outbox publishing
 * through the real fleet link to an aedes broker in this process, and a subscriber there playing
 * the fleet (it acks like the server). The server's own ingest of alerts and summaries is tested
 * with the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  decodeMessage,
  decodeTelemetryPayload,
  deviceMonitoringSchema,
  emptyRollup,
  foldRecord,
  localAlertSchema,
  MANIFEST_SCHEMA,
  MINUTE_MS,
  rollupFromWire,
  rollupToWire,
  summaryBatchSchema,
  windowStart,
  type Birth,
  type Manifest,
} from '@edgeloop/protocol';
import { waitFor } from '@edgeloop/test/support/fixtures';
import { agentConfigSchema } from '../config.js';
import { FleetLink } from '../link/fleet-link.js';
import { startAgentOutbox } from '../outbox/agent-outbox.js';
import { fleetPeer, inProcessBroker, silent, tempAgentDb } from '../outbox/test-support.js';
import { startRetrainingSamples } from '../sampling/retraining-samples.js';
import { KeyValue } from '../store/agent-db.js';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { monitoringConfigSchema } from './monitoring-config.js';
import { startMonitoring } from './monitoring.js';
import { baselineOf, camera, FLOORS } from './test-support.js';
import { versionSpecOf } from './version-spec.js';

type T = { after: (fn: () => void | Promise<void>) => void };
const STREAM = 'mon-stream';
const T0 = 1_800_000_000_000; // device time, minute-aligned

const manifest: Manifest = {
  schema: MANIFEST_SCHEMA,
  name: 'distance',
  version: 3,
  artifact: { sha256: 'a'.repeat(64), size: 1, mediaType: 'application/onnx' },
  created: new Date(0).toISOString(),
  expires: new Date(1e13).toISOString(),
  targets: { arch: ['x64', 'arm64', 'arm'], hardware: [] },
  inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 48, 64] }],
  outputs: [{ name: 'mm', dtype: 'float32', shape: [1, 1] }],
  preprocessing: { kind: 'none' },
  postprocessing: { kind: 'regression', output: 'mm' },
  baseline: baselineOf(FLOORS.beige),
  validationMae: 4,
};

function harness(t: T, device: string, config: object) {
  // Registered before the database's own cleanup, so it runs first: close writes open windows.
  const cleanup: { run?: () => Promise<void> } = {};
  t.after(() => cleanup.run?.());
  const { db } = tempAgentDb(t);
  const buffer = new RecordBuffer(db);
  const link: { current?: FleetLink } = {};
  const monitoringRef: { current?: ReturnType<typeof startMonitoring> } = {};
  const sync = agentConfigSchema.shape.sync.parse({ flushIntervalMs: 0, ackTimeoutMs: 2000 });
  const sending = startAgentOutbox({
    sync,
    db,
    stream: STREAM,
    buffer,
    dropped: () => 0,
    session: () => 1,
    publish: (kind, payload) =>
      link.current
        ? link.current.publish(`edgeloop/v1/devices/${device}/${kind}`, payload)
        : Promise.reject(new Error('offline')),
    telemetrySendThrough: () => monitoringRef.current?.sendThrough() ?? Infinity,
    log: silent,
  });
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-monitoring-'));
  const samples = startRetrainingSamples({
    config: { everyN: 1000, maxBytes: 1 << 20 } as never,
    db,
    dataDir: dir,
    log: silent,
  })!;
  buffer.onStored((seq, r) => {
    if (r.input)
      samples.offer({
        seq,
        model: r.model,
        version: r.version,
        ts: r.ts,
        prediction: r.prediction ?? null,
        reference: null,
        contentType: r.input.contentType,
        data: r.input.data as Uint8Array,
      });
  });
  const registry = new Registry();
  const monitoring = startMonitoring({
    config: monitoringConfigSchema.parse({ evaluateEveryMs: 60_000, ...config }),
    db,
    kv: new KeyValue(db),
    stream: STREAM,
    buffer,
    manifests: (m) => (m === manifest.name ? [manifest] : []),
    sending,
    samples,
    registry,
    log: silent,
  });
  monitoringRef.current = monitoring;
  cleanup.run = async () => {
    monitoring.close();
    sending.outbox.close();
    await link.current?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const connect = (url: string) => {
    link.current = new FleetLink({
      mqttUrl: url,
      deviceId: device,
      boot: 1,
      birth: (session): Birth => ({
        v: 1,
        type: 'birth',
        deviceId: device,
        session,
        ts: Date.now(),
        agentVersion: 'test',
        arch: 'x64',
        platform: 'linux',
        cpus: 1,
        memTotalMb: 1,
        runtime: { name: 'test', version: '0' },
        models: [],
        stream: STREAM,
        backlog: 0,
      }),
      onAck: (a) => sending.outbox.handleAck(a),
      onDesired: () => undefined,
      onConnectionChange: (c) => {
        sending.outbox.setConnected(c);
        monitoring.setConnected(c);
      },
      reconnectMinMs: 50,
      reconnectMaxMs: 100,
      log: silent,
    });
  };
  const cam = camera(11);
  let i = 0;
  /** Frames at 4/s of device time from T0 on; resolves once they are committed and folded. */
  const frames = async (n: number, floor: (typeof FLOORS)['beige'], extra: Partial<NewRecord> = {}) => {
    const made: NewRecord[] = [];
    for (let k = 0; k < n; k++, i++)
      made.push({
        ts: T0 + i * 250,
        model: manifest.name,
        version: manifest.version,
        output: [100],
        prediction: 100 + (i % 13),
        latencyMs: 1,
        features: cam(floor),
        input: { contentType: 'application/json', data: Buffer.from(`{"frame":${i}}`) },
        ...extra,
      });
    await Promise.all(made.map((r) => buffer.append(r)));
    monitoring.tick();
    return made;
  };
  return { buffer, monitoring, sending, samples, registry, connect, frames };
}

test(
  'offline, a covariate shift fires the local alert within 60 s of device time, raises sampling, and the alert reaches the fleet on reconnect',
  { timeout: 30_000 },
  async (t) => {
    const device = 'mon-offline';
    // Before the broker: cleanups run in registration order, and the link closes while the broker is up.
    const h = harness(t, device, {});
    const broker = await inProcessBroker(t);
    const peer = await fleetPeer(t, broker.url, device);

    await h.frames(10 * 60 * 4, FLOORS.beige); // 10 stable minutes
    assert.deepEqual(h.monitoring.alerts.firing(), []);
    assert.equal(h.samples.store.count().samples, 2, 'only the every-1000th policy so far');

    const onsetTs = T0 + 10 * 60 * 4 * 250;
    let firedAt: number | undefined;
    for (let s = 0; s < 60 && firedAt === undefined; s++) {
      await h.frames(4, FLOORS.green);
      firedAt = h.monitoring.alerts.firing().find((a) => a.rule === 'page-hinkley')?.ts;
    }
    assert.ok(firedAt !== undefined && firedAt - onsetTs <= 60_000, `fired ${firedAt! - onsetTs} ms after the onset`);
    const alert = h.monitoring.alerts.firing()[0]!;
    assert.equal(alert.offline, true);
    assert.deepEqual([alert.model, alert.version], ['distance', 3]);
    const health = h.monitoring.health() as { alerts: unknown[]; versions: Array<{ pageHinkley: string }> };
    assert.equal(health.alerts.length, 1);
    assert.equal(health.versions[0]!.pageHinkley, 'firing');
    assert.match(
      await h.registry.metrics(),
      /edgeloop_local_alerts_firing\{rule="page-hinkley",model="distance",version="3"\} 1/,
    );

    const keptBefore = h.samples.store.count().samples;
    await h.frames(20, FLOORS.green);
    assert.equal(h.samples.store.count().samples - keptBefore, 20, 'every frame is kept while the alert fires');

    assert.equal(peer.received.get('alert'), undefined, 'nothing reaches the fleet while offline');
    h.connect(broker.url);
    await waitFor('the alert at the fleet', () => peer.received.get('alert')?.length || undefined);
    const sent = decodeMessage(localAlertSchema, peer.received.get('alert')![0]!);
    assert.ok(sent.ok);
    assert.equal(sent.value.state, 'firing');
    assert.equal(sent.value.rule, 'page-hinkley');
    assert.equal(sent.value.stream, STREAM);
    assert.ok(sent.value.offlineSince !== undefined, 'flagged as raised while offline');
    await peer.ack({
      v: 1,
      kind: 'alert',
      stream: STREAM,
      seqFrom: sent.value.seq,
      seqTo: sent.value.seq,
      status: 'stored',
    });
    await waitFor(
      'the acked alert forgotten',
      () => (h.monitoring.health() as { queued: { alerts: number } }).queued.alerts === 0 || undefined,
    );
  },
);

test('a device rule fires on device time from the local windows (offline), and resolves with hysteresis', async (t) => {
  const h = harness(t, 'mon-rule', {
    device: {
      rules: [
        {
          name: 'bright',
          metric: 'feature.brightness.mean',
          scope: 'device',
          onDevice: true,
          condition: { op: 'above', threshold: 0.7, clear: 0.68 },
          windowMs: MINUTE_MS,
          forMs: 30_000,
          minSamples: 50,
        },
      ],
      pageHinkley: { enabled: false },
    },
  });
  // brightness ~0.72: breaching from the first judgement, firing 30 s (forMs) of device time later.
  await h.frames(4 * 60, FLOORS.beige);
  assert.deepEqual(h.monitoring.alerts.firing(), [], 'pending, not firing yet');
  for (let s = 0; s < 29; s++) await h.frames(4, FLOORS.beige);
  assert.deepEqual(h.monitoring.alerts.firing(), []);
  await h.frames(8, FLOORS.beige);
  assert.equal(h.monitoring.alerts.firing()[0]?.rule, 'bright');
  assert.equal(h.monitoring.alerts.firing()[0]?.offline, true);
  for (let s = 0; s < 120 && h.monitoring.alerts.firing().length > 0; s++) await h.frames(4, FLOORS.green);
  assert.deepEqual(h.monitoring.alerts.firing(), [], 'resolved once the minute is green (brightness ~0.63)');
});

test(
  'bandwidth mode: closed windows go out as summaries equal to folding the same records, and no telemetry records go',
  { timeout: 30_000 },
  async (t) => {
    const device = 'mon-summaries';
    // Before the broker: cleanups run in registration order, and the link closes while the broker is up.
    const h = harness(t, device, {
      device: { summaries: true, summaryWindowMs: MINUTE_MS, pageHinkley: { enabled: false } },
    });
    const broker = await inProcessBroker(t);
    const peer = await fleetPeer(t, broker.url, device);
    h.connect(broker.url);
    const records = await h.frames(4 * 60 * 3 + 4 * 40, FLOORS.beige); // 3 minutes 40 s
    await h.frames(0, FLOORS.beige);
    await waitFor('two closed minutes at the fleet', () => {
      const n = (peer.received.get('summary') ?? []).flatMap((p) => {
        const b = decodeMessage(summaryBatchSchema, p);
        return b.ok ? b.value.summaries : [];
      }).length;
      return n >= 3 || undefined;
    });
    const summaries = (peer.received.get('summary') ?? []).flatMap((p) => {
      const b = decodeMessage(summaryBatchSchema, p);
      assert.ok(b.ok);
      return b.value.summaries;
    });
    // Windows end ≥ 30 s (grace) before the newest record: minutes 0, 1 and 2; minute 3 is open.
    assert.deepEqual(
      summaries.map((s) => s.windowStart - T0),
      [0, MINUTE_MS, 2 * MINUTE_MS],
    );
    const spec = versionSpecOf(manifest);
    for (const s of summaries) {
      assert.equal(s.specId, spec.specId);
      assert.equal(s.role, 'serving');
      const expected = emptyRollup();
      for (const r of records.filter((r) => windowStart(r.ts, MINUTE_MS) === s.windowStart))
        foldRecord(expected, spec.spec, r);
      assert.deepEqual(rollupToWire(rollupFromWire(s.rollup)), rollupToWire(expected));
    }
    assert.equal(peer.received.get('telemetry'), undefined, 'records stay on the device');
    assert.equal(h.buffer.count(), records.length, 'still buffered (for sampling, trimmed by the caps)');
  },
);

test(
  'bandwidth mode ending: open windows go out, summarised records are dropped (not sent twice), new records go as telemetry',
  { timeout: 30_000 },
  async (t) => {
    const device = 'mon-summaries-off';
    // Before the broker: cleanups run in registration order, and the link closes while the broker is up.
    const h = harness(t, device, {
      device: { summaries: true, summaryWindowMs: MINUTE_MS, pageHinkley: { enabled: false } },
    });
    const broker = await inProcessBroker(t);
    const peer = await fleetPeer(t, broker.url, device);
    h.connect(broker.url);
    const summarised = await h.frames(100, FLOORS.beige);
    h.monitoring.applyDesired(deviceMonitoringSchema.parse({ summaries: false, pageHinkley: { enabled: false } }));
    assert.equal(h.buffer.count(), 0, 'summarised records are not kept for sending');
    const sent = await h.frames(10, FLOORS.beige);
    await waitFor('the new records as telemetry', () => peer.received.get('telemetry')?.length || undefined);
    const batch = decodeTelemetryPayload(peer.received.get('telemetry')![0]!);
    assert.ok(batch.ok);
    assert.deepEqual(
      batch.value.records.map((r) => r.ts),
      sent.map((r) => r.ts),
    );
    await waitFor('the summary of the open window', () => peer.received.get('summary')?.length || undefined);
    const summaries = peer.received.get('summary')!.flatMap((p) => {
      const b = decodeMessage(summaryBatchSchema, p);
      return b.ok ? b.value.summaries : [];
    });
    assert.equal(
      summaries.reduce((n, s) => n + s.rollup.count, 0),
      summarised.length,
    );
    assert.equal((h.monitoring.health() as { settings: string }).settings, 'fleet');
  },
);

test('fallback flag: answers of a version with a firing alert are flagged until it resolves; fallback none never flags', (t) => {
  const h = harness(t, 'mon-flag', { device: { pageHinkley: { enabled: false } } });
  const change = {
    model: 'distance',
    version: 3,
    rule: 'r',
    metric: 'count',
    value: 1,
    threshold: 0,
    samples: 1,
    ts: T0,
    reason: 'test',
  };
  assert.equal(h.monitoring.flagged('distance', 3), false);
  h.monitoring.alerts.change({ ...change, state: 'firing' });
  assert.equal(h.monitoring.flagged('distance', 3), true);
  assert.equal(h.monitoring.flagged('distance', 2), false);
  h.monitoring.applyDesired(deviceMonitoringSchema.parse({ fallback: 'none', pageHinkley: { enabled: false } }));
  assert.equal(h.monitoring.flagged('distance', 3), false);
  h.monitoring.applyDesired(undefined);
  h.monitoring.alerts.change({ ...change, state: 'resolved' });
  assert.equal(h.monitoring.flagged('distance', 3), false);
});

test('an alert of a version no longer served resolves at the next round', (t) => {
  const h = harness(t, 'mon-gone', { device: { pageHinkley: { enabled: false } } });
  h.monitoring.alerts.change({
    model: 'distance',
    version: 2,
    rule: 'r',
    metric: 'count',
    state: 'firing',
    value: 1,
    threshold: 0,
    samples: 1,
    ts: T0,
    reason: 'test',
  });
  h.monitoring.tick();
  assert.deepEqual(h.monitoring.alerts.firing(), []);
});
