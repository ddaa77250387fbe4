/**
 * @module manifest
 * The model manifest: everything a device must know to accept, load and feed a model version.
 * It is only ever trusted inside a signed envelope (see signing.ts); the version number is a
 * monotonic counter per model name, which is what lets agents refuse replayed older versions.
 */
import { z } from 'zod';
import { isValidId } from './topics.js';
import { postprocessingSchema, preprocessingSchema, tensorSpecSchema } from './tensors.js';

export const MANIFEST_SCHEMA = 'edgeloop.manifest/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.edgeloop.manifest+json';

/** Node's process.arch values for the devices we support. */
export const ARCHES = ['x64', 'arm64', 'arm'] as const;
export type Arch = (typeof ARCHES)[number];

const idSchema = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');
const isoDate = z.iso.datetime({ offset: true });

export const manifestSchema = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA),
    name: idSchema,
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    artifact: z.object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
      size: z.number().int().min(1),
      mediaType: z.literal('application/onnx'),
    }),
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
  })
  .refine((m) => Date.parse(m.expires) > Date.parse(m.created), { message: 'expires must be after created', path: ['expires'] });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
