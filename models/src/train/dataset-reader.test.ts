/**
 * @module train/dataset-reader.test
 * A broken dataset folder fails before training, naming every bad line and file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATASET_FILES } from '@edgeloop/protocol';
import { DatasetError, readDataset } from './dataset-reader.js';
import { writeSyntheticDataset } from './test-dataset.js';

let root: string;
let n = 0;
async function dataset(count = 30): Promise<{ dir: string; lines: string[] }> {
  const dir = path.join(root, `ds${n++}`);
  await writeSyntheticDataset(dir, { count, seed: 3 });
  const lines = (await readFile(path.join(dir, DATASET_FILES.labels), 'utf8')).trim().split('\n');
  return { dir, lines };
}
const writeLines = (dir: string, lines: string[]) =>
  writeFile(path.join(dir, DATASET_FILES.labels), lines.join('\n') + '\n');

describe('readDataset', () => {
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'edgeloop-reader-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads every item with its split and bytes', async () => {
    const { dir, lines } = await dataset();
    const ds = await readDataset(dir);
    assert.equal(ds.items.length, lines.length);
    assert.ok(ds.items.every((i) => i.bytes.length > 0 && /^[0-9a-f]{64}$/.test(i.sha256)));
    assert.ok(ds.items.some((i) => i.split === 'train'));
  });

  it('names the line and the file of a missing image', async () => {
    const { dir, lines } = await dataset();
    const gone = JSON.parse(lines[4]!) as { file: string };
    await unlink(path.join(dir, gone.file));
    await assert.rejects(readDataset(dir), (e: Error) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, new RegExp(`labels.jsonl line 5: image ${gone.file} is missing`));
      return true;
    });
  });

  it('lists every bad line at once: bad JSON, no label, changed file', async () => {
    const { dir, lines } = await dataset();
    const item = JSON.parse(lines[2]!) as { file: string; label: number };
    const changed = JSON.parse(lines[3]!) as { file: string };
    await writeFile(path.join(dir, changed.file), 'not the exported bytes');
    lines[0] = '{"file": ';
    lines[2] = JSON.stringify({ file: item.file });
    await writeLines(dir, lines);
    await assert.rejects(readDataset(dir), (e: Error) => {
      assert.match(e.message, /3 bad item\(s\)/);
      assert.match(e.message, /line 1: not valid JSON/);
      assert.match(e.message, /line 3: label: /);
      assert.match(e.message, new RegExp(`line 4: image ${changed.file} does not match its sha256`));
      return true;
    });
  });

  it('refuses a folder without labels.jsonl, saying what a dataset folder holds', async () => {
    const { dir } = await dataset(3);
    await unlink(path.join(dir, DATASET_FILES.labels));
    await assert.rejects(readDataset(dir), /needs labels.jsonl.*edgeloop datasets export/);
  });

  it('refuses paths that leave the folder and a folder without validation items', async () => {
    const { dir, lines } = await dataset(10);
    await writeLines(dir, [JSON.stringify({ file: '../escape.jpg', label: 1 })]);
    await assert.rejects(readDataset(dir), /line 1: file: must be a relative path/);
    await writeLines(
      dir,
      lines.map((l) => JSON.stringify({ ...JSON.parse(l), split: 'train' })),
    );
    await assert.rejects(readDataset(dir), /no validation items/);
  });

  it('refuses a manifest that is not one', async () => {
    const { dir } = await dataset(3);
    await writeFile(path.join(dir, DATASET_FILES.manifest), '{"format": "other"}');
    await assert.rejects(readDataset(dir), /manifest.json is not a dataset manifest/);
  });
});
