/**
 * The fleet server dies with kill -9 in the middle of a retraining loop run and comes back on the
 * same data directory and ports. Real server and agent processes, real MQTT, the built-in trainer
 * on simulator frames a camera device uploaded as labelled samples, one loop policy:
 *
 * - killed while the challenger trains: the restart settles the job as failed, the run trains the
 *   same dataset again (attempt 2) and goes on through the gate to register;
 * - killed while the new version's canary soaks: the rollout carries on, the run ends succeeded
 *   and the device serves the new version;
 * - killed in both training attempts: the run ends failed, saying the server stopped;
 * - killed after the rollout was created but before the run recorded it (the store is set back to
 *   that moment while the server is down): the run follows that rollout instead of rolling the
 *   version out a second time.
 *
 * After every restart the registry holds no version without its whole artifact and no two
 * versions of one loop run, and `edgeloop models list` works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sha256Hex } from '@edgeloop/protocol';
import type { LoopPolicyInput, LoopRun, LoopStepName, ModelVersionSummary } from '@edgeloop/protocol/rest';
import { openFleetStore } from '@edgeloop/fleet-server/testing';
import { sample, tempDir, waitFor } from '../support/fixtures.js';
import { fleet, TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { processesMentioning, type ProcessInfo } from '../support/process-scan.js';
import {
  adminJson,
  portOf,
  runCli,
  startAgentProcess,
  startServerProcess,
  writeAgentConfig,
} from '../support/processes.js';
import { uploadSimSamples } from '../support/sim-samples.js';

const MODEL = 'distance';
const DEVICE = 'loop-kill-pi-1';
/** The canary's soak: long enough to kill the server inside it, short enough for the suite. */
const SOAK_MS = 20_000;

const POLICY: LoopPolicyInput = {
  model: MODEL,
  // Manual runs only: the monitoring's default rules must not start runs of their own here.
  triggers: [],
  dataset: { devices: 'all', minSamples: 120, replayShare: 0, capture: null, waitMs: 60_000 },
  // A few seconds of training: time to kill it mid-epochs, and a retrained run still quick.
  training: { sweep: { base: { epochs: 250 } } },
  // 150 frames give a holdout of about 15; each run's data is a new floor or range, so the
  // challenger may lose some precision on the champion's own (forgetting is not tested here).
  gate: { originalTolerance: 10, minHoldout: 5 },
  rollout: {
    strategy: 'canary',
    target: { devices: [DEVICE] },
    parameters: { waitMs: SOAK_MS, liveError: { required: 'never' } },
  },
  guards: { cooldownMs: 0 },
};

interface JobDetail {
  job: { id: string; status: string; error: string | null };
  runs: Array<{ progress: { epoch?: number } | null }>;
}

const stepOf = (run: LoopRun, name: LoopStepName) => run.steps.find((s) => s.name === name)!;
const describeRun = (r: LoopRun) =>
  `${r.state} at ${r.step}${r.reason ? ` (${r.reason})` : ''}: ${r.steps.map((s) => `${s.name} ${s.status}`).join(', ')}`;
/** SIGKILL to a process found by its command line, which may have ended since. */
const killQuietly = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
const statuses = (r: LoopRun) => r.steps.map((s) => `${s.name} ${s.status}`);

