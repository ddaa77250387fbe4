import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openFleetStore } from '../store/open-fleet-store.js';
import { keptLogger } from './monitoring-test-kit.js';
import { SIGNATURE_HEADER, WebhookSender } from './webhook-sender.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-webhook-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'receiver-shares-this';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A receiver that answers 503 to the first `failures` requests, and checks every signature as a real one would. */
async function receiver(failures: number) {
  const got: Array<{ body: string; signatureValid: boolean; at: number }> = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
      const sent = Buffer.from(String(req.headers[SIGNATURE_HEADER] ?? ''));
      got.push({
        body,
        signatureValid: sent.length === expected.length && timingSafeEqual(sent, expected),
        at: Date.now(),
      });
      res.writeHead(got.length <= failures ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a webhook that fails twice is retried with backoff and delivered; the receiver verifies the HMAC', async () => {
  const store = await openFleetStore({ sqlitePath: join(dir, 'a.db') });
  const hook = await receiver(2);
  const sender = new WebhookSender({
    repo: store.monitoring,
    secret: SECRET,
    log: keptLogger().log,
    retry: { firstDelayMs: 100, maxDelayMs: 1000 },
    pollMs: 20,
  });
  sender.start();
  const d = await sender.enqueue(hook.url, 'incident.opened', { incident: { id: 'in-1' } });
  await until('delivery', async () => (await store.monitoring.getDelivery(d.id))?.status === 'delivered');
  await sender.stop();
  assert.equal(hook.got.length, 3);
  assert.ok(hook.got.every((g) => g.signatureValid));
  assert.deepEqual(JSON.parse(hook.got[2]!.body), { event: 'incident.opened', incident: { id: 'in-1' } });
  // 100 ms then 200 ms between attempts (the poll adds at most 20 ms).
  assert.ok(hook.got[1]!.at - hook.got[0]!.at >= 100);
  assert.ok(hook.got[2]!.at - hook.got[1]!.at >= 200);
  assert.equal((await store.monitoring.getDelivery(d.id))?.attempts, 3);
  await hook.close();
  await store.close();
});

test('a delivery pending at shutdown is resumed by the next sender on the same store', async () => {
  const path = join(dir, 'b.db');
  const hook = await receiver(1);
  let store = await openFleetStore({ sqlitePath: path });
  const first = new WebhookSender({
    repo: store.monitoring,
    secret: SECRET,
    log: keptLogger().log,
    retry: { firstDelayMs: 200 },
  });
  const d = await first.enqueue(hook.url, 'incident.resolved', { incident: { id: 'in-2' } });
  await until('first attempt', () => hook.got.length === 1);
  await first.drain();
  await first.stop();
  await store.close();
  assert.equal(hook.got.length, 1);

  store = await openFleetStore({ sqlitePath: path });
  const second = new WebhookSender({ repo: store.monitoring, secret: SECRET, log: keptLogger().log, pollMs: 20 });
  second.start();
  await until('resumed delivery', async () => (await store.monitoring.getDelivery(d.id))?.status === 'delivered');
  await second.stop();
  assert.equal(hook.got.length, 2);
  assert.ok(hook.got[1]!.signatureValid);
  await hook.close();
  await store.close();
});
