import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { binSpecFor, ruleSchema, type RuleInput } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import { keptLogger, MemoryRollups, testMetrics } from './monitoring-test-kit.js';
import { Monitoring } from './monitoring-service.js';
import type { WatchedVersion } from './ports.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-rule-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const spec = binSpecFor(null);
const version: WatchedVersion = { model: 'cam', version: 1, spec, trainingSummary: null, validationMae: null };
const T0 = 1_800_000_000_000; // a minute boundary, so windows start where the test starts

interface Rig {
  store: FleetStore;
  rollups: MemoryRollups;
  monitoring: Monitoring;
  clock: { now: number };
  lines: Array<Record<string, unknown>>;
}

async function rig(rules: RuleInput[], opts: { defaults?: boolean; versions?: WatchedVersion[] } = {}): Promise<Rig> {
  const store = await openFleetStore({ sqlitePath: join(dir, `fleet-${++n}.db`) });
  const rollups = new MemoryRollups(spec);
  const clock = { now: T0 };
  const { log, lines } = keptLogger();
  const monitoring = new Monitoring({
    repo: store.monitoring,
    log,
    now: () => clock.now,
    defaultRules: opts.defaults ?? false,
    engine: { rollups, metrics: testMetrics, versions: { versions: async () => opts.versions ?? [version] } },
  });
  for (const r of rules) await monitoring.putRule({ rule: ruleSchema.parse(r), actions: [] });
  return { store, rollups, monitoring, clock, lines };
}

/** Advances data time second by second to `until`, `perSecond(t)` adding that second's records, ticking every 5 s. */
async function run(r: Rig, until: number, perSecond: (t: number) => void): Promise<void> {
  while (r.clock.now < until) {
    perSecond(r.clock.now);
    r.clock.now += 1000;
    if ((r.clock.now - T0) % 5000 === 0) await r.monitoring.engine!.tick();
  }
}

/** Deterministic noise in (-1, 1). */
const noise = (i: number) => (Math.sin(i * 12.9898) * 43758.5453) % 1;

const ORIGIN_RULE: RuleInput = {
  name: 'saturation-band',
  metric: 'feature.saturation.mean',
  scope: 'version',
  condition: { op: 'outside', low: 0.4, high: 0.6 },
  windowMs: 300_000,
  forMs: 60_000,
  minSamples: 100,
};

/** 10 devices at 4 frames/s, saturation around `level(t)`. */
const cameras = (r: Rig, level: (t: number) => number) => (t: number) => {
  for (let d = 0; d < 10; d++)
    for (let f = 0; f < 4; f++) {
      const i = (t / 250 + f) * 10 + d;
      r.rollups.add('cam', 1, `cam-${d}`, t + f * 250, { features: { saturation: level(t) + 0.05 * noise(i) } });
    }
};

test("the origin's rule: the 5-minute mean saturation outside [0.40, 0.60] for over a minute fires, and not before", async () => {
  const r = await rig([ORIGIN_RULE]);
  const onset = T0 + 600_000;
  await run(
    r,
    onset,
    cameras(r, () => 0.5),
  );
  assert.deepEqual(await r.store.monitoring.listAlerts(), [], 'ten stable minutes raise nothing');
  await run(
    r,
    onset + 600_000,
    cameras(r, (t) => (t < onset ? 0.5 : 0.8)),
  );
  const [alert] = await r.store.monitoring.listAlerts({ state: 'firing' });
  assert.ok(alert, 'the shift fires');
  assert.equal(alert.rule, 'saturation-band');
  assert.equal(alert.scope, 'version');
  assert.equal(alert.threshold, 0.6);
  // The 5-minute mean leaves the band once a third of the window is shifted (~100 s), then a minute must pass.
  const firedAfter = alert.firedAt! - onset;
  assert.ok(firedAfter >= 60_000 + 90_000 && firedAfter <= 60_000 + 120_000, `fired ${firedAfter} ms after onset`);
  assert.deepEqual(
    alert.history.map((h) => h.state),
    ['pending', 'firing'],
  );
  await r.store.close();
});

test('a 40-second excursion out of the band moves the 5-minute mean too little: the origin rule stays quiet', async () => {
  const r = await rig([ORIGIN_RULE]);
  const start = T0 + 400_000;
  await run(
    r,
    T0 + 900_000,
    cameras(r, (t) => (t >= start && t < start + 40_000 ? 1.0 : 0.5)),
  );
  assert.deepEqual(await r.store.monitoring.listAlerts(), []);
  assert.deepEqual(await r.store.monitoring.listIncidents(), []);
  await r.store.close();
});

