/**
 * Acceptance: power cut during an update download. A multi-megabyte v2 is downloaded
 * slowly (bandwidth cap, small chunks); the agent is killed -9 once a good part of it is verified
 * on disk and the fleet server has seen the progress. After a restart the agent resumes the
 * download by itself from the last verified chunk (the server serves far less than twice the
 * model), activates v2, and at every moment it was up it answered predictions with v1 or v2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReferenceModel } from '@edgeloop/models';
import { sha256Hex } from '@edgeloop/protocol';
import { sample, tempDir, waitFor } from '../support/fixtures.js';
import { getJson, fleet } from '../support/fleet-client.js';
import { runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';
import { watchPredictions } from './prediction-watch.js';

const DEVICE = 'update-kill-pi-1';
/** ~2.3 MB: same input and output as the sample, a much wider hidden layer. */
const big = buildReferenceModel({ seed: 42, hidden: 1000 });
const RATE = 400_000; // bytes per second: ~6 s for the whole model

test(
  'a kill -9 mid-download resumes from the last verified chunk and never leaves the device without a verified model',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('update-kill');
    const server = await startServerProcess(join(tmp.dir, 'fleet'));
    const api = fleet(server.ready.httpUrl);
    const config = await writeAgentConfig(server.ready, tmp.dir, DEVICE, {
      updates: { chunkSize: 64 * 1024, maxBytesPerSecond: RATE },
      log: { level: 'debug' },
    });
    let agent = await startAgentProcess(config);
    t.after(async () => {
      await agent.kill('SIGKILL');
      await server.kill('SIGKILL');
      tmp.cleanup();
    });
    const served = async () =>
      (await getJson<{ artifactBytesServed: number }>(`${server.ready.httpUrl}/api/v1/health`)).artifactBytesServed;
    const push = (file: string) =>
      runCli(['models', 'push', file, '--name', 'distance', '--meta', sample.metadataPath], server.ready.httpUrl);
    const deploy = (version: number) =>
      runCli(['deploy', `distance@${version}`, '--device', DEVICE], server.ready.httpUrl);

    await waitFor('agent online', async () => (await api.devices()).find((d) => d.id === DEVICE && d.online));
    assert.equal((await push(sample.v1Path)).code, 0);
    assert.equal((await deploy(1)).code, 0);
    await waitFor('v1 active', async () => (await api.device(DEVICE)).device.models.some((m) => m.version === 1));
    // From here on, every answer must come from a verified model.
    const watch = watchPredictions(agent.ready.apiUrl);
    t.after(() => watch.stop());
    await waitFor('v1 serving', () => watch.versions.at(-1) === 1);
    const servedForV1 = await served();

    const bigPath = join(tmp.dir, 'distance-big.onnx');
    writeFileSync(bigPath, big);
    assert.equal((await push(bigPath)).code, 0);
    assert.equal((await deploy(2)).code, 0);

    // Kill once a quarter is verified on disk and the server has seen a progress report.
    const sidecar = join(tmp.dir, DEVICE, 'models', `distance-v2-${sha256Hex(big).slice(0, 16)}.onnx.partial.json`);
    const verifiedOnDisk = () =>
      existsSync(sidecar) ? (JSON.parse(readFileSync(sidecar, 'utf8')) as { verifiedBytes: number }).verifiedBytes : 0;
    await waitFor('a quarter of v2 verified on disk', () => verifiedOnDisk() >= big.length / 4, 30_000);
    const seen = await waitFor(
      'the server to see download progress',
      async () =>
        (await api.device(DEVICE)).events.find(
          (e) => e.version === 2 && e.state === 'downloading' && /received [1-9]/.test(e.reason ?? ''),
        ),
      10_000,
    );
    watch.down();
    await agent.kill('SIGKILL');
    const verifiedAtKill = verifiedOnDisk();
    assert.ok(
      verifiedAtKill < big.length,
      'the kill landed before the download finished; otherwise this test proves nothing',
    );

    agent = await startAgentProcess(config);
    watch.up(agent.ready.apiUrl);
    await waitFor('v2 serving after the restart', () => watch.versions.at(-1) === 2, 60_000);
    await waitFor('v2 reported active', async () =>
      (await api.device(DEVICE)).device.models.some((m) => m.name === 'distance' && m.version === 2),
    );
    const afterDone = watch.versions.length;
    await waitFor('a few more v2 answers', () => watch.versions.length >= afterDone + 10);
    await watch.stop();

    // The restarted agent's first Range request starts where the verified bytes ended.
    const starts = agent
      .logs()
      .split('\n')
      .flatMap((line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; start?: number };
          return entry.msg === 'requesting artifact range' && typeof entry.start === 'number' ? [entry.start] : [];
        } catch {
          return [];
        }
      });
    assert.equal(
      starts[0],
      verifiedAtKill,
      `resumed at the verified ${verifiedAtKill} bytes, not at 0 (range starts: ${starts.slice(0, 5).join(', ')}…)`,
    );
    const servedForV2 = (await served()) - servedForV1;
    assert.ok(
      servedForV2 < 2 * big.length,
      `served ${servedForV2} bytes for a ${big.length}-byte model: must be less than twice`,
    );
    assert.ok(
      servedForV2 < big.length + 512 * 1024,
      `at most the in-flight chunks are fetched twice, served ${servedForV2} for ${big.length}`,
    );

    assert.deepEqual(watch.errors, [], 'every answer while the agent was up was a 200 from a verified model');
    assert.ok(
      watch.versions.every((v) => v === 1 || v === 2),
      `only versions 1 and 2 answered: ${[...new Set(watch.versions)].join(', ')}`,
    );
    const firstV2 = watch.versions.indexOf(2);
    assert.ok(
      watch.versions.slice(firstV2).every((v) => v === 2),
      'once v2 answered, v1 never came back',
    );
    assert.equal(watch.versions.at(-1), 2);
    t.diagnostic(
      `model ${big.length} B; verified at kill ${verifiedAtKill} B; served for v2 ${servedForV2} B; progress seen by the server: "${seen.reason}"; ` +
        `answers: ${watch.versions.filter((v) => v === 1).length}×v1, ${watch.versions.filter((v) => v === 2).length}×v2, ${watch.refusedWhileDown} refused while down`,
    );
  },
);
