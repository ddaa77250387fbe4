import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { startFleetServer } from '../server.js';
import { parseByteRange } from './model-routes.js';

const v1 = readFileSync(SAMPLE_MODELS.v1);
const size = v1.length;

async function server(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-routes-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const row = await s.registry.register({ name: 'distance', bytes: v1 });
  const url = `${s.httpUrl}/api/v1/artifacts/${row.sha256}`;
  const get = async (range?: string) => {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${s.adminToken}`, ...(range === undefined ? {} : { range }) },
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  const served = async () =>
    ((await (await fetch(`${s.httpUrl}/api/v1/health`)).json()) as { artifactBytesServed: number }).artifactBytesServed;
  return { s, url, get, served };
}

test('parseByteRange: single ranges, suffixes, clamping; malformed headers are ignored, ranges past the end unsatisfiable', () => {
  assert.deepEqual(parseByteRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseByteRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-10', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-5000', 1000), { start: 0, end: 999 });
  assert.deepEqual(parseByteRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseByteRange('bytes=1000-1001', 1000), 'unsatisfiable');
  assert.equal(parseByteRange('bytes=99999999999999999999-', 1000), 'unsatisfiable');
  assert.equal(parseByteRange('bytes=-0', 1000), 'unsatisfiable');
  for (const bad of [
    undefined,
    '',
    'bytes=',
    'bytes=-',
    'bytes=5-2',
    'items=0-1',
    'bytes=0-1,5-9',
    'bytes=a-b',
    'bytes=1.5-2',
  ]) {
    assert.equal(parseByteRange(bad, 1000), undefined, `${bad} is ignored`);
  }
});

test('GET /api/v1/artifacts/:sha256 answers Range with 206 + Content-Range, everything else with 200, past the end with 416', async (t) => {
  const { get, served } = await server(t);

  const whole = await get();
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(whole.headers.get('content-length'), String(size));
  assert.deepEqual(whole.body, v1);

  const first = await get('bytes=0-99');
  assert.equal(first.status, 206);
  assert.equal(first.headers.get('content-range'), `bytes 0-99/${size}`);
  assert.equal(first.headers.get('content-length'), '100');
  assert.deepEqual(first.body, v1.subarray(0, 100));

  const tail = await get(`bytes=${size - 16}-`);
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), `bytes ${size - 16}-${size - 1}/${size}`);
  assert.deepEqual(tail.body, v1.subarray(size - 16));

  const clamped = await get(`bytes=${size - 10}-${size + 1000}`);
  assert.equal(clamped.headers.get('content-range'), `bytes ${size - 10}-${size - 1}/${size}`);
  assert.equal(clamped.body.length, 10);

  const suffix = await get('bytes=-5');
  assert.deepEqual([suffix.status, suffix.body], [206, v1.subarray(size - 5)]);

  const beyond = await get(`bytes=${size}-${size + 10}`);
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);
  assert.match(JSON.parse(beyond.body.toString()).error, /starts beyond the artifact's \d+ bytes/);

  const malformed = await get('bytes=10-5');
  assert.equal(malformed.status, 200);
  assert.equal(malformed.body.length, size);

  assert.equal(await served(), size + 100 + 16 + 10 + 5 + size, 'health counts the bytes actually served');
});

test('unknown or malformed artifact names are 404', async (t) => {
  const { s } = await server(t);
  for (const name of ['0'.repeat(64), '..%2Ffleet.db', 'abc']) {
    const res = await fetch(`${s.httpUrl}/api/v1/artifacts/${name}`, {
      headers: { range: 'bytes=0-1', authorization: `Bearer ${s.adminToken}` },
    });
    assert.equal(res.status, 404, name);
    assert.match(((await res.json()) as { error: string }).error, /no artifact/);
  }
});
