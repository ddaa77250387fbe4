/**
 * Acceptance: a new version that loads fine but computes the wrong thing. v2 is
 * registered with a health check whose golden output the model does not produce; the agent runs
 * it before the swap, reports failed/health-check-failed naming the output and the difference,
 * and v1 never stops answering. A later fix (v3) is still accepted: the failure did not raise
 * the anti-rollback counter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { greyTensor, sample, tempDir, waitFor } from '../support/fixtures.js';
import { fleet } from '../support/fleet-client.js';
import { runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { watchPredictions } from './prediction-watch.js';

const DEVICE = 'health-pi-1';

test(
  'a version failing its golden health check is never served; v1 keeps answering; a fix is accepted',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('health-revert');
    const server = await startServerProcess(join(tmp.dir, 'fleet'));
    const api = fleet(server.ready.httpUrl);
    const agent = await startAgentProcess(await writeAgentConfig(server.ready, tmp.dir, DEVICE));
    t.after(async () => {
      await agent.kill('SIGKILL');
      await server.kill('SIGKILL');
      tmp.cleanup();
    });
    const metaWith = (file: string, expected: number, tolerance: number) => {
      const path = join(tmp.dir, file);
      const golden = greyTensor(0.5).inputs.image;
      writeFileSync(
        path,
        JSON.stringify({
          ...(sample.metadata as object),
          healthCheck: { inputs: { image: golden }, outputs: { distance: { data: [expected] } }, tolerance },
        }),
      );
      return path;
    };
    const push = (file: string, meta: string) =>
      runCli(['models', 'push', file, '--name', 'distance', '--meta', meta], server.ready.httpUrl);
    const deploy = (version: number) =>
      runCli(['deploy', `distance@${version}`, '--device', DEVICE], server.ready.httpUrl);
    const assignment = async (version: number) =>
      (await api.device(DEVICE)).device.assignments.find((a) => a.model === 'distance' && a.version === version);

    await waitFor('agent online', async () => (await api.devices()).find((d) => d.id === DEVICE && d.online));
    assert.equal((await push(sample.v1Path, sample.metadataPath)).code, 0);
    assert.equal((await deploy(1)).code, 0);
    await waitFor('v1 active', async () => (await api.device(DEVICE)).device.models.some((m) => m.version === 1));
    const watch = watchPredictions(agent.ready.apiUrl);
    t.after(() => watch.stop());
    await waitFor('v1 serving', () => watch.versions.at(-1) === 1);

    // v2's golden output is 100 m: no grey image is that far from the wall.
    const pushed = await push(sample.v2Path, metaWith('v2-wrong-golden.json', 100_000, 0.5));
    assert.equal(pushed.code, 0, pushed.stderr);
    const deployedAt = Date.now();
    assert.equal((await deploy(2)).code, 0);
    const failed = await waitFor('v2 failed its health check', async () => {
      const a = await assignment(2);
      return a?.state === 'failed' ? a : undefined;
    });
    const tookMs = Date.now() - deployedAt;
    assert.equal(failed.code, 'health-check-failed');
    assert.match(
      failed.reason ?? '',
      /output "distance"\[0\] is [\d.]+, the golden value is 100000: off by [\d.]+ \(tolerance 0\.5\)/,
    );
    assert.ok(tookMs < 10_000, `decided within seconds, took ${tookMs} ms`);

    const answersAfterFailure = watch.versions.length;
    await waitFor('more answers after the failure', () => watch.versions.length >= answersAfterFailure + 20);
    assert.deepEqual([...new Set(watch.versions)], [1], 'only v1 ever answered');
    assert.deepEqual(
      (await api.device(DEVICE)).device.models.map((m) => m.version),
      [1],
    );

    // The fix: same artifact, a health check it passes. Accepted although v2 was never accepted.
    assert.equal((await push(sample.v2Path, metaWith('v3-loose-golden.json', 0, 1e9))).code, 0);
    assert.equal((await deploy(3)).code, 0);
    await waitFor('v3 serving', () => watch.versions.at(-1) === 3);
    await watch.stop();
    assert.deepEqual(watch.errors, [], 'every answer was a 200 from a verified model');
    assert.deepEqual([...new Set(watch.versions)], [1, 3], 'v2 never answered');
    t.diagnostic(
      `health check decided in ${tookMs} ms: ${failed.reason}; answers: ${watch.versions.filter((v) => v === 1).length}×v1, ${watch.versions.filter((v) => v === 3).length}×v3`,
    );
  },
);
