/**
 * `npm run sim`: its own fleet server, simulated cars with real agents, the sample model
 * deployed, frames predicted with a live error against the sensor, kept samples uploaded, and a
 * clean stop; bad arguments are refused with what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../support/fixtures.js';
import { REPO } from '../support/processes.js';

const SIM = join(REPO, 'scripts/sim.ts');

test(
  'npm run sim: two cars drive real agents against a fresh fleet, then stop cleanly',
  { timeout: 120_000 },
  async (t) => {
    const tmp = tempDir('npm-run-sim');
    t.after(() => tmp.cleanup());
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        SIM,
        '--devices',
        '2',
        '--duration',
        '12',
        '--sample-every',
        '2',
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        '--data',
        tmp.dir,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /deployed distance v1 to the cars/);
    assert.match(out, /phase "baseline" begins/);
    const status = [
      ...out.matchAll(/(\d+) frames predicted .*live MAE vs sensor v1 [\d.]+ mm \(\d+\); (\d+) samples at the fleet/g),
    ];
    assert.ok(status.length >= 1, out);
    const last = status.at(-1)!;
    assert.ok(Number(last[1]) > 20, `frames predicted: ${last[1]}`);
    assert.ok(Number(last[2]) > 0, `samples uploaded: ${last[2]}`);
    assert.match(out, /stopped cleanly/);
  },
);

test('npm run sim refuses bad arguments and says what is allowed', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', SIM, ...args], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
      // A login in the developer's environment must not satisfy --fleet's check.
      env: { ...process.env, EDGELOOP_MQTT_SERVER_PASSWORD: '' },
    });
  const devices = run('--devices', '0');
  assert.equal(devices.status, 2);
  assert.match(devices.stderr, /--devices must be a whole number from 1 to 200, got "0"/);
  const scenario = run('--scenario', 'no-such-world');
  assert.equal(scenario.status, 2);
  assert.match(scenario.stderr, /no shipped scenario of that name; .*one of: .*baseline/);
  const fleet = run('--fleet', 'http://127.0.0.1:9', '--token', 'x');
  assert.equal(fleet.status, 2);
  assert.match(fleet.stderr, /--fleet needs the broker login the sensors publish with/);
});
