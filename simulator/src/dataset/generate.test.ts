import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  datasetContentId,
  datasetItemSchema,
  datasetManifestSchema,
  splitOf,
  FEATURE_EDGES,
  type SnapshotItem,
} from '@edgeloop/protocol';
import { generateDataset } from './generate.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sim-gen-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a generated folder is a valid dataset: manifest, labels (JSONL and CSV), images named by their hash', async () => {
  const out = join(dir, 'a');
  let progress = 0;
  const { manifest } = await generateDataset({
    scenario: 'baseline',
    count: 60,
    seed: 1,
    out,
    createdAt: 1,
    onProgress: (done) => (progress = done),
  });
  assert.equal(progress, 60);
  const onDisk = datasetManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
  assert.deepEqual(onDisk, manifest);
  assert.equal(onDisk.origin.kind, 'generated');

  const lines = readFileSync(join(out, 'labels.jsonl'), 'utf8').trim().split('\n');
  const items = lines.map((l) => datasetItemSchema.parse(JSON.parse(l)) as SnapshotItem);
  assert.equal(items.length, 60);
  assert.deepEqual(
    items.map((i) => i.file),
    items.map((i) => i.file).sort(),
    'sorted by file',
  );
  for (const item of items) {
    const bytes = readFileSync(join(out, item.file));
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.equal(item.file, `images/${sha}.jpg`);
    assert.equal(item.sha256, sha);
    assert.equal(item.split, splitOf(sha));
    assert.ok(Number.isInteger(item.label) && item.label >= 0, 'a ToF reading in whole mm');
    for (const name of Object.keys(FEATURE_EDGES)) assert.equal(typeof item.features?.[name], 'number', name);
  }
  assert.equal(readdirSync(join(out, 'images')).length, 60);
  assert.equal(manifest.id, datasetContentId(items));
  assert.equal(manifest.counts.total, 60);
  assert.equal(manifest.counts.train + manifest.counts.validation + manifest.counts.holdout, 60);
  assert.equal(
    manifest.label.histogram.counts.reduce((s, c) => s + c, 0),
    60,
  );
  assert.equal(manifest.features.brightness?.count, 60);

  const csv = readFileSync(join(out, 'labels.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'file,label,split,device_id,ts');
  assert.deepEqual(
    csv.slice(1).map((row) => row.split(',').slice(0, 3)),
    items.map((i) => [i.file, String(i.label), i.split]),
  );
});

test('the same scenario, count and seed give the same dataset id and bytes, drawn on threads or not; another seed another', async () => {
  const a = await generateDataset({
    scenario: 'beige-to-red',
    count: 20,
    seed: 4,
    out: join(dir, 'b1'),
    createdAt: 1,
    threads: 2,
  });
  const b = await generateDataset({
    scenario: 'beige-to-red',
    count: 20,
    seed: 4,
    out: join(dir, 'b2'),
    createdAt: 1,
    threads: 0,
  });
  const c = await generateDataset({ scenario: 'beige-to-red', count: 20, seed: 5, out: join(dir, 'b3'), createdAt: 1 });
  assert.equal(a.manifest.id, b.manifest.id);
  assert.equal(readFileSync(join(a.dir, 'labels.jsonl'), 'utf8'), readFileSync(join(b.dir, 'labels.jsonl'), 'utf8'));
  assert.equal(readFileSync(join(a.dir, 'manifest.json'), 'utf8'), readFileSync(join(b.dir, 'manifest.json'), 'utf8'));
  assert.notEqual(a.manifest.id, c.manifest.id);
});

test('a phase alone: the label-shift phase reaches past 250 mm', async () => {
  const { items } = await generateDataset({
    scenario: 'label-shift',
    phase: 'label-shift',
    count: 120,
    seed: 2,
    out: join(dir, 'c'),
    features: false,
  });
  assert.ok(Math.max(...items.map((i) => i.label)) > 280);
  assert.equal(items[0]!.features, undefined);
});

test('an existing, non-empty folder is refused and left as it was; a bad count is refused', async () => {
  const out = join(dir, 'full');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  await assert.rejects(
    generateDataset({ scenario: 'baseline', count: 5, seed: 1, out }),
    /already exists and is not empty; choose a new folder or remove it first/,
  );
  assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
  await assert.rejects(
    generateDataset({ scenario: 'baseline', count: 0, seed: 1, out: join(dir, 'z') }),
    /count must be/,
  );
  await assert.rejects(
    generateDataset({ scenario: 'baseline', phase: 'nope', count: 5, seed: 1, out: join(dir, 'z') }),
    /has no phase "nope"/,
  );
  assert.equal(existsSync(join(dir, 'z')), false);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('partial')),
    [],
    'no half-written folder left behind',
  );
});
