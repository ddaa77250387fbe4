/**
 * `npm run sim`: its own fleet server, simulated cars with real agents, the sample model
 * deployed, frames predicted with a live error against the sensor, kept samples uploaded, and a
 * clean stop; bad arguments are refused with what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { tempDir } from '../support/fixtures.js';
import { fleet, TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from '../support/fleet-client.js';
import { REPO, runCli, startServerProcess } from '../support/processes.js';

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

/** Runs scripts/sim.ts to its end; resolves with its exit code and output. */
function runSim(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIM, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

test(
  'npm run sim --fleet: cars enroll once with a running server, keep their credentials, and deliver references',
  { timeout: 180_000 },
  async (t) => {
    const tmp = tempDir('npm-run-sim-fleet');
    const server = await startServerProcess(join(tmp.dir, 'server'));
    t.after(async () => {
      await server.kill();
      tmp.cleanup();
    });
    const { httpUrl } = server.ready;
    const push = await runCli(
      ['models', 'push', SAMPLE_MODELS.v1, '--name', 'distance', '--meta', SAMPLE_METADATA_PATH],
      httpUrl,
    );
    assert.equal(push.code, 0, push.stderr);
    const args = [
      '--fleet',
      httpUrl,
      '--token',
      TEST_ADMIN_TOKEN,
      '--sensor-password',
      TEST_MQTT_SERVER.password,
      '--devices',
      '1',
      '--duration',
      '6',
      '--model',
      'distance@1',
      '--data',
      join(tmp.dir, 'sim'),
    ];
    for (const run of [1, 2]) {
      const { code, out } = await runSim(args);
      assert.equal(code, 0, `run ${run}: ${out}`);
      assert.match(out, /deployed distance v1 to the cars/);
      assert.match(out, /live MAE vs sensor v1 [\d.]+ mm/, `run ${run}: ${out}`);
    }
    const records = await fleet(httpUrl).telemetry('sim-car-1');
    assert.ok(records.filter((r) => r.reference !== null).length >= 20, `${records.length} records`);
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
