import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetContentId, datasetManifestSchema, splitOf, type SnapshotItem } from '@edgeloop/protocol';
import { ArtifactStore } from '../registry/artifact-store.js';
import type { NewSample } from '../store/fleet-store.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { modelVersion } from '../store/store-suite/fixtures.js';
import { DatasetService } from './dataset-service.js';
import { csvFields } from './dataset-folder-reader.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** A JPEG-looking frame: the magic bytes, then something unique. */
const frame = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`frame-${n}`)]);

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-datasets-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const blobs = new ArtifactStore(join(dir, 'samples'));
  const service = new DatasetService({ store, blobs, now: () => 1_700_000_000_000 });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const addSample = async (deviceId: string, seq: number, extra: Partial<NewSample> = {}) => {
    const bytes = frame(seq);
    await blobs.put(bytes);
    await store.samples.insert({
      deviceId,
      stream: 's1',
      seq,
      model: 'distance',
      version: 1,
      ts: 1_000 * seq,
      reason: 'capture',
      prediction: seq + 0.5,
      reference: 10 * seq,
      contentType: 'image/jpeg',
      sha256: sha(bytes),
      bytes: bytes.length,
      receivedAt: 1,
      ...extra,
    });
    return sha(bytes);
  };
  return { dir, store, blobs, service, addSample };
}

async function twelveSamples(addSample: (d: string, s: number, e?: Partial<NewSample>) => Promise<string>) {
  for (let seq = 1; seq <= 12; seq++) await addSample(seq % 2 ? 'pi-1' : 'pi-2', seq);
}

test('create: samples with a reference become a snapshot with a content id, splits by hash and a manifest; again: the same one', async (t) => {
  const { store, service, addSample } = await setup(t);
  await twelveSamples(addSample);
  // No reference of its own: one joined from its telemetry record, one with none at all.
  await addSample('pi-3', 13, { reference: null });
  await addSample('pi-3', 14, { reference: null, model: 'other' });
  await store.telemetry.insertBatch('pi-3', 's1', [
    {
      seq: 13,
      ts: 13_000,
      model: 'distance',
      version: 1,
      output: [1],
      latencyMs: 1,
      features: { brightness: 0.4 },
      reference: 130,
    },
  ]);

  const first = await service.create({}, { name: 'garage', description: 'phase 1' });
  assert.equal(first.created, true);
  assert.deepEqual(first.skipped, { noReference: 1, noBytes: 0, duplicates: 0 });
  const m = datasetManifestSchema.parse(first.dataset);
  assert.equal(m.counts.total, 13);
  assert.equal(m.name, 'garage');
  assert.deepEqual(m.origin, { kind: 'selection', selection: {} });
  assert.deepEqual(m.sources, [
    { deviceId: 'pi-1', count: 6, from: 1_000, to: 11_000 },
    { deviceId: 'pi-2', count: 6, from: 2_000, to: 12_000 },
    { deviceId: 'pi-3', count: 1, from: 13_000, to: 13_000 },
  ]);
  assert.deepEqual([m.label.min, m.label.max, m.label.count], [10, 130, 13]);
  assert.equal(
    m.label.histogram.counts.reduce((a, b) => a + b),
    13,
  );
  assert.deepEqual(Object.keys(m.features), ['brightness']);
  assert.deepEqual(m.contentTypes, { 'image/jpeg': 13 });

  const { items, next } = await service.items(m.id);
  assert.equal(next, null);
  assert.equal(items.length, 13);
  assert.deepEqual(
    items.map((i) => i.file),
    [...items.map((i) => i.file)].sort(),
  );
  for (const i of items) {
    assert.equal(i.split, splitOf(i.sha256!));
    assert.equal(i.file, `images/${i.sha256}.jpg`);
  }
  assert.equal(m.id, datasetContentId(items as Array<SnapshotItem>));
  assert.equal(m.counts.train + m.counts.validation + m.counts.holdout, 13);
  assert.equal(items.find((i) => i.deviceId === 'pi-3')!.label, 130, 'the reference joined from the record');

  const again = await service.create({}, { name: 'other name' });
  assert.equal(again.created, false);
  assert.equal(again.dataset.id, m.id);
  assert.equal(again.dataset.name, 'garage');
  assert.equal((await service.list()).length, 1);

  const page = await service.items(m.id, { limit: 5 });
  assert.equal(page.items.length, 5);
  const rest = await service.items(m.id, { after: page.next!, limit: 100 });
  assert.deepEqual([...page.items, ...rest.items], items);
});

