import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startTestPostgres, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

test('each caller gets its own database on a private server, dropped by stop()', { skip }, async () => {
  const a = await startTestPostgres();
  const b = await startTestPostgres();
  assert.ok('url' in a && 'url' in b);
  assert.notEqual(a.url, b.url);
  const port = new URL(a.url).port;
  assert.notEqual(port, '5432', "never the machine's own PostgreSQL port");
  assert.equal(new URL(a.url).hostname, '127.0.0.1');

  await query(a.url, 'CREATE TABLE only_in_a (x int)');
  const inB = await query<{ n: number }>(
    b.url,
    "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'",
  );
  assert.equal(inB[0]!.n, 0, 'databases are separate');

  await a.stop();
  await assert.rejects(query(a.url, 'SELECT 1'), /does not exist/);
  await b.stop();
});

test('the server does not run as root, and its files live in a private temp dir', { skip }, async () => {
  const db = await startTestPostgres();
  assert.ok('url' in db);
  try {
    const [row] = await query<{ dir: string }>(db.url, "SELECT current_setting('data_directory') AS dir");
    const postmaster = readFileSync(join(row!.dir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${postmaster}/status`, 'utf8'))![1];
    assert.notEqual(uid, '0', 'PostgreSQL refuses root; the harness runs it as another user');
    assert.equal(statSync(row!.dir).mode & 0o077, 0, 'the data directory is private');
  } finally {
    await db.stop();
  }
});

test('a test process killed outright leaves no server and no temp dir behind', { skip }, async () => {
  const harness = fileURLToPath(new URL('./test-postgres.ts', import.meta.url));
  const script = `
    import pg from 'pg';
    import { startTestPostgres } from ${JSON.stringify(harness)};
    const db = await startTestPostgres();
    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query("SELECT current_setting('data_directory') AS dir");
    process.stdout.write(JSON.stringify({ url: db.url, dir: rows[0].dir }) + '\\n');
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL');
  const { url, dir } = JSON.parse(out) as { url: string; dir: string };
  assert.ok(dir.includes('edgeloop-pg-'), dir);

  const deadline = Date.now() + 15_000;
  while (existsSync(dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(existsSync(dir), false, 'the temp dir is removed');
  await assert.rejects(query(url, 'SELECT 1'), /ECONNREFUSED/, 'the server is stopped');
});
