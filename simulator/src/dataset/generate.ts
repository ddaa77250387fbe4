/**
 * @module dataset/generate
 * A dataset folder straight from the simulator, in exactly the format snapshots are exported in
 * (protocol dataset.ts): what the trainer is developed and benchmarked on, and what the sample
 * models are trained from. Each item is one camera frame labelled with the simulated ToF
 * READING (noise and outliers included), as a device would have recorded it.
 *
 * The folder is written under a temporary name beside `out` and renamed at the end, so a folder
 * at `out` is always complete. Same scenario, phase, count, seed and size → same images, labels
 * and dataset id.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  DATASET_FILES,
  DEFAULT_SPLIT_RATIOS,
  IMAGE_FEATURES,
  buildDatasetManifest,
  datasetContentId,
  imageFeatures,
  splitOf,
  type DatasetManifest,
  type SnapshotItem,
} from '@edgeloop/protocol';
import { hashInts, mulberry32 } from '../rng.js';
import { cpus } from 'node:os';
import { renderFrame, type SceneParams } from '../scene/render.js';
import { RenderPool } from '../scene/render-pool.js';
import { loadScenario, type Scenario } from '../scenario/load.js';
import { SceneSampler } from '../scenario/sample.js';
import { reading } from '../sensor/tof.js';

/** The reference model's input size: features are computed on the frame as the model sees it. */
export const FEATURE_SIZE = { width: 64, height: 48 } as const;
/** Capture times start here (2026-01-01T00:00:00Z), so generated folders are reproducible. */
export const GENERATED_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface GenerateOptions {
  /** A shipped scenario's name, a scenario file path, or a loaded scenario. */
  scenario: string | Scenario;
  /** Only this phase (held for the whole run); default: follow the scenario's timeline. */
  phase?: string;
  count: number;
  seed: number;
  /** The folder to create; it must not exist or be empty. */
  out: string;
  width?: number;
  height?: number;
  /** Compute monitoring features per item (default true). */
  features?: boolean;
  name?: string;
  /** Render threads (default: one per core, up to 4; 0: this thread). Same bytes either way. */
  threads?: number;
  /** Manifest createdAt (default: now). */
  createdAt?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GeneratedDataset {
  dir: string;
  manifest: DatasetManifest;
  items: SnapshotItem[];
}

export async function generateDataset(options: GenerateOptions): Promise<GeneratedDataset> {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw new RangeError(`count must be a whole number from 1 to 1,000,000, got ${count}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be a whole number, got ${seed}`);
  const scenario = typeof options.scenario === 'string' ? loadScenario(options.scenario) : options.scenario;
  const out = resolve(options.out);
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new Error(`${out} already exists and is not empty; choose a new folder or remove it first`);

  const sampler = new SceneSampler(scenario, {
    seed,
    ...(options.phase !== undefined ? { phase: options.phase } : {}),
    ...(options.width !== undefined ? { width: options.width } : {}),
    ...(options.height !== undefined ? { height: options.height } : {}),
  });
  const withFeatures = options.features ?? true;
  const partial = join(dirname(out), `.${out.split('/').at(-1)}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, DATASET_FILES.images), { recursive: true });

  const threads = options.threads ?? Math.min(4, cpus().length);
  const pool = threads > 0 ? new RenderPool(threads) : undefined;
  const render = (params: SceneParams) => (pool ? pool.renderFrame(params) : renderFrame(params));
  // Frames are drawn a few ahead (in parallel on the pool) and taken strictly in order.
  const ahead: Promise<{ frame: number; jpeg: Buffer }>[] = [];
  let nextFrame = 0;
  const WINDOW = Math.max(1, threads * 2);
  try {
    const items: SnapshotItem[] = [];
    const seen = new Set<string>();
    // Frames at the scenario's frame rate; a repeated frame (identical bytes) is skipped, as a
    // snapshot holds each image once, and the next frame taken instead.
    while (items.length < count) {
      while (ahead.length < WINDOW) {
        const f = nextFrame++;
        ahead.push(render(sampler.at(f / scenario.fps).params).then((jpeg) => ({ frame: f, jpeg })));
      }
      const { frame, jpeg } = await ahead.shift()!;
      if (frame > count * 2) throw new Error('too many identical frames; raise the scene noise');
      const t = frame / scenario.fps;
      const scene = sampler.at(t);
      const sha256 = createHash('sha256').update(jpeg).digest('hex');
      if (seen.has(sha256)) continue;
      seen.add(sha256);
      const file = `${DATASET_FILES.images}/${sha256}.jpg`;
      writeFileSync(join(partial, file), jpeg);
      const label = reading(scene.trueMm, mulberry32(hashInts(seed, 0x746f66, frame)), {
        angleDeg: scene.params.angleDeg ?? 0,
      });
      items.push({
        file,
        label,
        sha256,
        split: splitOf(sha256),
        ts: GENERATED_EPOCH_MS + Math.round(t * 1000),
        ...(withFeatures ? { features: await featuresOf(jpeg) } : {}),
      });
      options.onProgress?.(items.length, count);
    }
    items.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const manifest = manifestOf(items, scenario, options);
    writeFileSync(join(partial, DATASET_FILES.labels), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    writeFileSync(
      join(partial, DATASET_FILES.labelsCsv),
      'file,label,split,device_id,ts\n' +
        items.map((i) => `${i.file},${i.label},${i.split},,${i.ts}`).join('\n') +
        '\n',
    );
    writeFileSync(join(partial, DATASET_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(out)) rmSync(out, { recursive: true }); // empty, checked above
    mkdirSync(dirname(out), { recursive: true });
    renameSync(partial, out);
    return { dir: out, manifest, items };
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  } finally {
    await Promise.allSettled(ahead);
    await pool?.close();
  }
}

/** Monitoring features of the frame as the model sees it (decoded, resized to 64×48 with "fill"). */
async function featuresOf(jpeg: Buffer): Promise<Record<string, number>> {
  const rgb = await sharp(jpeg).resize(FEATURE_SIZE.width, FEATURE_SIZE.height, { fit: 'fill' }).raw().toBuffer();
  return imageFeatures(rgb, FEATURE_SIZE.width, FEATURE_SIZE.height, IMAGE_FEATURES);
}

function manifestOf(items: SnapshotItem[], scenario: Scenario, options: GenerateOptions): DatasetManifest {
  const size = `${options.width ?? 160}x${options.height ?? 120}`;
  return buildDatasetManifest({
    id: datasetContentId(items),
    name: options.name ?? `sim-${scenario.name}${options.phase ? `-${options.phase}` : ''}-${items.length}`,
    description: `Simulated rear-camera frames (${size} JPEG) labelled with the simulated ToF reading (mm), scenario "${scenario.name}"${options.phase ? `, phase "${options.phase}" only` : ''}.`,
    createdAt: options.createdAt ?? Date.now(),
    origin: {
      kind: 'generated',
      generator: `@edgeloop/simulator scenario=${scenario.name}${options.phase ? ` phase=${options.phase}` : ''} size=${size}`,
      seed: options.seed,
    },
    ratios: DEFAULT_SPLIT_RATIOS,
    items: items.map(({ file: _file, ...item }) => ({ ...item, contentType: 'image/jpeg' })),
    labelUnit: 'mm',
  });
}
