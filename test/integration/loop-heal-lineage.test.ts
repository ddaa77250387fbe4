/**
 * The retraining loop heals a drift by itself, and its work can be traced: five simulated cars
 * (real agents, MQTT, a ToF sensor's readings as reference values) on a floor that turns green two
 * simulated minutes in, time compressed ×2 with the server's rules and loop on the simulation's
 * clock. The drift opens an incident; the loop gathers what the cars capture (asking them to
 * capture every frame while it is short), trains, passes the gate, rolls the new version out as a
 * canary and then to every car, and resolves the incident once its rule stays clear on the new
 * version. A record the new version made on a healed car walks back through the lineage to the
 * loop run (its incident and the gate's comparison), the sweep's runs, the dataset and the cars
 * it was captured on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import type { LoopPolicyInput } from '@edgeloop/protocol/rest';
import { startSimulatedFleet, type SimulatedFleet } from '@edgeloop/simulator/fleet';
import { waitFor } from '../support/fixtures.js';
import { TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { loopClient, loopRunEnded } from '../support/loop-client.js';

/** Recent samples the run trains on (about a tenth lands in the holdout). */
const SAMPLES = 300;
/** A holdout of ~30 items: the policy default of 30 would sit on that edge. */
const MIN_HOLDOUT = 15;

test(
  'a drift the loop heals: the lineage walk from a healed car reaches the loop run, its incident and gate, the dataset and its sources',
  { timeout: 300_000 },
  async (t) => {
    const world: { sim?: SimulatedFleet } = {};
    // Data time is the simulation's: the rules, the loop's windows and its settling count on it.
    const h = await startTestFleet({
      baselineMetadata: JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v1, 'utf8')),
      parts: { monitoringNow: () => world.sim?.now() ?? Date.now() },
    });
    t.after(
      async () => {
        await world.sim?.close();
        await h.close();
      },
      { timeout: 60_000 },
    );
    const api = loopClient(h);
    await api.putLoopPolicy({
      params: { model: 'distance' },
      body: {
        model: 'distance',
        dataset: { devices: 'all', minSamples: SAMPLES },
        training: { sweep: { base: { epochs: 30 } } },
        gate: { minHoldout: MIN_HOLDOUT },
        rollout: {
          strategy: 'canary',
          parameters: { canary: { count: 1 }, waitMs: 5000, healthyAfterMs: 3000, liveError: { minRecords: 20 } },
        },
        settleMs: 30_000,
      } satisfies LoopPolicyInput,
    });
    const cars = ['heal-car-1', 'heal-car-2', 'heal-car-3', 'heal-car-4', 'heal-car-5'];
    const sim = (world.sim = await startSimulatedFleet({
      // Two minutes of beige floor, then green: the inputs shift, the distances do not.
      scenario: 'covariate-shift',
      deviceIds: cars,
      seed: 1,
      dataDir: join(h.dir, 'sim'),
      fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
      enroll: (id) => h.enroll(id),
      sensorCredentials: TEST_MQTT_SERVER,
      timeScale: 2,
      durationSeconds: 600,
      agent: { sampling: { everyN: 4, upload: 'with-sync', captureOnRequest: true } },
    }));
    for (const id of cars) await h.deploySample(id);
    sim.run();

    const started = await waitFor(
      'the drift incident to start a loop run',
      async () => (await api.listLoopRuns({ query: { model: 'distance' } })).runs.at(-1),
      150_000,
      1000,
    );
    const run = await loopRunEnded(api, started.id, 200_000);
    t.diagnostic(
      `${run.state} at t=${sim.clock().t.toFixed(0)} s simulated: ${run.steps.map((s) => `${s.name} ${s.status}`).join(', ')}`,
    );
    t.diagnostic(run.gate?.reasons.join(' ') ?? 'no gate');
    assert.equal(run.state, 'succeeded', `${run.reason} ${JSON.stringify(run.steps)}`);
    assert.equal(run.trigger.kind, 'incident');
    const { incident } = await api.getIncident({ params: { id: run.trigger.incidentId! } });
    assert.equal(incident.state, 'resolved');
    assert.deepEqual(incident.resolvedBy && [incident.resolvedBy.loopRunId, incident.resolvedBy.version], [
      run.id,
      run.version,
    ]);

    // A record the new version made on a healed car, walked back to where it came from.
    const record = await waitFor(
      `a record of distance v${run.version}`,
      async () =>
        (await api.listTelemetry({ query: { model: 'distance', version: run.version!, limit: 1 } })).records[0],
      30_000,
      500,
    );
    const walk = await api.lineageOfRecord({ params: { id: record.id } });
    assert.equal(walk.record?.deviceId, record.deviceId);
    assert.ok(cars.includes(record.deviceId));
    assert.deepEqual([walk.model.version, walk.model.parent, walk.model.trigger], [run.version, 1, 'drift']);
    const loop = walk.loop!;
    assert.ok(loop, `the walk reaches the loop run: ${JSON.stringify(walk.gaps)}`);
    assert.equal(loop.runId, run.id);
    assert.equal(loop.state, 'succeeded');
    assert.equal(loop.trigger.incidentId, incident.id);
    assert.deepEqual(
      [loop.incident?.id, loop.incident?.rule, loop.incident?.state],
      [incident.id, incident.rule, 'resolved'],
    );
    assert.equal(loop.gate?.verdict, 'accepted');
    assert.deepEqual(loop.gate, run.gate);
    assert.deepEqual(
      loop.runs.filter((r) => r.best).map((r) => r.id),
      [run.trainingRunId],
    );
    assert.equal(walk.run?.id, run.trainingRunId);
    assert.equal(walk.dataset?.id, run.datasetId);
    // The dataset's sources are the cars that captured the drifted frames, with their windows.
    assert.ok(walk.sources.length > 0);
    for (const s of walk.sources) {
      assert.ok(s.deviceId !== null && cars.includes(s.deviceId), JSON.stringify(s));
      assert.ok(s.count > 0 && s.from !== null && s.to !== null && s.from >= run.trigger.onset! - 1, JSON.stringify(s));
    }
    assert.equal(
      walk.sources.reduce((n, s) => n + s.count, 0),
      walk.dataset?.counts.total,
    );
    assert.deepEqual(walk.gaps, []);
  },
);
