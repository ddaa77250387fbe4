/**
 * Security: a fleet server's or an agent's state is private to its user (folders 0700, files
 * 0600: databases hold credential hashes, telemetry and raw inputs), and one data directory has
 * one server: a second `edgeloop serve` on it is refused, naming the running one, and leaves
 * the CLI's server.json pointing at the first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import pino from 'pino';
import { startFleetServer } from '@edgeloop/fleet-server';
import { jpeg, tempDir, waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { REPO, startServerProcess } from '../support/processes.js';

const mode = (path: string) => statSync(path).mode & 0o777;

test(
  'a second fleet server on the same data directory is refused and names the running one',
  { timeout: 60_000 },
  async (t) => {
    const { dir, cleanup } = tempDir('edgeloop-lock-');
    t.after(cleanup);
    const first = await startServerProcess(join(dir, 'fleet'));
    t.after(() => first.kill());
    const serverJson = readFileSync(join(dir, 'fleet', 'server.json'), 'utf8');

    const second = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'fleet-server/src/cli/edgeloop.ts'),
        'serve',
        '--data',
        join(dir, 'fleet'),
        '--http-port',
        '0',
        '--mqtt-port',
        '0',
        '--json',
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    second.stdout.on('data', (d: Buffer) => (output += d.toString()));
    second.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // Without the lock the second one would start and run: give it a bounded time to refuse.
    const timer = setTimeout(() => second.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 1, output);
    assert.match(output, /another fleet server is already running on .*fleet/);
    assert.ok(output.includes(`pid ${first.child.pid}`), output);
    assert.ok(
      output.includes(first.ready.httpUrl) && output.includes(first.ready.mqttUrl),
      `the refusal names the running server's addresses: ${output}`,
    );
    assert.match(output, /stop it first, or give this one another directory with --data/);
    assert.equal(
      readFileSync(join(dir, 'fleet', 'server.json'), 'utf8'),
      serverJson,
      'server.json still points at the running server',
    );
    const health = await fetch(`${first.ready.httpUrl}/api/v1/health`);
    assert.equal(health.status, 200, 'the first server keeps running');

    // Once the first has stopped (even killed), the directory is free again.
    await first.kill('SIGKILL');
    const third = await startServerProcess(join(dir, 'fleet'));
    await third.kill();
  },
);

test('fleet and agent state files are 0600 and folders 0700, whatever the umask', { timeout: 60_000 }, async (t) => {
  const umask = process.umask(0o022);
  t.after(() => process.umask(umask));
  const h = await startTestFleet();
  t.after(() => h.close());
  const agent = await h.startAgent('pi-modes', { sampling: { everyN: 1, upload: 'with-sync' } });
  await h.deploySample('pi-modes');
  const res = await fetch(`${agent.apiUrl}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: new Uint8Array(await jpeg(120, 120, 120)),
  });
  assert.equal(res.status, 200);
  await waitFor(
    'the sample reached the fleet',
    () => readdirSync(join(h.dir, 'fleet', 'samples')).length > 0 || undefined,
  );

  const fleet = join(h.dir, 'fleet');
  const device = join(h.dir, 'pi-modes');
  const folders = [
    fleet,
    join(fleet, 'artifacts'),
    join(fleet, 'samples'),
    join(fleet, 'keys'),
    device,
    join(device, 'models'),
    join(device, 'samples'),
  ];
  for (const folder of folders) assert.equal(mode(folder).toString(8), '700', folder);
  const files = [
    ...['fleet.db', 'fleet.db-wal', 'fleet.db-shm', 'owner.lock', 'owner.lock.json'].map((f) => join(fleet, f)),
    ...readdirSync(join(fleet, 'artifacts')).map((f) => join(fleet, 'artifacts', f)),
    ...readdirSync(join(fleet, 'samples')).map((f) => join(fleet, 'samples', f)),
    ...['agent.db', 'agent.db-wal', 'agent.db-shm'].map((f) => join(device, f)),
    ...readdirSync(join(device, 'models')).map((f) => join(device, 'models', f)),
    ...readdirSync(join(device, 'samples')).map((f) => join(device, 'samples', f)),
  ];
  assert.ok(files.length >= 10, `found the state files: ${files.join(', ')}`);
  for (const file of files) if (statSync(file).isFile()) assert.equal(mode(file).toString(8), '600', file);
});

test(
  'a start that fails after taking the lock frees it: the same process can start again',
  { timeout: 60_000 },
  async (t) => {
    const { dir, cleanup } = tempDir('edgeloop-lock-retry-');
    t.after(cleanup);
    const silent = pino({ level: 'silent' });
    const base = { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded' as const, port: 0 } };
    // A root key file that is not a key: the start fails once the lock and database are taken.
    mkdirSync(join(dir, 'fleet', 'keys'), { recursive: true });
    writeFileSync(join(dir, 'fleet', 'keys', 'root.key'), 'garbage\n', { mode: 0o600 });
    await assert.rejects(startFleetServer(base, silent), /not a base64 ed25519 secret key/);
    rmSync(join(dir, 'fleet', 'keys', 'root.key'));
    const server = await startFleetServer(base, silent);
    await server.close();
  },
);
