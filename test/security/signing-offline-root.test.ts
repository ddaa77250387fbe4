/**
 * The root key kept offline: the fleet server runs with only the root's public half.
 * Fleet server, agent and CLI are separate processes. Nothing can be signed until the operator
 * signs the first keyset where the root lives (`edgeloop keys rotate --root-key FILE`); a keyset
 * signed by any other key is refused; a later rotation re-signs what devices run and they go on
 * serving and accept manifests from the new key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { KeysResponse } from '@edgeloop/protocol';
import { sample, tempDir, waitFor } from '../support/fixtures.js';
import { fleet } from '../support/fleet-client.js';
import { runCli, startAgentProcess, startServerProcess, writeAgentConfig } from '../support/processes.js';

const DEVICE = 'sec-offline-pi';

test(
  'offline root: first keyset and a rotation signed outside the server, devices keep serving',
  { timeout: 240_000 },
  async (t) => {
    const tmp = tempDir('offline-root');
    t.after(() => tmp.cleanup());
    const rootPath = join(tmp.dir, 'root.key');
    const init = await runCli(['keys', 'init-root', '--out', rootPath, '--json'], 'http://127.0.0.1:1');
    assert.equal(init.code, 0, init.stderr);
    const root = JSON.parse(init.stdout) as { keyId: string; publicKey: string };
    assert.equal(statSync(rootPath).mode & 0o777, 0o600);

    const server = await startServerProcess(join(tmp.dir, 'fleet'), ['--root-public-key', root.publicKey]);
    t.after(() => server.kill('SIGKILL'));
    assert.equal(server.ready.publicKey, root.publicKey, 'devices are told to trust the root');
    const cli = (...args: string[]) => runCli(args, server.ready.httpUrl);
    const keys = async () => JSON.parse((await cli('keys', 'show', '--json')).stdout) as KeysResponse;

    const before = await keys();
    assert.equal(before.root.local, false);
    assert.equal(before.signingKey, null);
    assert.ok(before.pending);
    const early = await cli('models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /keys rotate --root-key/);

    // Someone without the root key cannot finish the ceremony.
    const strangerPath = join(tmp.dir, 'stranger.key');
    assert.equal((await runCli(['keys', 'init-root', '--out', strangerPath], 'http://127.0.0.1:1')).code, 0);
    const forged = await cli('keys', 'rotate', '--root-key', strangerPath);
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /unknown-root/);

    const first = await cli('keys', 'rotate', '--root-key', rootPath);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /keyset v1/);
    const v1Key = (await keys()).signingKey?.keyId;
    assert.ok(v1Key);

    assert.equal(
      (await cli('models', 'push', sample.v1Path, '--name', 'distance', '--meta', sample.metadataPath)).code,
      0,
    );
    const agent = await startAgentProcess(await writeAgentConfig(server.ready, tmp.dir, DEVICE));
    t.after(() => agent.kill('SIGKILL'));
    const api = fleet(server.ready.httpUrl);
    await waitFor('the agent online', async () => (await api.devices()).find((d) => d.id === DEVICE && d.online));
    assert.equal((await cli('deploy', 'distance@1', '--device', DEVICE)).code, 0);
    const running = async () => (await api.device(DEVICE)).device.models.find((m) => m.name === 'distance')?.version;
    await waitFor('v1 active', async () => (await running()) === 1);

    // Rotation while the device serves: it is told the new keyset and the re-signed v1.
    const second = await cli('keys', 'rotate', '--root-key', rootPath);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /keyset v2 .* 1 manifest\(s\) re-signed, 1 device\(s\) updated/);
    const after = await keys();
    assert.notEqual(after.signingKey?.keyId, v1Key);
    assert.deepEqual(
      after.retired.map((r) => r.keyId),
      [v1Key],
    );

    assert.equal(
      (await cli('models', 'push', sample.v2Path, '--name', 'distance', '--meta', sample.metadataPath)).code,
      0,
    );
    assert.equal((await cli('deploy', 'distance@2', '--device', DEVICE)).code, 0);
    await waitFor('v2, signed by the new key, active', async () => (await running()) === 2);
    const events = (await api.device(DEVICE)).events;
    assert.equal(events.filter((e) => e.state === 'rejected').length, 0, JSON.stringify(events));
    assert.equal(agent.child.exitCode, null);
  },
);
