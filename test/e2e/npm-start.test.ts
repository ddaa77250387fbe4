/**
 * Acceptance: `npm start` shows 3 devices with model versions and growing telemetry
 * and stops cleanly on Ctrl-C (SIGINT). How long that takes is a figure, not a pass/fail line: a
 * loaded machine must not fail the demo's test (the time is reported as a diagnostic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir, waitFor } from '../support/fixtures.js';
import { REPO } from '../support/processes.js';
import { fleet, TEST_ADMIN_TOKEN } from '../support/fleet-client.js';

test(
  'npm start: 3 devices with model versions and growing telemetry, clean Ctrl-C',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('npm-start');
    const started = Date.now();
    // Same entry point as `npm start`, with free ports and a private state dir so it never
    // collides with a demo the developer is running.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'scripts/start.ts'), '--http-port', '0', '--mqtt-port', '0', '--data', tmp.dir],
      {
        cwd: REPO,
        env: { ...process.env, EDGELOOP_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(() => {
      child.kill('SIGKILL');
      tmp.cleanup();
    });

    const httpUrl = await waitFor('the console URL', () => /console\s+(http:\/\/\S+?)\/\s/.exec(out)?.[1], 60_000);
    // The console asks a browser without a session to log in.
    const page = await fetch(`${httpUrl}/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200, 'redirected to the login page');
    assert.match(await page.text(), /Log in to the fleet console/);

    const api = fleet(httpUrl);
    const first = await waitFor(
      '3 devices running a model version with telemetry',
      async () => {
        const devices = await api.devices();
        return devices.length === 3 && devices.every((d) => d.online && d.models.length === 1 && d.records > 0)
          ? devices
          : undefined;
      },
      90_000,
      200,
    );
    t.diagnostic(`3 devices serving with telemetry ${Date.now() - started} ms after npm start`);
    assert.deepEqual(
      first.map((d) => d.models[0]!.version),
      [1, 1, 1],
    );

    await waitFor(
      'telemetry growing on every device',
      async () => {
        const now = await api.devices();
        return now.every((d) => d.records > first.find((f) => f.id === d.id)!.records) || undefined;
      },
      10_000,
      200,
    );

    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /stopped cleanly/);
  },
);
