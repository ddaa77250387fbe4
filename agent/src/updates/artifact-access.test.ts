import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { artifactAccess } from './artifact-access.js';
import { DownloadError } from './download.js';
import { Throttle, fetchRange } from './range-fetch.js';

const auth = { username: 'pi-1', password: 'secret' };
const FLEET = 'https://fleet.example:8460';

test('credentials go only to the fleet origin; other origins are refused before any request', () => {
  const same = artifactAccess(`${FLEET}/api/v1/artifacts/abc`, `${FLEET}/`, auth, 'auto', true);
  assert.deepEqual(same, { ok: true, transport: 'auto', auth });
  for (const url of [
    'https://evil.example:8460/a',
    'http://fleet.example:8460/a',
    'https://fleet.example:8461/a',
    'https://fleet.example.evil.example:8460/a',
    'https://fleet.example:8460@evil.example/a',
  ]) {
    const verdict = artifactAccess(url, FLEET, auth, 'auto', true);
    assert.equal(verdict.ok ? 'allowed' : verdict.code, 'foreign-origin', url);
  }
});

test('without fleet.httpUrl no credentials go over HTTP: the fleet link is used, or the update is refused', () => {
  assert.deepEqual(artifactAccess('https://anywhere.example/a', undefined, auth, 'auto', true), {
    ok: true,
    transport: 'mqtt',
  });
  assert.deepEqual(artifactAccess('https://anywhere.example/a', undefined, auth, 'mqtt', true), {
    ok: true,
    transport: 'mqtt',
  });
  const http = artifactAccess('https://anywhere.example/a', undefined, auth, 'http', true);
  assert.equal(http.ok ? 'allowed' : http.code, 'no-fleet-origin');
  assert.match(http.ok ? '' : http.reason, /fleet\.httpUrl/);
  // No credentials configured: nothing to protect, the URL is fetched as it is.
  assert.deepEqual(artifactAccess('https://anywhere.example/a', undefined, undefined, 'http', false), {
    ok: true,
    transport: 'http',
  });
});

test('a redirect is not followed: the server it points to sees no request', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const elsewhere = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(206, { 'content-range': 'bytes 0-3/4' }).end('abcd');
  });
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/artifact`;
  for (const status of [301, 302, 307, 308]) {
    const fleet = createServer((_req, res) => res.writeHead(status, { location: target }).end());
    await new Promise<void>((r) => fleet.listen(0, '127.0.0.1', r));
    t.after(() => fleet.close());
    const url = `http://127.0.0.1:${(fleet.address() as AddressInfo).port}/api/v1/artifacts/x`;
    await assert.rejects(
      fetchRange(url, { sha256: '0'.repeat(64), size: 4, mediaType: 'application/onnx' }, 0, 3, {
        requestTimeoutMs: 5000,
        throttle: new Throttle(0),
        auth,
      }),
      (err: unknown) => err instanceof DownloadError && /redirect/.test(err.message),
      `HTTP ${status}`,
    );
  }
  elsewhere.close();
  assert.equal(seen.length, 0, 'the redirect target was never asked');
});
