/**
 * @module sample-codec
 * A raw model input kept for retraining (e.g. the JPEG a camera produced), with what the model
 * predicted and what the sensor said. Binary payload: 0xE1 · 0x03 · msgpack(fields + bytes), so
 * an image is not inflated by base64.
 */
import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import { describeZodError, fail, ok, type Result } from './errors.js';
import { isValidId } from './topics.js';

const MARKER = 0xe1;
const FORMAT = 3;
export const MAX_SAMPLE_BYTES = 4 * 1024 * 1024;

/** capture: kept during a capture window the fleet opened (edgeloop samples capture; the drift monitor). */
export const SAMPLE_REASONS = ['every-nth', 'large-error', 'low-confidence', 'capture'] as const;

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');

export const sampleSchema = z.object({
  v: z.literal(1),
  stream: id,
  /** Position in the device's sample outbox, echoed in the ack. */
  id: z.number().int().min(1),
  /** The prediction record this input belongs to. */
  seq: z.number().int().min(1),
  model: id,
  version: z.number().int().min(1),
  ts: z.number().int().min(0),
  reason: z.enum(SAMPLE_REASONS),
  prediction: z.number().nullable(),
  reference: z.number().nullable(),
  contentType: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'must be a MIME type such as image/jpeg'),
  data: z
    .instanceof(Uint8Array)
    .refine((d) => d.length > 0 && d.length <= MAX_SAMPLE_BYTES, `must be 1..${MAX_SAMPLE_BYTES} bytes`),
});
export type Sample = z.infer<typeof sampleSchema>;

export function encodeSample(sample: Sample): Buffer {
  return Buffer.concat([Buffer.from([MARKER, FORMAT]), pack(sample)]);
}

export function decodeSample(payload: Uint8Array): Result<Sample, 'too-large' | 'bad-encoding' | 'invalid'> {
  if (payload.length > MAX_SAMPLE_BYTES + 64 * 1024)
    return fail('too-large', `sample payload of ${payload.length} bytes is too large`);
  if (payload[0] !== MARKER || payload[1] !== FORMAT)
    return fail('bad-encoding', 'not an EdgeLoop sample payload (expected marker 0xE1 0x03)');
  let raw: unknown;
  try {
    raw = unpack(payload.subarray(2));
  } catch (err) {
    return fail('bad-encoding', `sample payload is corrupt: ${(err as Error).message}`);
  }
  const parsed = sampleSchema.safeParse(raw);
  return parsed.success ? ok(parsed.data) : fail('invalid', describeZodError(parsed.error));
}
