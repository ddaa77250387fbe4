/**
 * @module api/body-limits
 * How many request-body bytes the REST API reads. A caller without credentials (enrollment is
 * public) gets MAX_ANONYMOUS_BODY_BYTES; an authenticated JSON route MAX_JSON_BODY_BYTES (a
 * deployment may name 10,000 devices); only the model upload (admin token checked before this
 * runs) gets MAX_UPLOAD_BYTES, and that route streams to disk (api/model-upload.ts) instead of
 * buffering. A declared Content-Length over the limit is refused before a byte is read; an
 * undeclared (chunked) body is counted as it arrives and refused the moment it passes the limit.
 * Refusals close the connection so a client still sending cannot keep the socket busy.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiEnv } from './api-env.js';

export const MAX_ANONYMOUS_BODY_BYTES = 64 * 1024;
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export interface BodyLimitOptions {
  /** Which requests may send up to MAX_UPLOAD_BYTES (and read their body themselves, streaming). */
  isUpload: (method: string, path: string) => boolean;
}

export function tooLarge(c: Context<ApiEnv>, limit: number, what: string): Response {
  return c.json({ error: `request body exceeds ${limit} bytes, the limit for ${what}; send a smaller body` }, 413, {
    connection: 'close',
  });
}

export function bodyLimits(opts: BodyLimitOptions): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    // api/auth.ts ran first: an actor means admin or device credentials were accepted.
    const anonymous = c.get('actor') === undefined;
    const upload = !anonymous && opts.isUpload(c.req.method, c.req.path);
    const [limit, what] = upload
      ? [MAX_UPLOAD_BYTES, 'model uploads']
      : anonymous
        ? [MAX_ANONYMOUS_BODY_BYTES, 'requests without credentials']
        : [MAX_JSON_BODY_BYTES, 'JSON requests'];
    const declared = c.req.header('content-length');
    if (declared !== undefined && !c.req.header('transfer-encoding')) {
      if (!/^\d{1,15}$/.test(declared.trim()))
        return c.json({ error: `content-length "${declared}" is not a byte count` }, 400, { connection: 'close' });
      if (Number(declared) > limit) return tooLarge(c, limit, what);
    }
    const body = c.req.raw.body;
    if (!body) return next();
    if (upload) {
      c.req.raw = new Request(c.req.raw, { body: capped(body, limit), duplex: 'half' } as RequestInit);
      return next();
    }
    // Small enough to hold: read it all here, so routes parse JSON from memory and a too-large
    // body is answered with 413, not with a route's "not JSON" 400.
    const read = await readCapped(body, limit);
    if (read === undefined) return tooLarge(c, limit, what);
    c.req.raw = new Request(c.req.raw, {
      body: new Uint8Array(read.buffer, read.byteOffset, read.byteLength) as Uint8Array<ArrayBuffer>,
    });
    return next();
  };
}

/** The body's bytes, or undefined as soon as it passes `limit` (the rest is not read). */
async function readCapped(body: ReadableStream<Uint8Array>, limit: number): Promise<Buffer | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** Passes the body through, failing the stream with BodyTooLargeError once it passes `limit`. */
function capped(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > limit) controller.error(new BodyTooLargeError(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
}
