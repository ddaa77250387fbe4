/**
 * @module rest/shared
 * Building blocks every REST schema uses: ids as requests must spell them, epoch timestamps, the
 * error body, and the query-string forms of numbers and flags.
 *
 * Requests are validated strictly (ids match the id pattern, numbers are bounded). Responses
 * describe what the server sends, so their strings are plain strings: data a device reported
 * before a rule tightened must not turn a listing into an error.
 */
import { z } from 'zod';
import { signedEnvelopeSchema } from '../envelope.js';
import { modelVersionSchema } from '../manifest.js';
import { ID_PATTERN } from '../topics.js';

/** A device, model, group or stream id in a request: 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit. */
export const restIdSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit');

export const epochMsSchema = z.number().int().describe('milliseconds since the Unix epoch');

/** Every 4xx and 5xx answer: one sentence saying what went wrong and what to send or do instead. */
export const errorResponseSchema = z
  .object({ error: z.string().describe('what went wrong and what to send or do instead') })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** A model version in a URL or query: plain decimal digits ("1e3" is not 1000). */
export const versionTextSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'version must be plain decimal digits')
  .transform(Number)
  .pipe(modelVersionSchema);

/** `true` or `false` in a query string. */
export const booleanTextSchema = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .pipe(z.boolean());

/** A whole number in a query string, within bounds. */
export function integerText(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .regex(/^-?[0-9]{1,16}$/, 'must be a whole number')
    .pipe(z.transform(Number))
    .pipe(z.number().int().min(min).max(max));
}

/** Free-form labels: `{"site": "plant-1"}`. */
export const stringMapSchema = z.record(z.string(), z.string());

/** A DSSE envelope (manifest, keyset, desired state), named once for the API description. */
export const restEnvelopeSchema = signedEnvelopeSchema.meta({ id: 'SignedEnvelope' });
