/**
 * @module api/predict-body
 * Reads a predict request body into a PredictInput, by content type:
 *
 *   application/json      {"inputs": {"<name>": {"shape": [...], "data": [...]}}, "requestId"?,
 *                         "capturedAt"? (epoch ms: the record's time instead of now)}
 *   image/jpeg|png|webp…  the raw image, preprocessed as the manifest declares (capture time
 *                         in an x-captured-at header, epoch ms)
 *   multipart/form-data   one file field per image (named after the model's image input, or
 *                         "image"/"file"), optional "inputs" (JSON tensors for the other inputs,
 *                         or all of them), "requestId" and "capturedAt" (epoch ms) fields
 *
 * and a batch body (`{"items": [<JSON predict body>, ...]}`) into one PredictInput per item (each
 * with its own capturedAt).
 * Whatever is wrong with the request as a whole is an InputError with the fix in its message.
 *
 * Every body, whatever its type, is read here from Node's IncomingMessage with the size cap
 * enforced as it arrives (a chunked upload has no Content-Length to check up front). Going
 * through the Web Request stream instead costs about 2 µs per KiB, which on a camera frame is a
 * sizeable share of a prediction.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { z } from 'zod';
import { describeZodError } from '@edgeloop/protocol';
import { parseCapturedAt, type FormFile, type PredictInput } from '../predict/feeds.js';
import { InputError } from '../predict/image-input.js';
import type { BodyPool } from './body-pool.js';

/** More items than this in one batch request are refused (413): split the batch. */
export const MAX_BATCH_ITEMS = 256;

const MAX_REQUEST_ID = 128;
const FORM_FIELDS =
  '"image" (or a file named after the image input), "inputs" (JSON tensors), "requestId" and "capturedAt" (epoch ms)';

function contentType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Larger request bodies are refused (413), declared or not. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function tooLarge(): InputError {
  return new InputError(`request body exceeds ${MAX_BODY_BYTES} bytes; send a smaller image or split the batch`, 413);
}

/** A request body; `release` hands a pooled buffer back once nothing reads it any more. */
export interface Body<T> {
  value: T;
  release: () => void;
}

const noRelease = () => undefined;

async function readJson(c: Context, pool?: BodyPool): Promise<unknown> {
  const body = await readRaw(c, pool);
  try {
    const bytes = body.value;
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
  } catch {
    throw new InputError('body is not valid JSON');
  } finally {
    // JSON.parse copied everything it needs.
    body.release();
  }
}

/**
 * The body's bytes, refused as soon as they pass the cap. With a pool and a Content-Length, the
 * bytes go straight into a pooled buffer as they arrive; a chunked body is gathered first. The
 * Web Request fallback serves callers outside the Node adapter (app.request in tests).
 */
async function readRaw(c: Context, pool?: BodyPool): Promise<Body<Uint8Array>> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded || incoming.readableDidRead) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_BODY_BYTES) throw tooLarge();
    return { value: body, release: noRelease };
  }
  const declared = Number(incoming.headers['content-length'] ?? NaN);
  const target =
    pool && Number.isSafeInteger(declared) && declared > 0 && declared <= MAX_BODY_BYTES
      ? pool.acquire(declared)
      : undefined;
  let released = false;
  const release = () => {
    if (target && !released) {
      released = true;
      pool!.release(target);
    }
  };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: Error) => {
      release();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > MAX_BODY_BYTES) {
        // Answer 413 now and let the rest drain unbuffered; destroying the request would reset
        // the connection before the client could read why.
        incoming.off('data', onData);
        chunks.length = 0;
        incoming.resume();
        return fail(tooLarge());
      }
      // Node's parser never delivers more than Content-Length, so `target` always has room.
      if (target) chunk.copy(target, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    incoming.on('data', onData);
    incoming.once('error', fail);
    incoming.once('close', () => {
      if (!incoming.readableEnded)
        fail(new InputError('the client closed the connection before the whole body arrived'));
    });
    incoming.once('end', () => {
      if (target) return resolve({ value: target.subarray(0, size), release });
      if (!pool || chunks.length === 1 || size === 0)
        return resolve({ value: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), release: noRelease });
      const gathered = pool.acquire(size);
      let offset = 0;
      for (const chunk of chunks) offset += chunk.copy(gathered, offset);
      resolve({ value: gathered.subarray(0, size), release: () => pool.release(gathered) });
    });
  });
}

/**
 * A single predict's input. An image body may live in a pooled buffer: call `release` once the
 * prediction is answered (nothing may keep `body` beyond that without copying it).
 */
