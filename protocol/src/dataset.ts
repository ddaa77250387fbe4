/**
 * @module dataset
 * The dataset folder: what a snapshot is exported as, what import reads, and what a trainer is
 * given. Plain files any tool can read:
 *
 *   manifest.json          datasetManifestSchema
 *   labels.jsonl           one datasetItemSchema per line, sorted by `file`
 *   labels.csv             file,label,split,device_id,ts (the same items, for spreadsheet tools)
 *   images/<sha256>.<ext>  the inputs, named by the sha256 of their bytes
 *
 * A snapshot's id is a hash of its content (datasetContentId in dataset-hash.ts): the same
 * images with the same labels and splits always have the same id, wherever they were made.
 *
 * Splits are a pure function of the image bytes (splitOf): an image lands in the same split in
 * every snapshot that holds it, so a holdout never leaks into a later training set, and two
 * identical frames never sit on both sides.
 */
import { z } from 'zod';
import { histogramSchema } from './baseline.js';

export const DATASET_FORMAT = 'edgeloop.dataset/1';
export const DATASET_SPLITS = ['train', 'validation', 'holdout'] as const;
export type DatasetSplit = (typeof DATASET_SPLITS)[number];

/** File names inside a dataset folder. */
export const DATASET_FILES = {
  manifest: 'manifest.json',
  labels: 'labels.jsonl',
  labelsCsv: 'labels.csv',
  images: 'images',
} as const;

/** Percent of items per split; the three add up to 100. */
export const splitRatiosSchema = z
  .object({
    train: z.number().int().min(0).max(100),
    validation: z.number().int().min(0).max(100),
    holdout: z.number().int().min(0).max(100),
  })
  .strict()
  .refine((r) => r.train + r.validation + r.holdout === 100, 'train + validation + holdout must be 100');
export type SplitRatios = z.infer<typeof splitRatiosSchema>;

export const DEFAULT_SPLIT_RATIOS: SplitRatios = { train: 80, validation: 10, holdout: 10 };

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');

/** A path relative to the dataset folder: no absolute paths, no `..`, no backslashes. */
const relativeFile = z
  .string()
  .min(1)
  .max(512)
  .regex(
    /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\-/]+$/,
    'must be a relative path inside the dataset folder (letters, digits, . _ - /; no "..")',
  );

/**
 * One labelled input. Only `file` and `label` are required, so a folder from elsewhere imports
 * with two columns; import fills `sha256` and `split`. Everything else says where a sample came
 * from and is what the lineage walk follows back to devices.
 */
export const datasetItemSchema = z
  .object({
    file: relativeFile,
    /** The reference value (the target), e.g. the distance in mm. */
    label: z.number().finite(),
    sha256: sha256Hex.optional(),
    split: z.enum(DATASET_SPLITS).optional(),
    deviceId: z.string().min(1).max(64).optional(),
    stream: z.string().min(1).max(64).optional(),
    /** The prediction record's sequence number on its device and stream. */
    seq: z.number().int().min(1).optional(),
    /** When the input was captured on the device (ms since the epoch). */
    ts: z.number().int().min(0).optional(),
    model: z.string().min(1).max(64).optional(),
    version: z.number().int().min(1).optional(),
    reason: z.string().min(1).max(32).optional(),
    prediction: z.number().finite().nullable().optional(),
    /** Monitoring features of the input (image-features.ts names). */
    features: z.record(z.string().min(1).max(64), z.number().finite()).optional(),
  })
  .strict();
export type DatasetItem = z.infer<typeof datasetItemSchema>;

/** An item as it sits in a snapshot: hash and split always known. */
export type SnapshotItem = DatasetItem & { sha256: string; split: DatasetSplit };

const summarySchema = z
  .object({
    count: z.number().int().min(0),
    min: z.number(),
    max: z.number(),
    mean: z.number(),
    std: z.number().min(0),
    histogram: histogramSchema,
  })
  .strict();
export type ValueSummary = z.infer<typeof summarySchema>;

