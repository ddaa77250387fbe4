/**
 * Security: anonymous memory exhaustion over REST. POST /api/v1/enroll is public; it used to
 * share the 512 MiB limit meant for model uploads, and the whole body was buffered before the
 * JSON was looked at (four parallel 530 MB chunked bodies took the server from 321 MB to 3.9 GB).
 * Now a caller without credentials gets at most 64 KiB, an authenticated JSON route 1 MiB, both
 * counted while streaming, and a declared oversize body is refused before it is read. Model uploads keep the large limit, only with an admin token, and go
 * to a staging file on disk, not into memory (rest-model-upload.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { MiB, peakGrowth, pushChunked } from './rest-support.js';

test(
  'four parallel 200 MB chunked bodies to the public enroll route are refused early, memory stays flat',
  { timeout: 180_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    const url = h.server.httpUrl;
    // Positive control: a normal enrollment body is read and answered (bad token → 401 from the route).
    const normal = await fetch(`${url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'nope', deviceId: 'pi-1' }),
    });
    assert.equal(normal.status, 401);

    const base = process.memoryUsage().rss;
    const { result, growth } = await peakGrowth(base, () =>
      Promise.all(
        Array.from({ length: 4 }, () =>
          pushChunked(url, '/api/v1/enroll', 200 * MiB, { 'content-type': 'application/json' }, '{"token": "'),
        ),
      ),
    );
    for (const r of result) {
      assert.equal(r.status, 413, `refused for its size (got ${r.status} ${r.body})`);
      assert.match(r.contentType, /^application\/json/);
      assert.match(
        (JSON.parse(r.body) as { error: string }).error,
        /exceeds 65536 bytes, the limit for requests without credentials/,
      );
      assert.ok(
        r.sent < 100 * MiB,
        `the answer came long before the 200 MB were sent (client had sent ${r.sent} bytes)`,
      );
    }
    t.diagnostic(
      `4 × 200 MB chunked to /enroll: rss growth ${(growth / MiB).toFixed(1)} MB; client had sent ${result.map((r) => (r.sent / MiB).toFixed(1)).join(', ')} MB when refused`,
    );
    assert.ok(
      growth < 100 * MiB,
      `server memory grew ${(growth / MiB).toFixed(0)} MB while being sent 4 × 200 MB; must stay under 100 MB`,
    );
    // Still serving.
    assert.equal((await fetch(`${url}/api/v1/health`)).status, 200);
  },
);

test('a content-length announcing a large body is refused before any of it is read', { timeout: 60_000 }, async (t) => {
  const h = await startTestFleet();
  t.after(() => h.close());
  const { hostname, port } = new URL(h.server.httpUrl);
  // 100 MB announced (under the old 512 MiB limit), 1 KiB sent: an answer means the server did not wait for the rest.
  const answer = await new Promise<{ status: number; body: string; connection: string }>((resolve, reject) => {
    const req = request({
      hostname,
      port,
      path: '/api/v1/enroll',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(100 * MiB) },
    });
    const guard = setTimeout(
      () => reject(new Error('no answer: the server is waiting for the announced 100 MB body')),
      20_000,
    );
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        clearTimeout(guard);
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString('utf8'),
          connection: String(res.headers.connection ?? ''),
        });
      });
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(1024, 0x20));
  });
  assert.equal(answer.status, 413);
  assert.match((JSON.parse(answer.body) as { error: string }).error, /exceeds 65536 bytes/);
  assert.equal(answer.connection, 'close', 'the connection is closed so the rest of the body is not read');

  // Authenticated JSON routes get 1 MiB (a deployment may name 10,000 devices), counted the same way.
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const big = await pushChunked(h.server.httpUrl, '/api/v1/deployments', 20 * MiB, admin, '{"devices": ["');
  assert.equal(big.status, 413);
  assert.match((JSON.parse(big.body) as { error: string }).error, /exceeds 1048576 bytes, the limit for JSON requests/);
  const devices = Array.from({ length: 10_000 }, (_, i) => `device-${String(i).padStart(57, '0')}`);
  const fullFleet = await fetch(`${h.server.httpUrl}/api/v1/deployments`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ model: 'distance', version: 1, devices }),
  });
  // The largest deployment the schema allows (10,000 64-character ids) fits: read, then refused for unknown devices.
  assert.equal(fullFleet.status, 404);
  assert.match(((await fullFleet.json()) as { error: string }).error, /device/);
  const under = await fetch(`${h.server.httpUrl}/api/v1/admin-tokens`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'x'.repeat(100 * 1024) }),
  });
  assert.equal(under.status, 400, 'under the cap: read, then refused for the over-long name');
  assert.match(((await under.json()) as { error: string }).error, /name/);
});
