/**
 * `edgeloop serve` as an operator runs it: SIGTERM (systemd, docker stop, Ctrl-C) ends it with a
 * "fleet server stopped" line and exit 0, and the server file the CLI reads goes with it, so a
 * later CLI call is not sent to a dead address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir } from '../support/fixtures.js';
import { REPO, startServerProcess } from '../support/processes.js';

test('edgeloop serve logs "fleet server stopped" on SIGTERM and exits 0', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('serve-stop');
  t.after(() => tmp.cleanup());
  const server = await startServerProcess(join(tmp.dir, 'fleet'));
  t.after(() => server.kill('SIGKILL'));
  const code = await server.kill('SIGTERM');
  assert.equal(code, 0, server.logs());
  const stopped = server
    .logs()
    .split('\n')
    .filter((line) => line.includes('"msg":"fleet server stopped"'));
  assert.equal(stopped.length, 1, `one shutdown line in:\n${server.logs()}`);
});

test(
  'edgeloop serve in a directory removes ./.edgeloop/server.json when it stops; the data dir keeps its copy',
  { timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('serve-file');
    t.after(() => tmp.cleanup());
    const child = spawn(
      process.execPath,
      [join(REPO, 'fleet-server/bin/edgeloop.js'), 'serve', '--http-port', '0', '--mqtt-port', '0', '--json'],
      {
        cwd: tmp.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => line.includes('"event":"ready"') && resolve());
      void exited.then((code) => reject(new Error(`serve exited with ${code} before it was ready:\n${output}`)));
    });

    const cliFile = join(tmp.dir, '.edgeloop', 'server.json');
    const dataFile = join(tmp.dir, '.edgeloop', 'fleet', 'server.json');
    assert.equal((JSON.parse(readFileSync(cliFile, 'utf8')) as { pid: number }).pid, child.pid);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /"msg":"fleet server stopped"/);
    assert.equal(existsSync(cliFile), false, 'the file the CLI reads is gone with its server');
    assert.equal(existsSync(dataFile), true, '<data>/server.json stays');
  },
);