/** What a snapshot was selected by (all optional: none means every sample). */
export const datasetSelectionSchema = z
  .object({
    model: z.string().min(1).max(64).optional(),
    version: z.number().int().min(1).optional(),
    devices: z.array(z.string().min(1).max(64)).max(10_000).optional(),
    group: z.string().min(1).max(64).optional(),
    /** Capture time window, ms since the epoch, [from, to). */
    from: z.number().int().min(0).optional(),
    to: z.number().int().min(0).optional(),
    reasons: z.array(z.string().min(1).max(32)).max(16).optional(),
    /** Datasets whose items are included as they are (e.g. the training data a version was made from). */
    include: z.array(z.string().min(1).max(64)).max(16).optional(),
    /**
     * Leaves out the samples made by these versions of `model` (needs `model`), e.g. a version
     * being rolled back, whose inputs are not what the fleet will serve.
     */
    excludeVersions: z.array(z.number().int().min(1)).max(64).optional(),
    /**
     * Items drawn at most (a deterministic sample by hash when there are more): of the whole
     * snapshot, or, when `includeLimit` is given, of the selected samples alone.
     */
    limit: z.number().int().min(1).optional(),
    /**
     * At most this many items drawn from the `include`d datasets, besides the selected samples'
     * images (a deterministic sample by hash, like `limit`), so a set can mix in a share of older
     * training data, e.g. 30 %. With it, `limit` counts the selected samples only.
     */
    includeLimit: z.number().int().min(0).optional(),
  })
  .strict();
export type DatasetSelection = z.infer<typeof datasetSelectionSchema>;

export const datasetManifestSchema = z
  .object({
    format: z.literal(DATASET_FORMAT),
    id: z.string().regex(/^ds-[0-9a-f]{24}$/, 'must be ds- and 24 hex digits'),
    name: z.string().min(1).max(128).optional(),
    description: z.string().max(4096).optional(),
    createdAt: z.number().int().min(0),
    /** How it was made: a selection over uploaded samples, or an import (the folder it came from). */
    origin: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('selection'), selection: datasetSelectionSchema }).strict(),
      z.object({ kind: z.literal('import'), from: z.string().max(1024).optional() }).strict(),
      z.object({ kind: z.literal('generated'), generator: z.string().max(256), seed: z.number().int() }).strict(),
    ]),
    /** Per source device: its items and their capture time window. `deviceId` null: no device named. */
    sources: z.array(
      z
        .object({
          deviceId: z.string().max(64).nullable(),
          count: z.number().int().min(1),
          from: z.number().int().nullable(),
          to: z.number().int().nullable(),
        })
        .strict(),
    ),
    counts: z
      .object({
        total: z.number().int().min(0),
        train: z.number().int().min(0),
        validation: z.number().int().min(0),
        holdout: z.number().int().min(0),
      })
      .strict(),
    split: z.object({ rule: z.literal('sha256'), ratios: splitRatiosSchema }).strict(),
    label: summarySchema.extend({ unit: z.string().max(16).optional() }),
    /** Monitoring features of the inputs, where the items carry them. */
    features: z.record(z.string().min(1).max(64), summarySchema),
    /** Content type → items, e.g. { "image/jpeg": 2000 }. */
    contentTypes: z.record(z.string(), z.number().int().min(0)),
  })
  .strict();
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

/**
 * The split an image with this sha256 belongs to under `ratios`: the first 32 bits of the hash
 * mod 100 against the cumulative percentages. A pure function of the bytes, so stable across
 * snapshots, machines and item order.
 */
export function splitOf(sha256: string, ratios: SplitRatios = DEFAULT_SPLIT_RATIOS): DatasetSplit {
  const bucket = Number.parseInt(sha256.slice(0, 8), 16) % 100;
  if (bucket < ratios.train) return 'train';
  if (bucket < ratios.train + ratios.validation) return 'validation';
  return 'holdout';
}

/** The file extension a dataset uses for a content type (import and export agree on it). */
export function imageExtension(contentType: string): string {
  switch (contentType) {
    case 'image/jpeg':
      return 'jpg';
    case 'image/png':
      return 'png';
    case 'image/webp':
      return 'webp';
    default:
      return 'bin';
  }
}
