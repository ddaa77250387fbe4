/**
 * @module training/training-fixtures
 * Test support: small dataset snapshots in the protocol's folder format (manifest, labels.jsonl,
 * labels.csv, images named by sha256) made from generated JPEGs, a DatasetSource serving them,
 * and the fixture trainer's command, so training is tested on real folders and a real child
 * process without the dataset service or the built-in trainer.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DATASET_FILES,
  DATASET_FORMAT,
  DEFAULT_SPLIT_RATIOS,
  datasetContentId,
  datasetManifestSchema,
  histogramOf,
  splitOf,
  valueEdges,
  type DatasetManifest,
  type SnapshotItem,
} from '@edgeloop/protocol';
import type { DatasetSource } from './dataset-source.js';
import type { TrainerCommand } from './trainer-runner.js';

/** fixtures/fixture-trainer.mjs: honours the trainer contract; `mode` makes it misbehave. */
export const FIXTURE_TRAINER: TrainerCommand = {
  name: 'fixture',
  command: [process.execPath, fileURLToPath(new URL('./fixtures/fixture-trainer.mjs', import.meta.url))],
};

export interface TestDatasetOptions {
  items?: number;
  /** Devices the items are spread over, round robin. */
  devices?: readonly string[];
  /** Capture time of the first item; each next one is 250 ms later (4 frames/s). */
  from?: number;
  /** Varies the images, so two datasets differ. */
  seed?: number;
}

/** Writes a dataset folder into `dir` and returns its manifest. */
export async function writeTestDataset(dir: string, opts: TestDatasetOptions = {}): Promise<DatasetManifest> {
  const n = opts.items ?? 30;
  const devices = opts.devices ?? ['sim-1', 'sim-2'];
  const from = opts.from ?? 1_790_000_000_000;
  const seed = opts.seed ?? 0;
  await mkdir(join(dir, DATASET_FILES.images), { recursive: true });
  // Loaded here, not at the top: tests that only serve folders made elsewhere never need it.
  const { default: sharp } = await import('sharp');
  const items: SnapshotItem[] = [];
  for (let i = 0; i < n; i++) {
    const label = 20 + ((i * 37 + seed * 11) % 230);
    const shade = Math.round((label / 250) * 255);
    const jpeg = await sharp({
      create: { width: 16, height: 12, channels: 3, background: { r: shade, g: (shade + seed) % 256, b: 128 } },
    })
      .jpeg({ quality: 90 })
      .toBuffer();
    const sha256 = createHash('sha256').update(jpeg).digest('hex');
    const file = `${DATASET_FILES.images}/${sha256}.jpg`;
    await writeFile(join(dir, file), jpeg);
    items.push({
      file,
      label,
      sha256,
      split: splitOf(sha256),
      deviceId: devices[i % devices.length]!,
      ts: from + i * 250,
    });
  }
  // Generated images of the same colour are the same bytes: one item per image.
  const unique = [...new Map(items.map((it) => [it.sha256, it])).values()].sort((a, b) => a.file.localeCompare(b.file));
  await writeFile(join(dir, DATASET_FILES.labels), unique.map((it) => JSON.stringify(it)).join('\n') + '\n');
  await writeFile(
    join(dir, DATASET_FILES.labelsCsv),
    'file,label,split,device_id,ts\n' +
      unique.map((it) => `${it.file},${it.label},${it.split},${it.deviceId},${it.ts}`).join('\n') +
      '\n',
  );
  const labels = unique.map((it) => it.label);
  const min = Math.min(...labels);
  const max = Math.max(...labels);
  const mean = labels.reduce((a, b) => a + b, 0) / labels.length;
  const std = Math.sqrt(labels.reduce((a, b) => a + (b - mean) ** 2, 0) / labels.length);
  const count = (s: string) => unique.filter((it) => it.split === s).length;
  const manifest = datasetManifestSchema.parse({
    format: DATASET_FORMAT,
    id: datasetContentId(unique),
    name: `test dataset ${seed}`,
    createdAt: from + n * 250,
    origin: { kind: 'generated', generator: 'test-datasets', seed },
    sources: devices
      .map((d) => {
        const mine = unique.filter((it) => it.deviceId === d);
        return {
          deviceId: d,
          count: mine.length,
          from: Math.min(...mine.map((it) => it.ts!)),
          to: Math.max(...mine.map((it) => it.ts!)),
        };
      })
      .filter((s) => s.count > 0),
    counts: { total: unique.length, train: count('train'), validation: count('validation'), holdout: count('holdout') },
    split: { rule: 'sha256', ratios: DEFAULT_SPLIT_RATIOS },
    label: {
      count: labels.length,
      min,
      max,
      mean,
      std,
      histogram: histogramOf(labels, valueEdges(min, max)),
      unit: 'mm',
    },
    features: {},
    contentTypes: { 'image/jpeg': unique.length },
  });
  await writeFile(join(dir, DATASET_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** A DatasetSource over folders written by writeTestDataset. */
export class FolderDatasets implements DatasetSource {
  private readonly folders = new Map<string, { dir: string; manifest: DatasetManifest }>();

  async add(dir: string, opts?: TestDatasetOptions): Promise<DatasetManifest> {
    const manifest = await writeTestDataset(dir, opts);
    this.folders.set(manifest.id, { dir, manifest });
    return manifest;
  }

  /** A dataset folder written elsewhere (e.g. by the simulator), served as it is. */
  adopt(dir: string, manifest: DatasetManifest): void {
    this.folders.set(manifest.id, { dir, manifest });
  }

  async get(id: string): Promise<DatasetManifest | undefined> {
    return this.folders.get(id)?.manifest;
  }

  async exportTo(id: string, dir: string): Promise<DatasetManifest> {
    const found = this.folders.get(id);
    if (!found) throw new Error(`no dataset ${id}`);
    await cp(found.dir, dir, { recursive: true });
    return found.manifest;
  }
}
