/**
 * The load harness (`npm run load`) run small, end to end as a user runs it: 50 simulated devices
 * against a real fleet server process, which is killed (-9) mid-run and started again on the same
 * data. The report must account for every record: what the devices made is exactly what the
 * store holds, nothing twice, every device back and its backlog drained. Counts only; the
 * timings in the report are not asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support/processes.js';

interface Report {
  ok: boolean;
  records: { made: number; acked: number; rejected: number; resent: number };
  store: { stored: number; missing: number; duplicates: number; unexpected: number };
  undrained: number;
  connect: { allOnlineS: number | null };
  restart: null | { allBackS: number | null; drainedS: number | null };
  timeline: unknown[];
}

function runLoad(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/load/cli.ts'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test(
  'load harness: 50 devices through a kill -9 and restart; the store holds exactly what they made',
  { timeout: 300_000 },
  async () => {
    const run = await runLoad([
      '--devices',
      '50',
      '--duration',
      '5',
      '--restart-at',
      '2',
      '--workers',
      '1',
      '--progress',
      '0',
      '--json',
    ]);
    assert.equal(run.code, 0, `the harness failed:\n${run.stderr}\n${run.stdout.slice(0, 4000)}`);
    const r = JSON.parse(run.stdout) as Report;
    assert.ok(r.connect.allOnlineS !== null, 'every device came online');
    assert.ok(r.records.made >= 50 * 5, `each device made records for the whole run (made ${r.records.made})`);
    assert.equal(r.records.acked, r.records.made, 'every record made was acknowledged');
    assert.equal(r.records.rejected, 0);
    assert.equal(r.undrained, 0);
    assert.equal(r.store.stored, r.records.made, 'the store holds what the devices made');
    assert.equal(r.store.missing, 0);
    assert.equal(r.store.duplicates, 0, 're-sent records are not stored twice');
    assert.equal(r.store.unexpected, 0);
    assert.ok(r.restart, 'the run restarted the server');
    assert.ok(r.restart.allBackS !== null, 'every device reconnected after the restart');
    assert.ok(r.restart.drainedS !== null, 'the backlog made while the server was down drained');
    assert.equal(r.ok, true);
    assert.ok(r.timeline.length > 0, 'the report has the per-second timeline');
  },
);

test('load harness: refuses a multi-instance run on the embedded broker, with the reason', async () => {
  const run = await runLoad(['--instances', '2', '--devices', '10']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--instances above 1 need --broker mosquitto/);
});
