/**
 * @module train/test-dataset
 * A small synthetic dataset folder for the trainer's own tests: a grey wall over a beige floor,
 * the wall's bottom edge lower in the frame the closer it is, pixel noise, and labels with a
 * couple of mm of sensor noise. Quick to make and enough to show the trainer learns; the
 * simulator's renderer is what benchmarks and the sample models train on.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DATASET_FILES, splitOf, type SnapshotItem } from '@edgeloop/protocol';
import { mulberry32 } from '../reference-model.js';

export interface SyntheticOptions {
  readonly count: number;
  readonly seed: number;
  /** Distance range in mm (default 0–250). */
  readonly min?: number;
  readonly max?: number;
}

const W = 128,
  H = 96;

export async function writeSyntheticDataset(dir: string, opts: SyntheticOptions): Promise<SnapshotItem[]> {
  const rand = mulberry32(opts.seed);
  const min = opts.min ?? 0,
    max = opts.max ?? 250;
  await mkdir(path.join(dir, DATASET_FILES.images), { recursive: true });
  const items: SnapshotItem[] = [];
  for (let n = 0; n < opts.count; n++) {
    const distance = min + rand() * (max - min);
    const light = 0.85 + rand() * 0.3;
    const edge = Math.round(H * (0.85 - 0.6 * ((distance - min) / Math.max(1, max - min))));
    const raw = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) {
      const wall = y < edge;
      for (let x = 0; x < W; x++) {
        const noise = (rand() - 0.5) * 16;
        const base = wall ? [150, 150, 155] : [200, 180, 140];
        for (let c = 0; c < 3; c++) raw[(y * W + x) * 3 + c] = clamp(base[c]! * light + noise);
      }
    }
    const bytes = await sharp(raw, { raw: { width: W, height: H, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = `${DATASET_FILES.images}/${sha256}.jpg`;
    await writeFile(path.join(dir, file), bytes);
    // Box–Muller: Gaussian sensor noise, σ = 2 mm.
    const noise = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()) * 2;
    items.push({ file, label: Math.round((distance + noise) * 10) / 10, sha256, split: splitOf(sha256) });
  }
  items.sort((a, b) => a.file.localeCompare(b.file));
  await writeFile(path.join(dir, DATASET_FILES.labels), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  return items;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}
