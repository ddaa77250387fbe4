/**
 * @module envelope
 * The shape of a signed envelope (DSSE style: payload type, base64 payload, signatures), apart
 * from the code that signs and verifies it (signing.ts, which needs node:crypto): message
 * schemas that carry envelopes stay usable in a browser.
 */
import { z } from 'zod';

export const signedEnvelopeSchema = z.object({
  payloadType: z.string().min(1).max(128),
  payload: z.base64().max(256 * 1024),
  signatures: z
    .array(z.object({ keyid: z.string().regex(/^[0-9a-f]{16}$/), sig: z.base64().max(200) }))
    .min(1)
    .max(8),
});
export type SignedEnvelope = z.infer<typeof signedEnvelopeSchema>;
