/**
 * The retraining loop refuses what it must refuse and undoes what the fleet shows to be worse,
 * through the real parts: the fleet server's loop engine, the built-in trainer as a child
 * process, the gate's evaluator, the signing registry, the rollout engine and (case 3)
 * simulated cars serving over MQTT with a ToF sensor's true readings as reference values.
 *
 * Samples reach the server as devices upload them (support/bench-device.ts): simulator frames
 * whose reference values the test chooses.
 *
 * (1) A sweep that cannot learn (one epoch at the trainer's smallest step size) on honest data:
 *     the gate refuses the challenger with the numbers; nothing is registered and the device's
 *     incident that started the run stays open.
 * (2) Garbage labels (the references shuffled among the frames) trained by an ordinary sweep: the
 *     champion's own training holdout shows the challenger forgot what it knew, and the gate
 *     refuses it.
 * (3) A sensor that read 60 mm long while the samples were captured, and a permissive gate: the
 *     challenger is accepted, registered and rolled out as a canary; the car running it meets the
 *     true readings, the rollout's live-error gate rolls it back by itself, the loop run ends
 *     rolled-back with that reason, and the canary serves the champion's model again (re-released).
 *
 * What the loop does when nothing goes wrong, and the lineage of its work: loop-heal-lineage.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_MODELS, SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import { RestError } from '@edgeloop/protocol/client';
import type { LoopPolicyInput } from '@edgeloop/protocol/rest';
import { generateDataset } from '@edgeloop/simulator';
import { startSimulatedFleet } from '@edgeloop/simulator/fleet';
import { connectBenchDevice, simulatorFrames, type BenchDevice } from '../support/bench-device.js';
import { waitFor } from '../support/fixtures.js';
import { loopClient, loopRunEnded, stepNamed, versionsOf } from '../support/loop-client.js';
import { TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';

/** Recent samples each run trains on (about a tenth lands in the holdout). */
const SAMPLES = 300;
/** Holdouts of ~30 items a side: the policy default of 30 would sit on that edge. */
const MIN_HOLDOUT = 15;
const MAE_SENTENCE =
  /Challenger MAE \d+\.\d mm on \d+ recent holdout items is \d+\.\d+ × the champion's \d+\.\d mm; the policy asks ≤ 0\.90 ×/;

type After = (fn: () => Promise<void>, options: { timeout: number }) => void;
/** A cleanup that hangs fails the test instead of holding the run open. */
const CLOSE_TIMEOUT = { timeout: 60_000 };

/** Cleanups run last-registered first (the devices before the cars, the cars before the server). */
function lastFirst(t: { after: After }): Array<() => Promise<void>> {
  const stack: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const close of stack.reverse()) await close();
  }, CLOSE_TIMEOUT);
  return stack;
}

