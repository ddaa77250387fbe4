/**
 * Drift detection end to end, on the simulator: 10 cars (each a real agent serving the trained
 * sample v1 with its training baseline and validation MAE) drive the covariate-shift scenario, two
 * simulated minutes on the beige floor and then a green one, in time compressed twice. One car
 * loses its fleet link 20 s before the floor changes and gets it back 80 s after.
 *
 * - nothing fires in the two stable minutes before the change (no false alarm);
 * - the fleet's default feature-drift rule fires within 60 simulated seconds of the change, and
 *   its incident names the version and the devices it is seen on;
 * - the car cut off notices the shift on its own within 60 s (its label-free detector), keeps
 *   every frame as a retraining sample while the alert fires, and the fleet receives its alert,
 *   raised while offline, once it is back.
 *
 * The 30-minute false-alarm run and the label-shift and concept-drift latencies are benchmarks
 * (npm run bench -- --only fleet.); the rules' own tests cover each shift on rollups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SampleSummary } from '@edgeloop/protocol/rest';
import { runDrift, type DriftRunResult } from '../support/drift-run.js';

const CUT = 'drift-car-1';

test(
  'covariate shift: the fleet alerts within 60 s naming the devices; a car cut off detects it alone and reports on reconnect',
  { timeout: 600_000 },
  async (t) => {
    let samples: SampleSummary[] = [];
    let pending: Array<{ reason: string; n: number }> = [];
    const started = Date.now();
    const r: DriftRunResult = await runDrift({
      scenario: 'covariate-shift',
      devices: 10,
      timeScale: 2,
      durationSeconds: 300,
      disconnect: { device: CUT, fromSeconds: 100, toSeconds: 200 },
      // The cut-off car keeps every 40th frame normally, and uploads what it keeps with its telemetry.
      agent: (id) => (id === CUT ? { sampling: { everyN: 40, upload: 'with-sync' } } : {}),
      until: (fired) =>
        fired.some((f) => f.rule === 'default.feature-drift') &&
        fired.some((f) => f.deviceId === CUT && f.source === 'device'),
      inspect: async (h) => {
        // What the cut-off car kept: uploaded since the reconnect, or still in its outbox (an
        // uploaded sample leaves the car's store, so the two never count one twice).
        samples = await h.server.store.samples.list({ device: CUT, limit: 5000 });
        const db = new Database(join(h.dir, 'sim', CUT, 'agent.db'), { readonly: true });
        try {
          pending = db.prepare('SELECT reason, count(*) AS n FROM samples GROUP BY reason').all() as typeof pending;
        } finally {
          db.close();
        }
      },
      progress: (line) => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(0)} s wall: ${line}`),
    });
    t.diagnostic(
      `${r.frames} frames, ${r.simSeconds.toFixed(0)} s simulated in ${r.wallSeconds.toFixed(0)} s; fired: ${r.fired
        .map((f) => `${f.source} ${f.rule} on ${f.scope} at ${f.afterOnsetS?.toFixed(1)} s`)
        .join('; ')}`,
    );
    assert.equal(r.onsetSeconds, 120);

    const early = r.fired.filter((f) => f.afterOnsetS! < 0);
    assert.deepEqual(early, [], 'no alert in the two stable minutes before the floor changed');

    const fleetAlert = r.fired.find((f) => f.rule === 'default.feature-drift' && f.source === 'server');
    assert.ok(fleetAlert, 'the fleet raised its feature-drift alert');
    assert.ok(fleetAlert.afterOnsetS! <= 60, `fleet alert ${fleetAlert.afterOnsetS} s after the onset`);
    const incident = r.incidents.find((i) => i.rule === 'default.feature-drift');
    assert.ok(incident, 'the alert opened an incident');
    assert.equal(incident.model, 'distance');
    assert.equal(incident.version, 1);
    assert.ok(incident.devices.length >= 5, `the incident names the devices: ${incident.devices.join(', ')}`);
    assert.ok(
      incident.devices.every((d) => r.deviceIds.includes(d)),
      'only simulated cars are named',
    );

    const local = r.alerts.find((a) => a.deviceId === CUT && a.source === 'device' && a.firedAt !== null);
    assert.ok(local, 'the cut-off car’s own alert reached the fleet after the reconnect');
    const localAfter = r.fired.find((f) => f.deviceId === CUT && f.source === 'device')!.afterOnsetS!;
    assert.ok(localAfter >= 0 && localAfter <= 60, `detected locally ${localAfter} s after the onset`);
    assert.match(local.reason ?? '', /offline/, 'the alert says it was raised offline');

    // Every 40th of the ~270 frames it saw offline after the alarm would be ~7; raised, it keeps each one.
    const captured =
      samples.filter((s) => s.reason === 'capture').length + (pending.find((p) => p.reason === 'capture')?.n ?? 0);
    assert.ok(
      captured >= 100,
      `sampling was raised while the alert fired: ${captured} capture samples (${samples.length} uploaded)`,
    );
  },
);
