/**
 * @module rest/datasets
 * Dataset snapshots over REST: made from a selection of uploaded samples (POST /api/v1/datasets)
 * or imported (images first, one PUT …/datasets/blobs/{sha256} each, then POST …/datasets/import
 * with the items), listed, read page by page with their images, and deleted unless a model
 * version's lineage names them. The dataset folder itself is protocol's dataset.ts; the CLI
 * writes and reads it from these routes.
 */
import { z } from 'zod';
import { datasetItemSchema, datasetManifestSchema, datasetSelectionSchema, splitRatiosSchema } from '../dataset.js';
import { integerText } from './shared.js';
import { uploadFileSchema } from './models.js';

const sha256Text = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');

export const datasetSchema = datasetManifestSchema.meta({ id: 'Dataset' });

/** A dataset id in a path: ds- and 24 hex digits. */
export const datasetIdSchema = z.string().regex(/^ds-[0-9a-f]{24}$/, 'must be a dataset id: ds- and 24 hex digits');

const namingFields = {
  name: z.string().min(1).max(128).optional(),
  description: z.string().max(4096).optional(),
  /** Percent per split for items without one (default 80/10/10). */
  splitRatios: splitRatiosSchema.optional(),
};

/** POST /api/v1/datasets: a snapshot of the samples the selection matches. */
export const datasetCreateRequestSchema = z
  .object({ selection: datasetSelectionSchema.default({}), ...namingFields })
  .strict()
  .meta({ id: 'CreateDataset' });
export type DatasetCreateRequest = z.input<typeof datasetCreateRequestSchema>;

/** What a create or import did: the snapshot, whether it is new, and what was left out. */
export const datasetOutcomeSchema = z.object({
  dataset: datasetSchema,
  /** false: the same content was stored before, and that snapshot is returned. */
  created: z.boolean(),
  skipped: z.object({
    /** Samples without any reference value (neither their own nor their record's). */
    noReference: z.number().int(),
    /** Samples whose bytes are not in the sample store. */
    noBytes: z.number().int(),
    /** Items naming an image (same bytes) already in the snapshot. */
    duplicates: z.number().int(),
  }),
});

export const datasetListResponseSchema = z.object({ datasets: z.array(datasetSchema) });

export const datasetDetailSchema = z.object({
  dataset: datasetSchema,
  /** Registered versions whose lineage names the snapshot: while there is one, it cannot be deleted. */
  usedBy: z.array(z.object({ name: z.string(), version: z.number().int() })),
});

export const datasetItemsQuerySchema = z.object({
  /** The `next` of the previous page. */
  after: sha256Text.optional(),
  limit: integerText(1, 10_000).optional(),
});

/** An item as it is in the snapshot: its hash and split always known. */
export const snapshotItemSchema = datasetItemSchema.extend({
  sha256: sha256Text,
  split: datasetItemSchema.shape.split.unwrap(),
});

export const datasetItemsResponseSchema = z.object({
  items: z.array(snapshotItemSchema),
  /** Pass as `after` for the next page; null: this was the last. */
  next: z.string().nullable(),
});

/** PUT /api/v1/datasets/blobs/{sha256}, multipart/form-data: the image, checked against the hash. */
export const datasetBlobUploadSchema = z.object({ file: uploadFileSchema });
export const datasetBlobResponseSchema = z.object({ sha256: z.string(), size: z.number().int() });

/** POST /api/v1/datasets/blobs/missing: which of these images the server does not have yet. */
export const datasetBlobsMissingRequestSchema = z.object({ sha256: z.array(sha256Text).min(1).max(10_000) }).strict();
export const datasetBlobsMissingResponseSchema = z.object({ missing: z.array(z.string()) });

/** One item of an import: the image (uploaded before) by hash, its label and its type. */
export const datasetImportItemSchema = datasetItemSchema
  .omit({ file: true })
  .extend({ sha256: sha256Text, contentType: z.string().min(1).max(128) });

/** POST /api/v1/datasets/import: items whose images were uploaded with PUT …/datasets/blobs/{sha256}. */
export const datasetImportRequestSchema = z
  .object({
    items: z.array(datasetImportItemSchema).min(1).max(1_000_000),
    /** Where the data came from (e.g. the folder's path), recorded in the manifest's origin. */
    from: z.string().max(1024).optional(),
    ...namingFields,
  })
  .strict()
  .meta({ id: 'ImportDataset' });
export type DatasetImportRequest = z.input<typeof datasetImportRequestSchema>;

export const datasetDeleteResponseSchema = z.object({ id: z.string(), deleted: z.literal(true) });

export const datasetPathSchema = z.object({ id: datasetIdSchema });
export const datasetFilePathSchema = z.object({ id: datasetIdSchema, sha256: sha256Text });
export const datasetBlobPathSchema = z.object({ sha256: sha256Text });