test(
  'the gate refuses a challenger that cannot learn, and one trained on garbage labels',
  { timeout: 240_000 },
  async (t) => {
    const h = await startTestFleet();
    const closing = lastFirst(t);
    closing.push(() => h.close());
    const api = loopClient(h);
    // The champion, "range" v1: the sample model registered naming the dataset it was trained on,
    // so the gate has the champion's own training holdout to check what a challenger forgot.
    const trained = await generateDataset({
      scenario: 'baseline',
      count: SAMPLES,
      seed: 11,
      out: join(h.dir, 'champion-data'),
      threads: 0,
      features: false,
      createdAt: 1,
    });
    const championData = (await h.server.datasets.import(trained.dir)).dataset.id;
    await h.server.registry.register({
      name: 'range',
      bytes: readFileSync(SAMPLE_MODELS.v1),
      metadata: {
        ...JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v1, 'utf8')),
        lineage: { datasetId: championData },
      },
    });
    const bench = async (deviceId: string, group: string): Promise<BenchDevice> => {
      const device = await connectBenchDevice({
        mqttUrl: h.server.mqttUrl,
        deviceId,
        credentials: await h.enroll(deviceId, { group }),
      });
      closing.push(() => device.close());
      return device;
    };

    await t.test('a sweep whose parameters cannot learn', async (st) => {
      await api.putLoopPolicy({
        params: { model: 'range' },
        body: {
          model: 'range',
          triggers: [{ kind: 'incident' }],
          dataset: { devices: 'affected', minSamples: 200, capture: null, waitMs: 60_000 },
          // The trainer's lower limits (models/src/train/describe.ts): one pass at the smallest step.
          training: { sweep: { base: { epochs: 1, learningRate: 0.00001 } } },
          gate: { minHoldout: MIN_HOLDOUT },
        } satisfies LoopPolicyInput,
      });
      const cam = await bench('cam-1', 'yard');
      const onset = Date.now() - 120_000;
      const frames = await simulatorFrames({ out: join(h.dir, 'cam-1'), count: SAMPLES, seed: 21 });
      // Honest readings, captured after the drift began.
      await cam.upload(
        'range',
        1,
        frames.map((f, i) => ({ bytes: f.bytes, reference: f.label, ts: onset + 1000 + i * 200 })),
      );
      await cam.alert({
        model: 'range',
        version: 1,
        rule: 'page-hinkley',
        metric: 'baseline.distance',
        state: 'firing',
        value: 4.2,
        threshold: 3,
        samples: 500,
        ts: onset,
        reason: 'inputs moved away from the training baseline (Page-Hinkley)',
      });
      const { incidents } = await api.listIncidents({ query: { model: 'range' } });
      assert.equal(incidents.length, 1);
      const incident = incidents[0]!;

      const started = await waitFor(
        'the incident to start a loop run',
        async () => (await api.listLoopRuns({ query: { model: 'range' } })).runs[0],
        10_000,
        200,
      );
      assert.equal(started.trigger.kind, 'incident');
      assert.equal(started.trigger.incidentId, incident.id);
      assert.deepEqual(started.trigger.devices, ['cam-1']);
      const run = await loopRunEnded(api, started.id, 120_000);

      assert.equal(run.state, 'rejected', `${run.reason} ${JSON.stringify(run.steps)}`);
      assert.equal(run.step, 'gate');
      assert.equal(stepNamed(run, 'data').status, 'succeeded');
      assert.equal(stepNamed(run, 'train').status, 'succeeded');
      const gateStep = stepNamed(run, 'gate');
      assert.equal(gateStep.status, 'failed');
      assert.match(gateStep.outcome!, MAE_SENTENCE);
      assert.match(run.reason!, /^the gate refused the challenger: Challenger MAE /);
      const gate = run.gate!;
      st.diagnostic(gate.reasons.join(' '));
      assert.equal(gate.verdict, 'rejected');
      assert.deepEqual(gate.champion, { model: 'range', version: 1 });
      assert.equal(gate.challenger.trainingRunId, run.trainingRunId);
      assert.equal(gate.recent!.passed, false);
      assert.ok(gate.recent!.count >= MIN_HOLDOUT);
      assert.ok(
        gate.recent!.challenger.mae > 2 * gate.recent!.champion.mae,
        `an unlearned model is far worse: ${JSON.stringify(gate.recent)}`,
      );
      // The run's training really was the sweep the policy asked for.
      const job = await api.getTrainingJob({ params: { id: run.trainingJobId! } });
      assert.deepEqual(
        job.runs.map((r) => [r.params.epochs, r.params.learningRate]),
        [[1, 0.00001]],
      );
      for (const name of ['register', 'rollout', 'resolve'] as const)
        assert.equal(stepNamed(run, name).status, 'skipped', name);
      assert.equal(run.version, null);
      assert.equal(run.rolloutId, null);
      assert.deepEqual(await versionsOf(api, 'range'), [1], 'nothing was registered');
      const after = await api.getIncident({ params: { id: incident.id } });
      assert.equal(after.incident.state, 'open');
      assert.equal(after.incident.resolvedBy, null);
    });

    await t.test('a poisoned dataset: garbage labels', async (st) => {
      // Another bench, its samples alone: the run reads the group, not the camera above.
      await api.putLoopPolicy({
        params: { model: 'range' },
        body: {
          model: 'range',
          triggers: [],
          dataset: { devices: { group: 'bench' }, minSamples: 200, capture: null, waitMs: 60_000 },
          training: { sweep: { base: { epochs: 30 } } },
          gate: { minHoldout: MIN_HOLDOUT },
        } satisfies LoopPolicyInput,
      });
      const benches = [await bench('bench-1', 'bench'), await bench('bench-2', 'bench')];
      const frames = await simulatorFrames({ out: join(h.dir, 'bench'), count: SAMPLES, seed: 31 });
      // Each frame carries another frame's reading: labels that say nothing about the image.
      const shuffled = frames.map((_, i) => frames[(i * 7 + 13) % frames.length]!.label);
      const now = Date.now();
      for (const [k, device] of benches.entries()) {
        const half = frames.filter((_, i) => i % 2 === k);
        await device.upload(
          'range',
          1,
          half.map((f, i) => ({ bytes: f.bytes, reference: shuffled[i * 2 + k]!, ts: now - 50_000 + i * 100 })),
        );
      }

      // The run before ended moments ago: a manual trigger inside the cool-down must be forced.
      await assert.rejects(
        api.triggerLoopRun({ params: { model: 'range' }, body: { reason: 'relabelled bench data' } }),
        (err) => err instanceof RestError && err.status === 409 && /cool-down .* pass force/.test(err.reason),
      );
      const { run: started } = await api.triggerLoopRun({
        params: { model: 'range' },
        body: { reason: 'relabelled bench data', force: true },
      });
      assert.equal(started.trigger.kind, 'manual');
      const run = await loopRunEnded(api, started.id, 180_000);

      assert.equal(run.state, 'rejected', `${run.reason} ${JSON.stringify(run.steps)}`);
      assert.equal(stepNamed(run, 'gate').status, 'failed');
      const gate = run.gate!;
      st.diagnostic(gate.reasons.join(' '));
      assert.equal(gate.verdict, 'rejected');
      // The dataset mixed the champion's own data back in; its holdout is what catches the damage.
      assert.match(stepNamed(run, 'data').outcome!, new RegExp(`\\+ \\d+ from ${championData}`));
      assert.ok(gate.original, 'the champion names its training dataset, so there is an original holdout');
      assert.ok(gate.original.count >= MIN_HOLDOUT);
      assert.equal(gate.original.passed, false, JSON.stringify(gate.original));
      assert.ok(gate.original.ratio > 1.1, `original ratio ${gate.original.ratio}`);
      assert.ok(
        gate.reasons.some((r) =>
          /original holdout items is \d+\.\d+ × the champion's .* so the challenger lost too much of what the champion knew/.test(
            r,
          ),
        ),
        gate.reasons.join(' '),
      );
      assert.equal(run.version, null);
      assert.deepEqual(await versionsOf(api, 'range'), [1], 'nothing was registered');
    });
  },
);