test('per device: for-duration, minimum samples and hysteresis each hold on their own device', async () => {
  const r = await rig([
    {
      name: 'hot-output',
      metric: 'output.mean',
      scope: 'device',
      condition: { op: 'above', threshold: 10, clear: 5 },
      windowMs: 60_000,
      forMs: 20_000,
      minSamples: 50,
    },
  ]);
  const phase = (t: number) => Math.floor((t - T0) / 600_000); // device windows are 10 minutes
  await run(r, T0 + 1_800_000, (t) => {
    const p = phase(t);
    r.rollups.add('cam', 1, 'steady', t, { features: {}, prediction: [12, 7, 3][p]! });
    // Breaches as much, but never has 50 values in a window: no verdict.
    if ((t - T0) % 20_000 === 0) r.rollups.add('cam', 1, 'sparse', t, { features: {}, prediction: 50 });
    r.rollups.add('cam', 1, 'calm', t, { features: {}, prediction: 1 });
  });
  const alerts = await r.store.monitoring.listAlerts();
  assert.deepEqual(
    alerts.map((a) => a.scope),
    ['device:steady'],
    'only the device with enough samples and a lasting breach',
  );
  const [a] = alerts;
  assert.equal(a!.state, 'resolved');
  // Judged from its 50th value on (t = 50 s), then the 20-second for-duration.
  const firedAt = a!.firedAt! - T0;
  assert.ok(firedAt >= 70_000 && firedAt <= 75_000, `fired after min samples and the for-duration, at ${firedAt}`);
  // 7 is below the threshold but above the clear bound: still firing through the second window.
  const resolvedAt = a!.resolvedAt! - T0;
  assert.ok(resolvedAt > 1_200_000, `resolved only once below 5, at ${resolvedAt}`);
  await r.store.close();
});

