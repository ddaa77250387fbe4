/**
 * protocol's fetchWithCa against an HTTPS server with the lab CA: what the CLI and the agent
 * send to a fleet with a private CA (JSON, multipart uploads, ranges), and the refusal of a
 * server from another CA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { fetchWithCa, isTlsVerifyError } from '@edgeloop/protocol';
import { loadTlsMaterial } from './tls-material.js';

test('fetchWithCa: requests and bodies as fetch does, only to a server the given CA signed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-https-fetch-'));
  const log = pino({ level: 'silent' });
  const ours = await loadTlsMaterial({ mode: 'self-signed', subjectAltNames: [] }, join(dir, 'a'), log);
  const other = await loadTlsMaterial({ mode: 'self-signed', subjectAltNames: [] }, join(dir, 'b'), log);
  const server: Server = createServer({ key: ours.key, cert: ours.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/moved') return void res.writeHead(302, { location: '/x' }).end();
      res.writeHead(206, { 'content-type': 'application/json', 'x-echo': req.headers['x-test'] ?? '' });
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'],
          chunked: req.headers['transfer-encoding'] === 'chunked',
          length: Buffer.concat(chunks).length,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `https://localhost:${(server.address() as { port: number }).port}`;

  const json = await fetchWithCa(
    `${base}/x`,
    { method: 'POST', headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"a":1}' },
    ours.caPem,
  );
  assert.equal(json.status, 206);
  assert.equal(json.headers.get('x-echo'), 'yes');
  assert.deepEqual(await json.json(), {
    method: 'POST',
    type: 'application/json',
    chunked: false,
    length: 7,
    body: '{"a":1}',
  });

  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(1000)]), 'm.onnx');
  const upload = (await (await fetchWithCa(`${base}/upload`, { method: 'POST', body: form }, ours.caPem)).json()) as {
    type: string;
    length: number;
    chunked: boolean;
  };
  assert.match(upload.type, /^multipart\/form-data; boundary=/);
  assert.ok(upload.length > 1000);
  assert.equal(upload.chunked, true, 'a form (a model file opened from disk) is streamed, not read into memory first');

  const moved = await fetchWithCa(`${base}/moved`, {}, ours.caPem);
  assert.equal(moved.status, 302, 'redirects are not followed');

  const empty = await fetchWithCa(`${base}/empty`, {}, ours.caPem);
  assert.equal(empty.status, 204);

  const refused = await fetchWithCa(`${base}/x`, {}, other.caPem).then(
    () => undefined,
    (err: Error & { cause?: unknown }) => err,
  );
  assert.ok(
    refused instanceof TypeError && isTlsVerifyError(refused.cause),
    `a server of another CA is refused: ${String(refused)}`,
  );
  const controller = new AbortController();
  controller.abort(new Error('gave up'));
  await assert.rejects(fetchWithCa(`${base}/x`, { signal: controller.signal }, ours.caPem));
});
