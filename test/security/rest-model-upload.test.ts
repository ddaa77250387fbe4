/**
 * Security: model uploads keep the large (512 MiB) limit only with an admin token, and are
 * streamed to a staging file in the data dir (hashed on the way) instead of being held in
 * memory; a refused upload leaves nothing behind. Its own file: the rss figures must not be
 * blurred by memory another test already had the process take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { MiB, peakGrowth, pushChunked, type Pushed } from './rest-support.js';

test(
  'a model upload without an admin token is refused before its body is read; with one it streams to disk',
  { timeout: 180_000 },
  async (t) => {
    const h = await startTestFleet();
    t.after(() => h.close());
    const url = h.server.httpUrl;
    const boundary = 'edgeloop-test-boundary';
    const multipart = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    const filePartHeader = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.onnx"\r\ncontent-type: application/octet-stream\r\n\r\n`;

    const anonymous = await pushChunked(url, '/api/v1/models', 50 * MiB, multipart, filePartHeader);
    assert.equal(anonymous.status, 401);
    assert.ok(anonymous.sent < 50 * MiB, `refused before the body (client had sent ${anonymous.sent} bytes)`);

    // 150 MB authenticated, without a "name" field: read to the end (streamed to a staging file),
    // then refused. The server must not have held it in memory, nor left the staging file behind.
    const base = process.memoryUsage().rss;
    const { result, growth } = await peakGrowth(
      base,
      () =>
        new Promise<Pushed>((resolve, reject) => {
          const req = request(`${url}/api/v1/models`, {
            method: 'POST',
            headers: { ...multipart, authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'transfer-encoding': 'chunked' },
          });
          const chunk = Buffer.alloc(MiB, 0x41);
          let sent = 0;
          req.on('response', (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(parts).toString('utf8'),
                contentType: String(res.headers['content-type']),
                sent,
              }),
            );
          });
          req.on('error', reject);
          req.write(filePartHeader);
          const pump = () => {
            while (sent < 150 * MiB) {
              sent += chunk.length;
              if (!req.write(chunk)) return void req.once('drain', pump);
            }
            req.end(`\r\n--${boundary}--\r\n`);
          };
          pump();
        }),
    );
    assert.equal(result.status, 400);
    assert.match((JSON.parse(result.body) as { error: string }).error, /field "name" is missing/);
    t.diagnostic(`150 MB authenticated upload: rss growth ${(growth / MiB).toFixed(1)} MB`);
    assert.ok(
      growth < 100 * MiB,
      `server memory grew ${(growth / MiB).toFixed(0)} MB for a 150 MB upload; it must go to disk, not memory`,
    );
    const artifactsDir = join(h.dir, 'fleet', 'artifacts');
    assert.deepEqual(
      readdirSync(artifactsDir).filter((f) => f.startsWith('.staging-')),
      [],
      'the refused upload left no staging file',
    );
  },
);