test('fifty devices drifting make one incident listing all fifty, from one rollup read per tick', async () => {
  const rule: RuleInput = {
    name: 'drift',
    metric: 'output.mean',
    scope: 'device',
    condition: { op: 'above', threshold: 10, clear: 5 },
    windowMs: 300_000,
    minSamples: 10,
  };
  const r = await rig([rule, { ...rule, name: 'drift-too', condition: { op: 'above', threshold: 11 } }]);
  const incidents: string[] = [];
  r.monitoring.events.on('monitoring.incident', (e) => incidents.push(e.change));
  const devices = Array.from({ length: 55 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  for (let s = 0; s < 30; s++)
    devices.forEach((d, i) => r.rollups.add('cam', 1, d, T0 + s * 1000, { features: {}, prediction: i < 50 ? 12 : 1 }));
  r.clock.now = T0 + 30_000;
  r.rollups.calls = 0;
  await r.monitoring.engine!.tick();
  assert.equal(r.rollups.calls, 1, 'both per-device rules share one sumPerScope');
  const open = await r.store.monitoring.listIncidents({ state: 'open' });
  assert.equal(open.length, 2, 'one incident per rule');
  const drift = open.find((i) => i.rule === 'drift')!;
  assert.equal(drift.members.length, 50);
  assert.deepEqual(drift.members.map((m) => m.deviceId).sort(), devices.slice(0, 50));
  assert.ok(drift.members.every((m) => m.since === T0 + 30_000));
  assert.equal(incidents.filter((c) => c === 'opened').length, 2);

  // Recovery: every member resolves, the incident stays open through its quiet period, then resolves.
  for (let s = 30; s < 700; s++)
    devices.forEach((d) => r.rollups.add('cam', 1, d, T0 + s * 1000, { features: {}, prediction: 1 }));
  r.clock.now = T0 + 700_000;
  await r.monitoring.engine!.tick();
  const quiet = (await r.store.monitoring.getIncident(drift.id))!;
  assert.equal(quiet.state, 'open');
  assert.equal(quiet.quietSince, T0 + 700_000);
  r.clock.now = T0 + 700_000 + 5 * 60_000;
  await r.monitoring.engine!.tick();
  assert.equal((await r.store.monitoring.getIncident(drift.id))!.state, 'resolved');
  await r.store.close();
});

test('a restarted engine keeps firing states: no second alert for the same breach', async () => {
  const rule: RuleInput = {
    name: 'high',
    metric: 'output.mean',
    scope: 'version',
    condition: { op: 'above', threshold: 10 },
    windowMs: 60_000,
    minSamples: 10,
  };
  const r = await rig([rule]);
  for (let s = 0; s < 30; s++) r.rollups.add('cam', 1, 'd1', T0 + s * 1000, { features: {}, prediction: 20 });
  r.clock.now = T0 + 30_000;
  await r.monitoring.engine!.tick();
  const again = new Monitoring({
    repo: r.store.monitoring,
    log: keptLogger().log,
    now: () => r.clock.now,
    defaultRules: false,
    engine: { rollups: r.rollups, metrics: testMetrics, versions: { versions: async () => [version] } },
  });
  r.clock.now += 5000;
  const summary = await again.engine!.tick();
  assert.equal(summary.transitions, 0);
  assert.equal((await r.store.monitoring.listAlerts()).length, 1);
  await r.store.close();
});

test('a metric needing a reference on a version without one gives no verdict, and the log says so once', async () => {
  const r = await rig([], { defaults: true });
  for (let s = 0; s < 60; s++)
    for (let k = 0; k < 20; k++) r.rollups.add('cam', 1, 'd1', T0 + s * 1000, { features: {}, prediction: 100 + k });
  r.clock.now = T0 + 60_000;
  await r.monitoring.engine!.tick();
  await r.monitoring.engine!.tick();
  const told = r.lines.filter((l) => String(l.msg).startsWith('rule not judged') && l.rule === 'default.output-drift');
  assert.equal(told.length, 1);
  assert.deepEqual(await r.store.monitoring.listAlerts(), []);
  await r.store.close();
});

test("a chosen reference window of the version's own live data stands in for a missing training baseline", async () => {
  const r = await rig([
    {
      name: 'output-drift',
      metric: 'output.psi',
      scope: 'version',
      condition: { op: 'above', threshold: 0.25, clear: 0.1 },
      windowMs: 60_000,
      minSamples: 100,
    },
  ]);
  const cameras = (level: number) => (t: number) => {
    for (let d = 0; d < 5; d++) r.rollups.add('cam', 1, `cam-${d}`, t, { features: {}, prediction: level + (d % 3) });
  };
  await run(r, T0 + 120_000, cameras(100));
  assert.equal(r.lines.filter((l) => String(l.msg).startsWith('rule not judged')).length, 1);
  await r.store.monitoring.setReferenceWindow({
    model: 'cam',
    version: 1,
    scope: 'fleet',
    from: T0,
    to: T0 + 120_000,
    setAt: T0 + 120_000,
    setBy: 'admin',
  });
  await run(r, T0 + 240_000, cameras(100));
  assert.deepEqual(await r.store.monitoring.listAlerts(), [], 'the same distribution as the reference');
  await run(r, T0 + 360_000, cameras(400));
  const [alert] = await r.store.monitoring.listAlerts({ state: 'firing' });
  assert.equal(alert?.rule, 'output-drift');
  await r.store.close();
});

test('disabling a firing rule resolves its alert, and its incident closes after the quiet period', async () => {
  const r = await rig([
    {
      name: 'high',
      metric: 'output.mean',
      scope: 'device',
      condition: { op: 'above', threshold: 10 },
      windowMs: 60_000,
      minSamples: 10,
    },
  ]);
  for (let s = 0; s < 30; s++) r.rollups.add('cam', 1, 'd1', T0 + s * 1000, { features: {}, prediction: 20 });
  r.clock.now = T0 + 30_000;
  await r.monitoring.engine!.tick();
  const [incident] = await r.store.monitoring.listIncidents({ state: 'open' });
  assert.ok(incident);
  await r.monitoring.setEnabled('high', false);
  r.clock.now += 5000;
  await r.monitoring.engine!.tick();
  const [alert] = await r.store.monitoring.listAlerts();
  assert.equal(alert?.state, 'resolved');
  assert.equal(alert?.reason, 'the rule was removed or disabled');
  r.clock.now += 5 * 60_000;
  await r.monitoring.engine!.tick();
  assert.equal((await r.store.monitoring.getIncident(incident.id))?.state, 'resolved');
  await r.store.close();
});

test('a version-wide alert names the devices it is seen on, and its incident lists them', async () => {
  const r = await rig([{ ...ORIGIN_RULE, forMs: 0 }]);
  // Devices 0-2 see saturation leave the band; the other seven keep theirs, so the version's mean
  // leaves it (0.3 × 0.95 + 0.7 × 0.5 = 0.64) while only three devices are affected.
  const drifting = (t: number) => {
    for (let d = 0; d < 10; d++)
      for (let f = 0; f < 4; f++)
        r.rollups.add('cam', 1, `cam-${d}`, t + f * 250, {
          features: { saturation: (d < 3 ? 0.95 : 0.5) + 0.02 * noise(t + d * 7 + f) },
        });
  };
  await run(r, T0 + 300_000, drifting);
  const [alert] = await r.store.monitoring.listAlerts({ state: 'firing' });
  assert.ok(alert, 'the version-wide rule fires');
  assert.equal(alert.scope, 'version');
  assert.deepEqual([...alert.devices].sort(), ['cam-0', 'cam-1', 'cam-2']);
  const [incident] = await r.store.monitoring.listIncidents();
  assert.deepEqual([...incident!.devices].sort(), ['cam-0', 'cam-1', 'cam-2']);
  await r.store.close();
});