test('create: selection by device, group, window, reason, version; limit picks deterministically; include adds snapshots as they are', async (t) => {
  const { store, service, addSample } = await setup(t);
  await twelveSamples(addSample);
  await addSample('pi-3', 20, { reason: 'uncertain', version: 2 });
  await store.devices.registerEnrolled('pi-2', { group: 'garage', tags: {} });

  const count = async (sel: Parameters<DatasetService['create']>[0]) =>
    (await service.create(sel)).dataset.counts.total;
  assert.equal(await count({ devices: ['pi-1'] }), 6);
  assert.equal(await count({ group: 'garage' }), 6);
  await assert.rejects(
    service.create({ group: 'garage', devices: ['pi-1'] }),
    /no items/,
    'group and devices combine with AND',
  );
  assert.equal(await count({ from: 3_000, to: 6_000 }), 3);
  assert.equal(await count({ reasons: ['uncertain'] }), 1);
  assert.equal(await count({ model: 'distance', version: 1 }), 12);

  const a = await service.create({ limit: 5 });
  const b = await service.create({ limit: 5 });
  assert.equal(a.dataset.counts.total, 5);
  assert.equal(a.dataset.id, b.dataset.id);

  const small = await service.create({ devices: ['pi-3'] });
  const both = await service.create({ devices: ['pi-1'], include: [small.dataset.id] });
  assert.equal(both.dataset.counts.total, 7);
  const overlapping = await service.create({ devices: ['pi-3'], include: [small.dataset.id] });
  assert.equal(overlapping.dataset.id, small.dataset.id, 'the same content is the same snapshot');
  assert.equal(overlapping.skipped.duplicates, 1);

  await assert.rejects(service.create({ include: ['ds-000000000000000000000000'] }), /no dataset ds-0+ to include/);
  await assert.rejects(service.create({ from: 5, to: 5 }), /time window is empty/);
  await assert.rejects(service.create({ group: 'attic' }), /no device is in group "attic"/);
  await assert.rejects(
    service.create({ devices: ['nobody'] }),
    (e: Error & { status?: number }) =>
      e.status === 400 &&
      /the selection gives no items: 0 samples matched/.test(e.message) &&
      /widen the selection/.test(e.message),
  );
});

