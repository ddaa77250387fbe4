/**
 * @module manifest
 * The model manifest: everything a device must know to accept, load and feed a model version.
 * It is only ever trusted inside a signed envelope (see signing.ts); the version number is a
 * monotonic counter per model name, which is what lets agents refuse replayed older versions.
 *
 * Two optional parts were added later and are absent from older manifests, which stay valid:
 * per-chunk hashes of the artifact (a download can check and resume chunk by chunk) and a health
 * check (golden input → output pairs a device runs before it lets the new version serve).
 */
import { z } from 'zod';
import { isValidId } from './topics.js';
import { trainingSummarySchema } from './baseline.js';
import { postprocessingSchema, preprocessingSchema, tensorSpecSchema } from './tensors.js';

export const MANIFEST_SCHEMA = 'edgeloop.manifest/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.edgeloop.manifest+json';

/** Node's process.arch values for the devices we support. */
export const ARCHES = ['x64', 'arm64', 'arm'] as const;
export type Arch = (typeof ARCHES)[number];

const idSchema = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');
const isoDate = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');

/**
 * Upper bound on per-chunk hashes: the whole manifest must fit the signed envelope (256 KiB of
 * base64), and each hash costs ~67 bytes of JSON. The registry picks chunk sizes far below this.
 */
export const MAX_ARTIFACT_CHUNKS = 2048;
/** Elements per golden tensor; keeps a health check well inside the envelope size limit. */
export const MAX_HEALTH_CHECK_ELEMENTS = 32_768;

/**
 * The highest model version number. 2^31 - 1 fits a signed 32-bit integer in every database,
 * language and JSON parser, and is still one push a second for 68 years; a version near it is a
 * typo, and accepting one would leave the name no higher version to move to.
 */
export const MAX_MODEL_VERSION = 2_147_483_647;

export const modelVersionSchema = z.number().int().min(1).max(MAX_MODEL_VERSION);

/**
 * A version typed by a person (form field, URL, flag): plain decimal digits only, so "1e3",
 * "1.0", "+5", " 5" and "0x10" are refused rather than read as some other number.
 */
export function parseModelVersion(text: string): { ok: true; value: number } | { ok: false; reason: string } {
  if (!/^[1-9][0-9]*$/.test(text))
    return {
      ok: false,
      reason: `version must be a whole number written in plain decimal digits (1 to ${MAX_MODEL_VERSION}), got "${text}"`,
    };
  const value = Number(text);
  if (text.length > 10 || value > MAX_MODEL_VERSION)
    return { ok: false, reason: `version ${text} is above the highest allowed version ${MAX_MODEL_VERSION}` };
  return { ok: true, value };
}

export const artifactSchema = z
  .object({
    sha256: sha256Hex,
    size: z.number().int().min(1),
    mediaType: z.literal('application/onnx'),
    /** Bytes covered by each entry of `chunks` (the last chunk may be shorter). */
    chunkSize: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .optional(),
    /** sha256 of each chunk, in order: lets a device reject a bad chunk instead of the whole file. */
    chunks: z.array(sha256Hex).min(1).max(MAX_ARTIFACT_CHUNKS).optional(),
  })
  .refine((a) => (a.chunkSize === undefined) === (a.chunks === undefined), {
    message: 'chunkSize and chunks must be given together',
    path: ['chunks'],
  })
  .refine((a) => a.chunks === undefined || a.chunks.length === Math.ceil(a.size / a.chunkSize!), {
    message: 'chunks must hold exactly ceil(size / chunkSize) hashes',
    path: ['chunks'],
  });

const goldenInputSchema = z
  .object({ shape: z.array(z.number().int().min(0)).max(8), data: z.array(z.number()).max(MAX_HEALTH_CHECK_ELEMENTS) })
  .refine((t) => t.data.length === t.shape.reduce((a, b) => a * b, 1), {
    message: 'data must hold exactly as many values as the shape has elements',
    path: ['data'],
  });

/**
 * Golden pairs: feeding `inputs` must produce `outputs` (element-wise, within the absolute
 * `tolerance`, all finite). JSON cannot carry NaN or Infinity, so expected values are finite.
 */
export const healthCheckSchema = z.object({
  inputs: z
    .record(z.string().min(1).max(256), goldenInputSchema)
    .refine((r) => Object.keys(r).length > 0, 'at least one input is needed'),
  outputs: z
    .record(z.string().min(1).max(256), z.object({ data: z.array(z.number()).min(1).max(MAX_HEALTH_CHECK_ELEMENTS) }))
    .refine((r) => Object.keys(r).length > 0, 'at least one expected output is needed'),
  tolerance: z.number().min(0),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

export const manifestSchema = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA),
    name: idSchema,
    version: modelVersionSchema,
    artifact: artifactSchema,
    created: isoDate,
    expires: isoDate,
    targets: z.object({
      arch: z.array(z.enum(ARCHES)).min(1),
      /** Free-form hardware classes (e.g. "raspberrypi4", "jetson-orin"); empty = any. */
      hardware: z.array(z.string().min(1).max(64)).default([]),
    }),
    inputs: z.array(tensorSpecSchema).min(1),
    outputs: z.array(tensorSpecSchema).min(1),
    preprocessing: preprocessingSchema.default({ kind: 'none' }),
    postprocessing: postprocessingSchema.default({ kind: 'raw' }),
    healthCheck: healthCheckSchema.optional(),
    /**
     * The training data's summary (baseline.json): devices detect drift against it while offline.
     * Absent (models trained elsewhere, or too large to sign): their baseline detectors stay off.
     */
    baseline: trainingSummarySchema.optional(),
    /** MAE on the validation split, what live error on the device is compared with. */
    validationMae: z.number().min(0).optional(),
  })
  .refine((m) => Date.parse(m.expires) > Date.parse(m.created), {
    message: 'expires must be after created',
    path: ['expires'],
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
