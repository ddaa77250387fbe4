/**
 * @module chunk-transfer
 * Model artifacts over MQTT, for devices that cannot reach the fleet's HTTP server (AWS IoT's MQTT
 * file delivery, REFERENCE §3): the device asks for a byte range on its `fetch` channel; the server
 * answers on the device's `chunk` channel with blocks of at most 64 KiB (the limit is 128 KiB).
 *
 * fetch (device → server, JSON): `{v: 1, sha256, offset, length}` — one range of the artifact,
 * at most MAX_FETCH_BYTES. The server answers it with consecutive blocks starting at `offset`,
 * each CHUNK_BLOCK_BYTES long except the last. A device re-requests the blocks it is missing with
 * further fetches (one per missing run), so a lost block costs one block, not the range.
 *
 * chunk (server → device, binary): 0xEC · kind · sha256 (32 raw bytes) · offset (u64 BE) · body
 *   kind 1 data:    body = the artifact bytes at offset (1 … MAX_CHUNK_BLOCK_BYTES)
 *   kind 2 refused: body = UTF-8 reason (artifact not assigned to this device, range out of bounds…)
 *   kind 3 queued:  body = UTF-8 note; the server caps concurrent downloads and will answer later
 *
 * Integrity is not this layer's business: the device checks every block against the manifest's
 * signed chunk hashes and the whole file against the signed sha256 (agent updates/chunked-download.ts),
 * exactly as for HTTP. This layer only refuses what is malformed or larger than the protocol allows.
 */
import { z } from 'zod';
import { fail, ok, type Result } from './errors.js';

/** Size of the blocks a server sends. */
export const CHUNK_BLOCK_BYTES = 64 * 1024;
/** Largest block a device accepts (REFERENCE §3: blocks ≤ 128 KB). */
export const MAX_CHUNK_BLOCK_BYTES = 128 * 1024;
/** Largest range one fetch may ask for. */
export const MAX_FETCH_BYTES = 4 * 1024 * 1024;
/** Fetch messages are tiny; anything bigger is refused before parsing. */
export const MAX_FETCH_MESSAGE_BYTES = 1024;

const MARKER = 0xec;
const HEADER_BYTES = 2 + 32 + 8;
/** Largest chunk payload a device accepts: header plus one maximal block. */
export const MAX_CHUNK_PAYLOAD_BYTES = HEADER_BYTES + MAX_CHUNK_BLOCK_BYTES;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

export const fetchRequestSchema = z.object({
  v: z.literal(1),
  sha256: sha256Hex,
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  length: z.number().int().min(1).max(MAX_FETCH_BYTES),
});
export type FetchRequest = z.infer<typeof fetchRequestSchema>;

export type Chunk =
  | { kind: 'data'; sha256: string; offset: number; bytes: Uint8Array }
  | { kind: 'refused'; sha256: string; offset: number; reason: string }
  | { kind: 'queued'; sha256: string; offset: number; reason: string };

const KIND_CODES = { data: 1, refused: 2, queued: 3 } as const;
const KIND_NAMES = ['', 'data', 'refused', 'queued'] as const;

function header(kind: Chunk['kind'], sha256: string, offset: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h[0] = MARKER;
  h[1] = KIND_CODES[kind];
  h.write(sha256, 2, 32, 'hex');
  h.writeBigUInt64BE(BigInt(offset), 34);
  return h;
}

export function encodeChunk(sha256: string, offset: number, bytes: Uint8Array): Buffer {
  if (bytes.length === 0 || bytes.length > MAX_CHUNK_BLOCK_BYTES)
    throw new Error(`a chunk carries 1-${MAX_CHUNK_BLOCK_BYTES} bytes, got ${bytes.length}`);
  return Buffer.concat([header('data', sha256, offset), bytes]);
}

/** A refusal or queue notice for the fetch at `offset`; the reason is cut to 1 KiB. */
export function encodeChunkNotice(kind: 'refused' | 'queued', sha256: string, offset: number, reason: string): Buffer {
  return Buffer.concat([header(kind, sha256, offset), Buffer.from(reason.slice(0, 1024), 'utf8')]);
}

export function decodeChunk(payload: Uint8Array): Result<Chunk, 'too-large' | 'malformed'> {
  if (payload.length > MAX_CHUNK_PAYLOAD_BYTES) {
    return fail(
      'too-large',
      `chunk message of ${payload.length} bytes exceeds the ${MAX_CHUNK_PAYLOAD_BYTES}-byte limit (blocks are at most ${MAX_CHUNK_BLOCK_BYTES} bytes)`,
    );
  }
  if (payload.length < HEADER_BYTES || payload[0] !== MARKER)
    return fail('malformed', 'not a chunk message (bad marker or shorter than the header)');
  const kind = KIND_NAMES[payload[1]!];
  if (!kind) return fail('malformed', `unknown chunk kind ${payload[1]}`);
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const sha256 = buf.toString('hex', 2, 34);
  const offset = buf.readBigUInt64BE(34);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return fail('malformed', 'chunk offset out of range');
  const body = buf.subarray(HEADER_BYTES);
  if (kind === 'data') {
    if (body.length === 0) return fail('malformed', 'data chunk without bytes');
    return ok({ kind, sha256, offset: Number(offset), bytes: body });
  }
  return ok({ kind, sha256, offset: Number(offset), reason: body.toString('utf8') });
}

/** The blocks a server sends for a fetch: [offset, length) pairs of at most CHUNK_BLOCK_BYTES. */
export function blocksOf(
  offset: number,
  length: number,
  blockBytes = CHUNK_BLOCK_BYTES,
): Array<{ offset: number; length: number }> {
  const blocks: Array<{ offset: number; length: number }> = [];
  for (let at = offset; at < offset + length; at += blockBytes)
    blocks.push({ offset: at, length: Math.min(blockBytes, offset + length - at) });
  return blocks;
}