test('create: excludeVersions leaves out versions of the model; includeLimit draws that many from included snapshots, limit then counts the samples alone', async (t) => {
  const { service, addSample } = await setup(t);
  await twelveSamples(addSample);
  await addSample('pi-3', 20, { version: 2 });
  await addSample('pi-3', 21, { version: 3 });
  await addSample('pi-3', 22, { version: 2, model: 'other' });

  const count = async (sel: Parameters<DatasetService['create']>[0]) =>
    (await service.create(sel)).dataset.counts.total;
  assert.equal(await count({ model: 'distance', excludeVersions: [2] }), 13);
  assert.equal(await count({ model: 'distance', excludeVersions: [2, 3] }), 12);
  await assert.rejects(
    service.create({ excludeVersions: [2] }),
    (e: Error & { status?: number }) => e.status === 400 && /give the model too/.test(e.message),
  );

  const old = await service.create({ devices: ['pi-1'] }); // 6 items
  const recent = { devices: ['pi-2'] }; // 6 samples

  // Without includeLimit, limit counts the whole snapshot, included items and all.
  const whole = await service.createWithCounts({ ...recent, include: [old.dataset.id], limit: 5 });
  assert.equal(whole.outcome.dataset.counts.total, 5);
  assert.equal(whole.drawn.samples + whole.drawn.included, 5);

  const mixed = await service.createWithCounts(
    { ...recent, include: [old.dataset.id], limit: 4, includeLimit: 2 },
    { name: (d) => `${d.samples} new + ${d.included} old of ${d.sampleDevices} devices` },
  );
  assert.deepEqual(mixed.drawn, { samples: 4, included: 2, sampleDevices: 1 });
  assert.equal(mixed.outcome.dataset.counts.total, 6);
  assert.equal(mixed.outcome.dataset.name, '4 new + 2 old of 1 devices');
  const items = (await service.items(mixed.outcome.dataset.id)).items;
  assert.equal(items.filter((i) => i.deviceId === 'pi-1').length, 2);
  assert.deepEqual(mixed.outcome.dataset.origin, {
    kind: 'selection',
    selection: { ...recent, include: [old.dataset.id], limit: 4, includeLimit: 2 },
  });
  const again = await service.createWithCounts({ ...recent, include: [old.dataset.id], limit: 4, includeLimit: 2 });
  assert.equal(again.outcome.dataset.id, mixed.outcome.dataset.id, 'the picks are deterministic');
  assert.equal(again.outcome.created, false);

  // More asked than there is: all of it. 0: none.
  const all = await service.createWithCounts({ ...recent, include: [old.dataset.id], includeLimit: 100 });
  assert.deepEqual(all.drawn, { samples: 6, included: 6, sampleDevices: 1 });
  const none = await service.createWithCounts({ ...recent, include: [old.dataset.id], includeLimit: 0 });
  assert.deepEqual(none.drawn, { samples: 6, included: 0, sampleDevices: 1 });

  // An included image that is among the samples already is a duplicate, not one of the drawn.
  const overlap = await service.createWithCounts({
    devices: ['pi-1', 'pi-2'],
    include: [old.dataset.id],
    includeLimit: 3,
  });
  assert.deepEqual(overlap.drawn, { samples: 12, included: 0, sampleDevices: 2 });
  assert.equal(overlap.outcome.skipped.duplicates, 6);
});

test('create: samples without a reference value are left out and counted; none left is a clear error', async (t) => {
  const { service, addSample } = await setup(t);
  await addSample('pi-1', 1, { reference: null });
  await addSample('pi-1', 2, { reference: null });
  await assert.rejects(service.create({}), /2 samples matched, 2 without a reference value/);
});

