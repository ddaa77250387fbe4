import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { createRestClient, RestError } from '@edgeloop/protocol/client';
import { startFleetServer } from '../server.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const frame = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`frame-${n}`)]);

async function server(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-dataset-routes-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = createRestClient({ baseUrl: s.httpUrl, headers: { authorization: `Bearer ${s.adminToken}` } });
  const upload = (bytes: Buffer, as = sha(bytes)) =>
    client.uploadDatasetBlob({ params: { sha256: as }, body: { file: new File([new Uint8Array(bytes)], 'x.jpg') } });
  return { s, client, upload };
}

const refusal = (status: number, pattern: RegExp) => (e: unknown) =>
  e instanceof RestError && e.status === status && pattern.test(e.message);

test('datasets over REST: create from samples (again: 200, the same one), list, show, items in pages, image bytes', async (t) => {
  const { s, client, upload } = await server(t);
  for (let seq = 1; seq <= 6; seq++) {
    const bytes = frame(seq);
    await upload(bytes);
    await s.store.samples.insert({
      ...{ deviceId: 'pi-1', stream: 's1', seq, model: 'distance', version: 1, ts: seq * 1000, reason: 'capture' },
      ...{ prediction: null, reference: seq === 6 ? null : seq * 10, contentType: 'image/jpeg' },
      ...{ sha256: sha(bytes), bytes: bytes.length, receivedAt: 1 },
    });
  }
  const body = { selection: { model: 'distance' }, name: 'garage' };
  const created = await client.createDataset({ body });
  assert.equal(created.created, true);
  assert.deepEqual(created.skipped, { noReference: 1, noBytes: 0, duplicates: 0 });
  const id = created.dataset.id;
  assert.equal(created.dataset.counts.total, 5);
  const again = await client.createDataset({ body });
  assert.equal(again.created, false);
  assert.equal(again.dataset.id, id);

  assert.deepEqual(
    (await client.listDatasets()).datasets.map((d) => d.id),
    [id],
  );
  const detail = await client.getDataset({ params: { id } });
  assert.deepEqual(detail.usedBy, []);
  assert.equal(detail.dataset.name, 'garage');

  const first = await client.listDatasetItems({ params: { id }, query: { limit: 3 } });
  assert.equal(first.items.length, 3);
  const second = await client.listDatasetItems({ params: { id }, query: { after: first.next!, limit: 3 } });
  assert.equal(second.items.length, 2);
  assert.equal(second.next, null);
  const item = second.items[0]!;
  const res = await client.getDatasetFile({ params: { id, sha256: item.sha256 } });
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  assert.equal(sha(Buffer.from(await res.arrayBuffer())), item.sha256);

  await assert.rejects(
    client.getDatasetFile({ params: { id, sha256: sha(Buffer.from('nope')) } }),
    refusal(404, /has no image/),
  );
  await assert.rejects(
    client.getDataset({ params: { id: 'ds-000000000000000000000000' } }),
    refusal(404, /no dataset ds-0+; see edgeloop datasets list/),
  );
  await assert.rejects(
    client.createDataset({ body: { selection: { model: 'nothing' } } }),
    refusal(400, /the selection gives no items: 0 samples matched/),
  );
  await assert.rejects(
    client.createDataset({ body: { selection: { model: 'distance', colour: 'red' } } as never }),
    refusal(400, /invalid dataset request/),
  );
  const bad = await fetch(`${s.httpUrl}/api/v1/datasets/not-an-id`, {
    headers: { authorization: `Bearer ${s.adminToken}` },
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /must be a dataset id/);
  assert.deepEqual(s.contractViolations, []);
});

test('datasets over REST: import (images first, checked against their hash), retention refusal, delete', async (t) => {
  const { s, client, upload } = await server(t);
  const a = frame(1);
  const b = frame(2);
  await assert.rejects(upload(a, sha(b)), refusal(400, /the bytes hash to [0-9a-f]{64}, not [0-9a-f]{64}/));
  assert.deepEqual(await upload(a), { sha256: sha(a), size: a.length });
  const put = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${s.httpUrl}/api/v1/datasets/blobs/${sha(b)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}`, ...headers },
      body,
    }).then(async (r) => [r.status, ((await r.json()) as { error: string }).error] as const);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(b)]), 'b.jpg');
  form.append('name', 'x');
  assert.deepEqual(await put(form), [400, 'unexpected form field "name"; send file']);
  const [status, error] = await put(new Uint8Array(b), { 'content-type': 'image/jpeg' });
  assert.equal(status, 415);
  assert.match(error, /multipart\/form-data with a "file" field/);
  const items = [
    { sha256: sha(a), label: 10, contentType: 'image/jpeg' },
    { sha256: sha(b), label: 20, contentType: 'image/jpeg', split: 'holdout' as const },
  ];
  await assert.rejects(
    client.importDataset({ body: { items } }),
    refusal(400, /1 images are not uploaded .*PUT \/api\/v1\/datasets\/blobs/),
  );
  assert.deepEqual(await client.findMissingDatasetBlobs({ body: { sha256: [sha(a), sha(b), sha(b)] } }), {
    missing: [sha(b)],
  });
  await upload(b);
  assert.deepEqual(await client.findMissingDatasetBlobs({ body: { sha256: [sha(a), sha(b)] } }), { missing: [] });
  const imported = await client.importDataset({ body: { items, name: 'phone', from: 'laptop:/data' } });
  assert.equal(imported.created, true);
  assert.equal(imported.dataset.counts.holdout >= 1, true);
  assert.deepEqual(imported.dataset.origin, { kind: 'import', from: 'laptop:/data' });
  assert.equal((await client.importDataset({ body: { items } })).created, false);
  const other = await client.importDataset({ body: { items: [items[0]!] } });
  await assert.rejects(
    client.importDataset({ body: { items: [{ ...items[0]!, label: 'x' }] } as never }),
    refusal(400, /invalid import/),
  );

  const id = imported.dataset.id;
  await s.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: { lineage: { datasetId: id, trigger: 'manual' } },
  });
  assert.deepEqual((await client.getDataset({ params: { id } })).usedBy, [{ name: 'distance', version: 1 }]);
  await assert.rejects(
    client.deleteDataset({ params: { id } }),
    refusal(409, new RegExp(`dataset ${id} is the training data of distance@1`)),
  );
  assert.deepEqual(await client.deleteDataset({ params: { id: other.dataset.id } }), {
    id: other.dataset.id,
    deleted: true,
  });
  await assert.rejects(client.getDataset({ params: { id: other.dataset.id } }), refusal(404, /no dataset/));
  assert.deepEqual(
    (await s.store.audit.list({ action: 'dataset' })).map((e) => e.action),
    ['dataset.delete', 'dataset.import', 'dataset.import'],
  );
  assert.deepEqual(s.contractViolations, []);
});
