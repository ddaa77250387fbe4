/**
 * @module desired-state
 * The signed desired state (Uptane's director metadata, cut down to what a model fleet needs).
 *
 * The desired state decides what a device runs, what it removes and where it downloads from, so
 * it is signed like a manifest: a DSSE envelope with its own payload type (a manifest or keyset
 * signature can never pass as a desired state, nor the other way round), signed by the fleet's
 * online signing key. The root-signed keyset travels inside the signed payload; a device reads
 * it from the still unverified payload, verifies it against its root keys (with keyset
 * anti-rollback), and only then checks the envelope's signature with a key of that keyset. After
 * a key rotation the new state carries the new keyset and is signed by the new key, so a device
 * follows a rotation in one message.
 *
 * Replay: the payload names the device and carries a per-device `counter`; a device persists the
 * last counter it accepted and refuses anything not above it (the same state delivered again,
 * byte for byte, as a retained message is after every reconnect, is not a replay).
 *
 * No expiry: a captured state cannot be replayed because of the counter, and withholding newer
 * states (a freeze) leaves a device doing exactly what an expired state would have to make it
 * do: keep serving what it has. Freshness of what runs is enforced per manifest, which expires.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { decodeMessage } from './codec.js';
import { describeZodError, fail, ok, type Result } from './errors.js';
import { desiredStateSchema, type DesiredState } from './messages.js';
import {
  openEnvelope,
  signPayload,
  signedEnvelopeSchema,
  type SignedEnvelope,
  type SigningKeyPair,
} from './signing.js';

export const DESIRED_STATE_PAYLOAD_TYPE = 'application/vnd.edgeloop.desired-state+json';

/**
 * Base64 characters of a signed desired state's payload. Its manifests are envelopes of up to
 * 256 KiB each, base64-encoded once more, so a device with many large manifests (image models
 * with health-check tensors) can pass it: signDesiredState refuses such a state, and the server
 * refuses the assignment that would make it. With the envelope around it the message stays under
 * MAX_PAYLOAD_BYTES and the broker's packet limit.
 */
export const MAX_DESIRED_STATE_PAYLOAD = 3 * 1024 * 1024;

export const signedDesiredStateSchema = signedEnvelopeSchema.extend({
  payload: z.base64().max(MAX_DESIRED_STATE_PAYLOAD),
});

export type DesiredStateRejection =
  'unsigned' | 'malformed' | 'bad-keyset' | 'unknown-key' | 'bad-signature' | 'wrong-device' | 'replay';

/** Validates and signs; throws on an invalid state (a bug on the signer's side, never sent). */
export function signDesiredState(state: DesiredState, key: SigningKeyPair): SignedEnvelope {
  const parsed = desiredStateSchema.safeParse(state);
  if (!parsed.success)
    throw new Error(
      `refusing to sign an invalid desired state for ${state.deviceId}: ${describeZodError(parsed.error)}`,
    );
  const envelope = signPayload(DESIRED_STATE_PAYLOAD_TYPE, Buffer.from(JSON.stringify(parsed.data)), key);
  if (envelope.payload.length > MAX_DESIRED_STATE_PAYLOAD) {
    throw new DesiredStateTooLargeError(
      `the desired state of ${state.deviceId} would be ${envelope.payload.length} bytes (${state.models.length} models), over the ${MAX_DESIRED_STATE_PAYLOAD} bytes devices accept; assign fewer models or shadows to this device`,
    );
  }
  return envelope;
}

/** A desired state too large for devices to accept: the server refuses the change that made it. */
export class DesiredStateTooLargeError extends Error {
  override readonly name = 'DesiredStateTooLargeError';
}

/** What arrives on the `desired` topic: a signed envelope of the desired-state type, or a refusal. */
export function decodeSignedDesiredState(payload: Uint8Array): Result<SignedEnvelope, 'unsigned' | 'malformed'> {
  const decoded = decodeMessage(signedDesiredStateSchema, payload);
  if (!decoded.ok) {
    const bare = decodeMessage(z.record(z.string(), z.unknown()), payload);
    if (bare.ok && !('signatures' in bare.value))
      return fail(
        'unsigned',
        'the desired state is not signed; this device applies only desired states signed by its fleet',
      );
    return fail('malformed', `not a signed desired state: ${decoded.reason}`);
  }
  if (decoded.value.payloadType !== DESIRED_STATE_PAYLOAD_TYPE) {
    return fail('malformed', `payload type "${decoded.value.payloadType}" is not ${DESIRED_STATE_PAYLOAD_TYPE}`);
  }
  return ok(decoded.value);
}

/** The keyset the state claims to carry, unverified: only for verifying it against the root keys. */
export function peekDesiredKeyset(envelope: SignedEnvelope): unknown {
  try {
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { keys?: unknown };
    return payload.keys;
  } catch {
    return undefined;
  }
}

/** Signature by one of `signingKeys` (from the verified keyset), schema, and addressed to `deviceId`. */
export function openDesiredState(
  envelope: SignedEnvelope,
  signingKeys: ReadonlyMap<string, Uint8Array>,
  deviceId: string,
): Result<DesiredState, DesiredStateRejection> {
  const opened = openEnvelope(envelope, DESIRED_STATE_PAYLOAD_TYPE, signingKeys, signedDesiredStateSchema);
  if (!opened.ok) {
    switch (opened.code) {
      case 'malformed':
      case 'wrong-type':
      case 'not-json':
        return fail('malformed', `signed desired state is malformed: ${opened.reason}`);
      case 'unknown-key':
        return fail(
          'unknown-key',
          `desired state is signed by key(s) ${opened.reason}, none of which its keyset authorises`,
        );
      case 'bad-signature':
        return fail('bad-signature', 'desired state signature does not verify (tampered, or signed by another key)');
    }
  }
  const parsed = desiredStateSchema.safeParse(opened.value);
  if (!parsed.success) return fail('malformed', `signed desired state is invalid: ${describeZodError(parsed.error)}`);
  if (parsed.data.deviceId !== deviceId)
    return fail('wrong-device', `desired state is for device ${parsed.data.deviceId}, this is ${deviceId}`);
  return ok(parsed.data);
}

/** sha256 of the signed payload bytes: identifies one desired state exactly. */
export function desiredStateDigest(envelope: SignedEnvelope): string {
  return createHash('sha256').update(Buffer.from(envelope.payload, 'base64')).digest('hex');
}

export interface AcceptedDesiredState {
  counter: number;
  digest: string;
}

/**
 * Anti-replay: `new` when the counter is above the last accepted one, `same` for the identical
 * state again (a retained redelivery), `replay` otherwise.
 */
export function checkDesiredCounter(
  counter: number,
  digest: string,
  last: AcceptedDesiredState | undefined,
): Result<'new' | 'same', 'replay'> {
  if (!last || counter > last.counter) return ok('new');
  if (counter === last.counter && digest === last.digest) return ok('same');
  if (counter === last.counter)
    return fail(
      'replay',
      `desired state #${counter} differs from the #${counter} already accepted; a new desired state needs a higher counter`,
    );
  return fail('replay', `desired state #${counter} is older than #${last.counter}, which this device already accepted`);
}
