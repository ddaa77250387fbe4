/**
 * @module codec
 * Wire encoding of MQTT payloads. JSON for now; the size cap is checked before parsing so an
 * oversized payload costs nothing but the rejection.
 */
import type { z } from 'zod';
import { describeZodError, fail, ok, type Result } from './errors.js';

export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

export function encodeMessage(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message));
}

export function decodeMessage<S extends z.ZodType>(
  schema: S,
  payload: Uint8Array,
  maxBytes = MAX_PAYLOAD_BYTES,
): Result<z.infer<S>, 'too-large' | 'not-json' | 'invalid'> {
  if (payload.length > maxBytes)
    return fail('too-large', `payload of ${payload.length} bytes exceeds the ${maxBytes}-byte limit`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch {
    return fail('not-json', 'payload is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return fail('invalid', describeZodError(parsed.error));
  return ok(parsed.data);
}
