/**
 * @module cli/server-file.test
 * A `./.edgeloop/server.json` left by a server that is gone (crash, kill -9) must not leave the
 * operator guessing: the connection error names the file, says whether its writer still runs,
 * and what to do.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SHIM = fileURLToPath(new URL('../../bin/edgeloop.js', import.meta.url));

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function runCliIn(cwd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SHIM, ...args],
      { cwd, env: { ...process.env, EDGELOOP_SERVER: '', EDGELOOP_TOKEN: '' } },
      (error, _stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stderr });
      },
    );
  });
}

test(
  'a stale server file: the error names the file, says its server is gone and what to do',
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-stale-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, '.edgeloop', 'server.json');
    mkdirSync(join(dir, '.edgeloop'));
    const url = `http://127.0.0.1:${await closedPort()}`;
    const pid = await deadPid();
    writeFileSync(file, JSON.stringify({ httpUrl: url, mqttUrl: 'mqtt://127.0.0.1:1', pid, token: 'stale' }));

    const result = await runCliIn(dir, ['devices']);
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(`cannot reach the fleet server at ${url} (ECONNREFUSED)`), result.stderr);
    assert.ok(
      result.stderr.includes(
        `the address in ${file}, written by pid ${pid}, which is no longer running: the file is stale. Start the server again`,
      ),
      result.stderr,
    );
    assert.ok(
      result.stderr.includes(`delete ${file}, or point --server / EDGELOOP_SERVER at a running server`),
      result.stderr,
    );
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack trace');

    // Without a recorded pid the file is still named.
    writeFileSync(file, JSON.stringify({ httpUrl: url }));
    const noPid = await runCliIn(dir, ['devices']);
    assert.equal(noPid.code, 1);
    assert.ok(noPid.stderr.includes(`the address in ${file}. Start the server again`), noPid.stderr);
  },
);