export async function readPredictBody(c: Context, pool?: BodyPool): Promise<Body<PredictInput>> {
  const type = contentType(c);
  if (type === 'application/json')
    return { value: { kind: 'json', body: await readJson(c, pool) }, release: noRelease };
  if (type.startsWith('image/')) {
    const body = await readRaw(c, pool);
    if (body.value.length === 0) {
      body.release();
      throw new InputError('image body is empty');
    }
    let capturedAt: number | undefined;
    try {
      capturedAt = headerCapturedAt(c);
    } catch (err) {
      body.release();
      throw err;
    }
    return {
      value: {
        kind: 'image',
        body: body.value,
        contentType: type,
        ...(capturedAt !== undefined ? { capturedAt } : {}),
      },
      release: body.release,
    };
  }
  if (type === 'multipart/form-data') return { value: await readForm(c), release: noRelease };
  throw new InputError(
    `unsupported content-type "${type || '(none)'}": send application/json tensors, an image/* body, or multipart/form-data with an "image" file`,
    415,
  );
}

async function readForm(c: Context): Promise<PredictInput> {
  // Not pooled: the parsed form's files may share the bytes, and they outlive this call.
  const body = (await readRaw(c)).value;
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': c.req.header('content-type') ?? '' },
    }).formData();
  } catch (err) {
    throw new InputError(
      `body is not valid multipart/form-data (${(err as Error).message}); send fields ${FORM_FIELDS}`,
    );
  }
  const files: FormFile[] = [];
  const input: Extract<PredictInput, { kind: 'form' }> = { kind: 'form', files };
  // forEach, not entries(): the DOM typings here lack the iterable half of FormData.
  const entries: Array<[string, FormDataEntryValue]> = [];
  form.forEach((value, field) => entries.push([field, value]));
  for (const [field, value] of entries) {
    if (field === 'inputs') {
      if (input.inputs !== undefined)
        throw new InputError('the form has more than one "inputs" field; send all tensors in one JSON object');
      const text = typeof value === 'string' ? value : await value.text();
      try {
        input.inputs = JSON.parse(text) as unknown;
      } catch {
        throw new InputError(
          'form field "inputs" is not valid JSON; send {"<input name>": {"shape": [...], "data": [...]}}',
        );
      }
    } else if (field === 'requestId') {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REQUEST_ID) {
        throw new InputError(`form field "requestId" must be a text of 1-${MAX_REQUEST_ID} characters`);
      }
      input.requestId = value;
    } else if (field === 'capturedAt') {
      if (typeof value !== 'string') throw new InputError('form field "capturedAt" must be text, not a file');
      input.capturedAt = parseCapturedAt(value, 'form field "capturedAt"');
    } else if (typeof value !== 'string') {
      files.push({
        field,
        bytes: new Uint8Array(await value.arrayBuffer()),
        ...(value.type ? { contentType: value.type } : {}),
      });
    } else {
      throw new InputError(`unknown form field "${field}"; send ${FORM_FIELDS}`);
    }
  }
  return input;
}

const batchBodySchema = z.object({ items: z.array(z.unknown()) });

/** `{"items": [...]}` → one JSON predict input per item; each item is validated on its own later. */
export async function readBatchBody(c: Context, pool?: BodyPool): Promise<PredictInput[]> {
  const type = contentType(c);
  if (type !== 'application/json') {
    throw new InputError(
      `unsupported content-type "${type || '(none)'}" for a batch: send application/json {"items": [{"inputs": {...}}, ...]}`,
      415,
    );
  }
  const parsed = batchBodySchema.safeParse(await readJson(c, pool));
  if (!parsed.success)
    throw new InputError(
      `invalid batch: ${describeZodError(parsed.error)}; send {"items": [{"inputs": {...}, "requestId"?: "..."}, ...]}`,
    );
  const { items } = parsed.data;
  if (items.length === 0) throw new InputError('the batch has no items; send {"items": [{"inputs": {...}}, ...]}');
  if (items.length > MAX_BATCH_ITEMS) {
    throw new InputError(
      `the batch has ${items.length} items, at most ${MAX_BATCH_ITEMS} are allowed per request; split it into several requests`,
      413,
    );
  }
  return items.map((body) => ({ kind: 'json', body }));
}

/** The x-request-id header, if any; 1-128 characters. */
export function headerRequestId(c: Context): string | undefined {
  const id = c.req.header('x-request-id');
  if (id !== undefined && (id.length === 0 || id.length > MAX_REQUEST_ID))
    throw new InputError(`x-request-id must be 1-${MAX_REQUEST_ID} characters`);
  return id;
}

/** The x-captured-at header (an image body's capture time, epoch ms), if any. */
export function headerCapturedAt(c: Context): number | undefined {
  const text = c.req.header('x-captured-at');
  return text === undefined ? undefined : parseCapturedAt(text, 'header x-captured-at');
}