test(
  'a challenger the gate accepts but the fleet shows to be worse is rolled back by the live-error gate',
  { timeout: 240_000 },
  async (t) => {
    const h = await startTestFleet({ baselineMetadata: JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v1, 'utf8')) });
    const closing = lastFirst(t);
    closing.push(() => h.close());
    const api = loopClient(h);
    const cars = ['car-1', 'car-2', 'car-3', 'car-4'];
    const sim = await startSimulatedFleet({
      scenario: 'baseline',
      deviceIds: cars,
      seed: 5,
      dataDir: join(h.dir, 'sim'),
      fleet: { mqttUrl: h.server.mqttUrl, httpUrl: h.server.httpUrl, trustedKeys: [h.server.publicKey] },
      enroll: (id) => h.enroll(id),
      sensorCredentials: TEST_MQTT_SERVER,
    });
    closing.push(() => sim.close());
    for (const id of cars) await h.deploySample(id);
    sim.run();

    await api.putLoopPolicy({
      params: { model: 'distance' },
      body: {
        model: 'distance',
        triggers: [],
        dataset: { devices: 'all', minSamples: 200, capture: null, waitMs: 60_000 },
        training: { sweep: { base: { epochs: 30 } } },
        // Permissive: as good as the champion on recent data is enough, and forgetting is allowed.
        gate: { minImprovement: 0, originalTolerance: 10, minHoldout: MIN_HOLDOUT },
        rollout: {
          strategy: 'canary',
          parameters: { canary: { count: 1 }, waitMs: 5000, healthyAfterMs: 3000, liveError: { minRecords: 20 } },
        },
      } satisfies LoopPolicyInput,
    });
    // Two cars captured these while their ToF sensors read 60 mm long (a bad calibration since fixed).
    const frames = await simulatorFrames({ out: join(h.dir, 'captured'), count: SAMPLES, seed: 41 });
    const now = Date.now();
    for (const [k, id] of ['car-1', 'car-2'].entries()) {
      const device = await connectBenchDevice({
        mqttUrl: h.server.mqttUrl,
        deviceId: id,
        credentials: await h.enroll(id),
      });
      closing.push(() => device.close());
      await device.upload(
        'distance',
        1,
        frames
          .filter((_, i) => i % 2 === k)
          .map((f, i) => ({ bytes: f.bytes, reference: f.label + 60, ts: now - 60_000 + i * 100 })),
      );
    }

    const { run: started } = await api.triggerLoopRun({
      params: { model: 'distance' },
      body: { reason: 'retrain on the captured samples' },
    });
    const run = await loopRunEnded(api, started.id, 180_000);
    t.diagnostic(`${run.state}: ${run.reason}`);
    t.diagnostic(run.gate?.reasons.join(' ') ?? 'no gate');

    // The gate could not tell: on data labelled by the same bad sensor the challenger looks better.
    assert.equal(run.gate?.verdict, 'accepted', JSON.stringify(run.gate));
    assert.equal(stepNamed(run, 'gate').status, 'succeeded');
    assert.equal(run.version, 2);
    assert.equal(stepNamed(run, 'register').status, 'succeeded');
    const v2 = (await api.getModelVersion({ params: { name: 'distance', version: 2 } })).model;
    assert.equal(v2.lineage.loopRunId, run.id);
    assert.equal(v2.lineage.parent, 1);
    assert.equal(v2.lineage.datasetId, run.datasetId);

    // The fleet could: the rollout's live-error gate rolled it back by itself.
    assert.equal(run.state, 'rolled-back', `${run.reason} ${JSON.stringify(run.steps)}`);
    assert.equal(run.step, 'rollout');
    assert.equal(stepNamed(run, 'rollout').status, 'failed');
    assert.equal(stepNamed(run, 'resolve').status, 'skipped');
    assert.match(
      run.reason!,
      new RegExp(
        `^rollout ${run.rolloutId} rolled distance v2 back: live error: candidate MAE [\\d.]+ \\(\\d+ records\\) vs baseline MAE [\\d.]+ \\(\\d+ records\\), ratio [\\d.]+ exceeds maxErrorRatio 1\\.2$`,
      ),
    );
    const rollout = await api.getRollout({ params: { id: run.rolloutId! } });
    assert.equal(rollout.rollout.state, 'rolled-back');
    const given = rollout.devices.filter((d) => d.state === 'rolled-back');
    assert.equal(given.length, 1, 'only the canary had the challenger');
    const canary = given[0]!.deviceId;
    const { candidate, baseline } = rollout.liveError;
    assert.ok(candidate.mae! > 1.2 * baseline.mae!, JSON.stringify(rollout.liveError));

    // Devices refuse older versions: the champion's model came back as a re-release, to the canary only.
    const v1 = (await api.getModelVersion({ params: { name: 'distance', version: 1 } })).model;
    const back = (await api.getModelVersion({ params: { name: 'distance', version: 3 } })).model;
    assert.equal(back.sha256, v1.sha256);
    assert.deepEqual([back.lineage.trigger, back.lineage.parent], ['rollback', 1]);
    await waitFor(
      `${canary} to serve v1's model again`,
      async () => {
        const d = (await api.getDevice({ params: { id: canary } })).device;
        return d.models.some((m) => m.name === 'distance' && m.version === 3 && m.sha256 === v1.sha256);
      },
      30_000,
      250,
    );
    for (const id of cars.filter((c) => c !== canary)) {
      const d = (await api.getDevice({ params: { id } })).device;
      assert.deepEqual(
        d.models.map((m) => [m.name, m.version]),
        [['distance', 1]],
        `${id} never left the champion`,
      );
    }
  },
);
