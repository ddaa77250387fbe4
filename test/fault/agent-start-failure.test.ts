/**
 * An agent that cannot start (its API port is taken) says why and exits; nothing it had
 * already opened (sensor links, buffer, timers) keeps the process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair, encodePublicKey } from '@edgeloop/protocol';
import { tempDir } from '../support/fixtures.js';
import { REPO } from '../support/processes.js';
import { writeFileSync } from 'node:fs';

test(
  'a taken API port ends start-up with a reason and exit code 1, without hanging',
  { timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('start-failure');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    t.after(() => {
      blocker.close();
      tmp.cleanup();
    });
    const port = (blocker.address() as { port: number }).port;
    const config = join(tmp.dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        deviceId: 'busy-port',
        dataDir: join(tmp.dir, 'data'),
        api: { port },
        fleet: { mqttUrl: 'mqtt://127.0.0.1:1', trustedKeys: [encodePublicKey(generateKeyPair().publicKey)] },
        sensors: { bindings: [{ name: 'tof', topic: 'x/y', payload: { format: 'number' }, model: 'distance' }] },
        sampling: { everyN: 10 },
      }),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'agent/src/cli.ts'), 'run', '--config', config],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-999);
      }, 30_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.notEqual(code, -999, `the agent hung after a failed start:\n${out}`);
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`cannot listen on 127.0.0.1:${port}.*set api.port`));
  },
);