test('export writes the plain folder; import of that folder gives the same id, into another fleet too', async (t) => {
  const { dir, service, addSample } = await setup(t);
  await twelveSamples(addSample);
  const { dataset } = await service.create({}, { name: 'garage' });
  const out = join(dir, 'export');
  const progress: number[] = [];
  const written = await service.exportTo(dataset.id, out, (done) => progress.push(done));
  assert.equal(written.id, dataset.id);
  assert.equal(progress.at(-1), 12);
  assert.deepEqual(readdirSync(out).sort(), ['images', 'labels.csv', 'labels.jsonl', 'manifest.json']);
  const lines = readFileSync(join(out, 'labels.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SnapshotItem);
  assert.equal(lines.length, 12);
  assert.deepEqual(
    lines.map((l) => l.file),
    [...lines.map((l) => l.file)].sort(),
    'sorted by file',
  );
  for (const l of lines) assert.equal(sha(readFileSync(join(out, l.file))), l.sha256);
  const csv = readFileSync(join(out, 'labels.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'file,label,split,device_id,ts');
  assert.equal(csv.length, 13);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')), dataset);

  await assert.rejects(service.exportTo(dataset.id, out), /is not empty; give a new or empty folder/);
  await assert.rejects(service.exportTo('ds-000000000000000000000000', join(dir, 'x')), /no dataset/);

  const same = await service.import(out);
  assert.equal(same.created, false);
  assert.equal(same.dataset.id, dataset.id);

  const other = await setup(t);
  const imported = await other.service.import(out);
  assert.equal(imported.created, true);
  assert.equal(imported.dataset.id, dataset.id);
  assert.equal(imported.dataset.name, 'garage');
  assert.equal(imported.dataset.origin.kind, 'import');
  assert.deepEqual(imported.dataset.counts, dataset.counts);
  const back = await other.service.items(dataset.id);
  assert.deepEqual(back.items, (await service.items(dataset.id)).items, 'provenance fields travel with the folder');
  assert.equal(await other.blobs.size(lines[0]!.sha256!), readFileSync(join(out, lines[0]!.file)).length);
});

test('import: a labels.csv-only folder imports; splits come from the hash when not given', async (t) => {
  const { dir, service } = await setup(t);
  const folder = join(dir, 'elsewhere');
  mkdirSync(join(folder, 'pics'), { recursive: true });
  const rows = ['file,label,split'];
  for (let i = 0; i < 6; i++) {
    writeFileSync(join(folder, 'pics', `p${i}.jpg`), frame(100 + i));
    rows.push(`pics/p${i}.jpg,${i * 2.5},${i === 0 ? 'holdout' : ''}`);
  }
  writeFileSync(join(folder, 'labels.csv'), `${rows.join('\n')}\n`);
  const { dataset, created } = await service.import(folder, { name: 'from a phone' });
  assert.equal(created, true);
  assert.equal(dataset.name, 'from a phone');
  assert.equal(dataset.counts.total, 6);
  const { items } = await service.items(dataset.id);
  for (const it of items) {
    const n = Number(
      readdirSync(join(folder, 'pics'))
        .find((f) => sha(readFileSync(join(folder, 'pics', f))) === it.sha256)!
        .slice(1, 2),
    );
    assert.equal(it.label, n * 2.5);
    assert.equal(it.split, n === 0 ? 'holdout' : splitOf(it.sha256!));
  }
});

test('import: a bad folder is refused whole, listing its problems with line numbers, storing nothing', async (t) => {
  const { dir, service, blobs } = await setup(t);
  const folder = join(dir, 'bad');
  mkdirSync(join(folder, 'images'), { recursive: true });
  writeFileSync(join(folder, 'images', 'a.jpg'), frame(1));
  writeFileSync(join(folder, 'images', 'b.jpg'), frame(2));
  writeFileSync(join(dir, 'secret.jpg'), frame(3));
  symlinkSync(join(dir, 'secret.jpg'), join(folder, 'images', 'link.jpg'));
  const lines = [
    { file: 'images/a.jpg', label: 1 },
    { file: 'images/missing.jpg', label: 2 },
    'not json',
    { file: 'images/b.jpg', label: 'far' },
    { file: '../secret.jpg', label: 3 },
    { file: 'images/b.jpg', label: 4, split: 'test' },
    { file: 'images/link.jpg', label: 5 },
    { file: 'images/a.jpg', label: 6 },
  ];
  writeFileSync(
    join(folder, 'labels.jsonl'),
    lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'),
  );
  await assert.rejects(service.import(folder), (e: Error & { status?: number }) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /cannot be imported, 7 problems/);
    assert.match(e.message, /labels\.jsonl line 2: image images\/missing\.jpg is missing/);
    assert.match(e.message, /line 3: not JSON/);
    assert.match(e.message, /line 4: label/);
    assert.match(e.message, /line 5: file: must be a relative path inside the dataset folder/);
    assert.match(e.message, /line 6: split/);
    assert.match(e.message, /line 7: images\/link\.jpg is not a file inside the dataset folder/);
    assert.match(e.message, /line 8: images\/a\.jpg has the same bytes as line 1 but another label/);
    assert.match(e.message, /nothing was stored/);
    return true;
  });
  assert.equal(await blobs.size(sha(frame(1))), undefined, 'no image stored');
  assert.deepEqual(await service.list(), []);

  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await assert.rejects(service.import(empty), /has neither labels\.jsonl nor labels\.csv/);
  await assert.rejects(service.import(join(dir, 'nowhere')), /is not a folder/);
  writeFileSync(join(empty, 'labels.csv'), 'path,value\nx,1\n');
  await assert.rejects(
    service.import(empty),
    /labels\.csv line 1: the header must name at least the columns file,label/,
  );
});

test('import: a manifest that does not match the content (an edited export) is refused with what to do', async (t) => {
  const { dir, service, addSample } = await setup(t);
  await twelveSamples(addSample);
  const { dataset } = await service.create({});
  const out = join(dir, 'export');
  await service.exportTo(dataset.id, out);
  const path = join(out, 'labels.jsonl');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  lines[0] = JSON.stringify({ ...(JSON.parse(lines[0]!) as object), label: 999 });
  writeFileSync(path, lines.join('\n'));
  await assert.rejects(
    service.import(out),
    /manifest\.json: id ds-\w+ does not match the content \(ds-\w+\).*remove manifest\.json/,
  );
  rmSync(join(out, 'manifest.json'));
  const edited = await service.import(out);
  assert.equal(edited.created, true);
  assert.notEqual(edited.dataset.id, dataset.id);
});

test('delete: refused while a registered version names the snapshot; otherwise removed', async (t) => {
  const { store, service, addSample } = await setup(t);
  await twelveSamples(addSample);
  const kept = (await service.create({ devices: ['pi-1'] })).dataset.id;
  const loose = (await service.create({ devices: ['pi-2'] })).dataset.id;
  await store.models.insert({ ...modelVersion('distance', 3), lineage: { datasetId: kept, trigger: 'manual' } });
  assert.deepEqual(await service.usedBy(kept), [{ name: 'distance', version: 3 }]);
  await assert.rejects(
    service.delete(kept),
    (e: Error & { status?: number }) =>
      e.status === 409 && e.message.includes(`dataset ${kept} is the training data of distance@3`),
  );
  assert.ok(await service.get(kept));
  await service.delete(loose);
  assert.equal(await service.get(loose), undefined);
  await assert.rejects(service.delete(loose), /no dataset/);
});

test('importItems: every image must be uploaded first; labels must agree', async (t) => {
  const { service, blobs } = await setup(t);
  const a = frame(1);
  await blobs.put(a);
  const item = { sha256: sha(a), label: 3, contentType: 'image/jpeg' };
  await assert.rejects(
    service.importItems([item, { ...item, sha256: sha(frame(2)) }]),
    /1 images are not uploaded .*PUT \/api\/v1\/datasets\/blobs\/\{sha256\} first/,
  );
  await assert.rejects(service.importItems([item, { ...item, label: 4 }]), /different labels/);
  await assert.rejects(service.importItems([]), /no items/);
  const done = await service.importItems([item, item], { from: 'laptop:/data' });
  assert.equal(done.created, true);
  assert.equal(done.skipped.duplicates, 1);
  assert.deepEqual(done.dataset.origin, { kind: 'import', from: 'laptop:/data' });
});

test('labels.csv from a spreadsheet: byte-order mark, CRLF line ends, quoted fields, columns in any order', async (t) => {
  const { dir, service } = await setup(t);
  assert.deepEqual(csvFields('a,"b, c","say ""hi""", d '), ['a', 'b, c', 'say "hi"', 'd']);
  const folder = join(dir, 'sheet');
  mkdirSync(folder);
  writeFileSync(join(folder, 'b.jpg'), frame(8));
  writeFileSync(join(folder, 'labels.csv'), '\uFEFFlabel,device_id,file\r\n12.5,pi-1,"b.jpg"\r\n3,,b.jpg\r\n');
  await assert.rejects(service.import(folder), /line 3: b\.jpg has the same bytes as line 2 but another label/);
  writeFileSync(join(folder, 'labels.csv'), '\uFEFFlabel,device_id,file\r\n12.5,pi-1,"b.jpg"\r\n');
  const { dataset } = await service.import(folder);
  assert.deepEqual(dataset.sources, [{ deviceId: 'pi-1', count: 1, from: null, to: null }]);
  assert.equal(dataset.label.mean, 12.5);
});