test('kill -9 in the middle of a loop run: it resumes or fails with a reason', { timeout: 300_000 }, async (t) => {
  const tmp = tempDir('loop-kill');
  const dataDir = join(tmp.dir, 'fleet');
  let server = await startServerProcess(dataDir);
  const ports = { http: portOf(server.ready.httpUrl), mqtt: portOf(server.ready.mqttUrl) };
  const agent = await startAgentProcess(await writeAgentConfig(server.ready, tmp.dir, DEVICE));
  t.after(async () => {
    await agent.kill('SIGKILL');
    await server.kill('SIGKILL');
    for (const p of processesMentioning(dataDir)) killQuietly(p.pid);
    tmp.cleanup();
  });
  // The same ports after every restart: one address for the whole test.
  const access = server.ready;
  const api = fleet(access.httpUrl);
  const cli = async (args: string[]) => {
    const r = await runCli(args, access.httpUrl);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  /** Trainers and evaluators a killed server had started that were still alive a second later. */
  const outlived: ProcessInfo[] = [];
  /**
   * kill -9; `whileDown` sees the store as the crash left it; then the same server again. What
   * the dead server had started is killed here, as the service manager's stop of its control
   * group would, so a retrained run does not share the two cores with an orphan.
   */
  const crash = async (whileDown?: () => Promise<void>) => {
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    const left = processesMentioning(dataDir);
    outlived.push(...left);
    for (const p of left) killQuietly(p.pid);
    await whileDown?.();
    server = await startServerProcess(dataDir, [], ports);
  };

  const getRun = async (id: string) =>
    (await adminJson<{ run: LoopRun }>(access, 'GET', `/api/v1/loop/runs/${id}`)).run;
  /** Polls the run until `pred` holds; fails saying where the run ended if it ends first. */
  const untilRun = async (id: string, what: string, pred: (r: LoopRun) => boolean, timeoutMs = 60_000) => {
    const run = await waitFor(
      what,
      async () => {
        const r = await getRun(id);
        return pred(r) || r.state !== 'running' ? r : undefined;
      },
      timeoutMs,
      100,
    );
    assert.ok(pred(run), `waiting for ${what}, the run ended ${describeRun(run)}`);
    return run;
  };
  const untilEnded = (id: string, timeoutMs = 90_000) =>
    waitFor(
      `loop run ${id} ended`,
      async () => {
        const r = await getRun(id);
        return r.state !== 'running' ? r : undefined;
      },
      timeoutMs,
      200,
    );
  const trigger = async (reason: string) =>
    (await adminJson<{ run: LoopRun }>(access, 'POST', `/api/v1/loop/policies/${MODEL}/trigger`, { reason })).run;
  const jobDetail = (id: string) => adminJson<JobDetail>(access, 'GET', `/api/v1/training/jobs/${id}`);
  /** The run's training job once its trainer is in its epochs: the kill lands mid-training. */
  const trainingNow = async (runId: string, attempt: number) => {
    const run = await untilRun(
      runId,
      `training attempt ${attempt}`,
      (r) => r.trainingJobId !== null && stepOf(r, 'train').detail.attempts === attempt,
    );
    const detail = await waitFor(
      `job ${run.trainingJobId} in its epochs`,
      async () => {
        const d = await jobDetail(run.trainingJobId!);
        const training = d.job.status === 'running' && d.runs[0]?.progress?.epoch !== undefined;
        return training || (d.job.status !== 'running' && d.job.status !== 'queued') ? d : undefined;
      },
      30_000,
      50,
    );
    assert.equal(detail.job.status, 'running', 'the job is still training when the server is killed');
    return detail.job.id;
  };
  const rolloutsOf = async (version: number) =>
    (
      await adminJson<{ rollouts: Array<{ id: string; version: number; state: string }> }>(
        access,
        'GET',
        `/api/v1/rollouts?model=${MODEL}`,
      )
    ).rollouts.filter((r) => r.version === version);

  /** Every version's artifact is served whole; no loop run registered twice; the CLI lists them. */
  const registrySound = async (versions: number[]) => {
    const { models } = await adminJson<{ models: ModelVersionSummary[] }>(access, 'GET', '/api/v1/models');
    const ours = models.filter((m) => m.name === MODEL);
    assert.deepEqual(
      ours.map((m) => m.version).sort((a, b) => a - b),
      versions,
    );
    for (const m of ours) {
      const res = await fetch(`${access.httpUrl}/api/v1/artifacts/${m.sha256}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      assert.equal(res.status, 200, `the artifact of ${MODEL} v${m.version} is served`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.equal(sha256Hex(bytes), m.sha256, `${MODEL} v${m.version}'s artifact is whole`);
    }
    const runs = ours.map((m) => m.lineage?.loopRunId).filter((id): id is string => id !== undefined);
    assert.equal(new Set(runs).size, runs.length, `one version per loop run: ${runs.join(', ')}`);
    const listed = await cli(['models', 'list']);
    for (const v of versions) assert.match(listed, new RegExp(`\\b${MODEL}\\b.*\\b${v}\\b`));
  };
  const frames = (deviceId: string, scenario: string, phase: string, seed: number) =>
    uploadSimSamples(access, {
      deviceId,
      scenario,
      phase,
      count: 150,
      seed,
      dir: join(tmp.dir, `frames-${deviceId}`),
      model: MODEL,
      version: 1,
    });

  // v1 serves on the device; a camera device uploaded 150 labelled frames of a floor v1 never saw.
  await cli(['models', 'push', sample.v1Path, '--name', MODEL, '--meta', sample.metadataPath]);
  await waitFor('agent online', async () => (await api.devices()).find((d) => d.id === DEVICE)?.online);
  await Promise.all([
    (async () => {
      await cli(['deploy', `${MODEL}@1`, '--device', DEVICE]);
      await waitFor('v1 active', async () => (await api.device(DEVICE)).device.models.some((m) => m.version === 1));
    })(),
    frames('loop-kill-cam-1', 'beige-to-red', 'red', 7),
  ]);
  await adminJson(access, 'PUT', `/api/v1/loop/policies/${MODEL}`, POLICY);

  let first: LoopRun;
  await t.test('killed while the challenger trains: trained again, then gated and registered once', async () => {
    first = await trigger('the floor turned red');
    const killedJob = await trainingNow(first.id, 1);
    await crash();
    const settled = (await jobDetail(killedJob)).job;
    assert.equal(settled.status, 'failed');
    assert.match(settled.error ?? '', /server stopped/);
    const again = await untilRun(
      first.id,
      'a second training attempt',
      (r) => stepOf(r, 'train').detail.attempts === 2,
    );
    assert.notEqual(again.trainingJobId, killedJob, 'a new job trains the same dataset');
    const registered = await untilRun(first.id, 'the challenger registered', (r) => r.version !== null, 120_000);
    assert.equal(registered.version, 2);
    assert.equal(stepOf(registered, 'gate').status, 'succeeded', stepOf(registered, 'gate').outcome ?? '');
    t.diagnostic(`gate: ${stepOf(registered, 'gate').outcome}`);
    await registrySound([1, 2]);
  });

  await t.test('killed while the canary soaks: the rollout carries on and the run succeeds', async () => {
    const rolling = await untilRun(first.id, 'the rollout started', (r) => r.rolloutId !== null);
    const [rollout] = await rolloutsOf(2);
    assert.equal(rollout?.id, rolling.rolloutId);
    assert.equal(rollout?.state, 'running', 'the kill lands inside the soak');
    await crash();
    await registrySound([1, 2]);
    const done = await untilEnded(first.id);
    assert.equal(done.state, 'succeeded', describeRun(done));
    assert.equal(done.reason, null);
    assert.deepEqual(statuses(done), [
      'trigger succeeded',
      'data succeeded',
      'train succeeded',
      'gate succeeded',
      'register succeeded',
      'rollout succeeded',
      'resolve skipped',
    ]);
    assert.equal(stepOf(done, 'train').detail.attempts, 2);
    assert.deepEqual(
      (await rolloutsOf(2)).map((r) => [r.id, r.state]),
      [[done.rolloutId, 'completed']],
    );
    await waitFor(
      'v2 serves on the device',
      async () => (await api.device(DEVICE)).device.models.every((m) => m.version === 2) || undefined,
    );
    await registrySound([1, 2]);
  });

  await t.test('killed in both training attempts: the run fails, saying the server stopped', async () => {
    const run = await trigger('retrain once more');
    const jobs = [await trainingNow(run.id, 1)];
    await crash();
    jobs.push(await trainingNow(run.id, 2));
    await crash();
    const done = await untilEnded(run.id);
    assert.equal(done.state, 'failed', describeRun(done));
    assert.match(
      done.reason ?? '',
      new RegExp(`^training job ${jobs[1]} failed: the server stopped while this job was training`),
    );
    assert.deepEqual(statuses(done).slice(2), [
      'train failed',
      'gate skipped',
      'register skipped',
      'rollout skipped',
      'resolve skipped',
    ]);
    assert.equal(done.version, null);
    for (const id of jobs) assert.equal((await jobDetail(id)).job.status, 'failed');
    await registrySound([1, 2]);
  });

  await t.test('killed before the run recorded its rollout: it follows that rollout, none is made twice', async () => {
    // New conditions again (the label range widens), so a challenger can beat v2 on them.
    await frames('loop-kill-cam-2', 'label-shift', 'label-shift', 8);
    const run = await trigger('the car parks further away');
    const rolling = await untilRun(run.id, 'the rollout started', (r) => r.rolloutId !== null, 120_000);
    assert.equal(rolling.version, 3);
    t.diagnostic(`gate: ${stepOf(rolling, 'gate').outcome}`);
    await crash(async () => {
      // As if the kill had come between creating the rollout and writing the run's record.
      const store = await openFleetStore({ sqlitePath: join(dataDir, 'fleet.db') });
      try {
        const stored = (await store.loop.getRun(run.id))!;
        await store.loop.updateRun({
          ...stored,
          step: 'register',
          rolloutId: null,
          steps: stored.steps.map((s) =>
            s.name === 'rollout'
              ? { ...s, status: 'pending', startedAt: null, finishedAt: null, outcome: null, detail: {} }
              : s,
          ),
        });
      } finally {
        await store.close();
      }
    });
    const done = await untilEnded(run.id);
    assert.equal(done.state, 'succeeded', describeRun(done));
    assert.equal(done.rolloutId, rolling.rolloutId, 'the run follows the rollout it had created');
    assert.deepEqual(
      (await rolloutsOf(3)).map((r) => [r.id, r.state]),
      [[rolling.rolloutId, 'completed']],
    );
    await registrySound([1, 2, 3]);
  });

  await t.test('a trainer or evaluator the killed server started dies with it', () => {
    assert.deepEqual(
      outlived.map((p) => p.command.slice(0, 200)),
      [],
    );
  });
});
