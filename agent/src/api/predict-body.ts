/**
 * @module api/predict-body
 * Reads a predict request body into a PredictInput, by content type:
 *
 *   application/json      {"inputs": {"<name>": {"shape": [...], "data": [...]}}, "requestId"?}
 *   image/jpeg|png|webp…  the raw image, preprocessed as the manifest declares
 *   multipart/form-data   one file field per image (named after the model's image input, or
 *                         "image"/"file"), optional "inputs" (JSON tensors for the other inputs,
 *                         or all of them) and "requestId" fields
 *
 * and a batch body (`{"items": [<JSON predict body>, ...]}`) into one PredictInput per item.
 * Whatever is wrong with the request as a whole is an InputError with the fix in its message.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { z } from 'zod';
import { describeZodError } from '@edgeloop/protocol';
import type { FormFile, PredictInput } from '../predict/feeds.js';
import { InputError } from '../predict/image-input.js';

/** More items than this in one batch request are refused (413): split the batch. */
export const MAX_BATCH_ITEMS = 256;

const MAX_REQUEST_ID = 128;
const FORM_FIELDS = '"image" (or a file named after the image input), "inputs" (JSON tensors) and "requestId"';

function contentType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new InputError('body is not valid JSON');
  }
}

/**
 * The raw body straight from Node's IncomingMessage when the Node adapter provides it: going
 * through the Web Request stream costs about 2 µs per KiB, which on a camera frame is a sizeable
 * share of a prediction. The size cap is enforced here too (bodyLimit only sees Content-Length).
 */
async function readRaw(c: Context, maxBytes = 32 * 1024 * 1024): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded || incoming.readableDidRead) return new Uint8Array(await c.req.arrayBuffer());
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new InputError(`request body exceeds ${maxBytes} bytes; send a smaller image or split the batch`, 413);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

export async function readPredictBody(c: Context): Promise<PredictInput> {
  const type = contentType(c);
  if (type === 'application/json') return { kind: 'json', body: await readJson(c) };
  if (type.startsWith('image/')) {
    const body = await readRaw(c);
    if (body.length === 0) throw new InputError('image body is empty');
    return { kind: 'image', body, contentType: type };
  }
  if (type === 'multipart/form-data') return readForm(c);
  throw new InputError(
    `unsupported content-type "${type || '(none)'}": send application/json tensors, an image/* body, or multipart/form-data with an "image" file`,
    415,
  );
}

async function readForm(c: Context): Promise<PredictInput> {
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch (err) {
    throw new InputError(`body is not valid multipart/form-data (${(err as Error).message}); send fields ${FORM_FIELDS}`);
  }
  const files: FormFile[] = [];
  const input: Extract<PredictInput, { kind: 'form' }> = { kind: 'form', files };
  // forEach, not entries(): the DOM typings here lack the iterable half of FormData.
  const entries: Array<[string, FormDataEntryValue]> = [];
  form.forEach((value, field) => entries.push([field, value]));
  for (const [field, value] of entries) {
    if (field === 'inputs') {
      if (input.inputs !== undefined) throw new InputError('the form has more than one "inputs" field; send all tensors in one JSON object');
      const text = typeof value === 'string' ? value : await value.text();
      try {
        input.inputs = JSON.parse(text) as unknown;
      } catch {
        throw new InputError('form field "inputs" is not valid JSON; send {"<input name>": {"shape": [...], "data": [...]}}');
      }
    } else if (field === 'requestId') {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REQUEST_ID) {
        throw new InputError(`form field "requestId" must be a text of 1-${MAX_REQUEST_ID} characters`);
      }
      input.requestId = value;
    } else if (typeof value !== 'string') {
      files.push({ field, bytes: new Uint8Array(await value.arrayBuffer()), ...(value.type ? { contentType: value.type } : {}) });
    } else {
      throw new InputError(`unknown form field "${field}"; send ${FORM_FIELDS}`);
    }
  }
  return input;
}

const batchBodySchema = z.object({ items: z.array(z.unknown()) });

/** `{"items": [...]}` → one JSON predict input per item; each item is validated on its own later. */
export async function readBatchBody(c: Context): Promise<PredictInput[]> {
  const type = contentType(c);
  if (type !== 'application/json') {
    throw new InputError(`unsupported content-type "${type || '(none)'}" for a batch: send application/json {"items": [{"inputs": {...}}, ...]}`, 415);
  }
  const parsed = batchBodySchema.safeParse(await readJson(c));
  if (!parsed.success) throw new InputError(`invalid batch: ${describeZodError(parsed.error)}; send {"items": [{"inputs": {...}, "requestId"?: "..."}, ...]}`);
  const { items } = parsed.data;
  if (items.length === 0) throw new InputError('the batch has no items; send {"items": [{"inputs": {...}}, ...]}');
  if (items.length > MAX_BATCH_ITEMS) {
    throw new InputError(`the batch has ${items.length} items, at most ${MAX_BATCH_ITEMS} are allowed per request; split it into several requests`, 413);
  }
  return items.map((body) => ({ kind: 'json', body }));
}

/** The x-request-id header, if any; 1-128 characters. */
export function headerRequestId(c: Context): string | undefined {
  const id = c.req.header('x-request-id');
  if (id !== undefined && (id.length === 0 || id.length > MAX_REQUEST_ID)) throw new InputError(`x-request-id must be 1-${MAX_REQUEST_ID} characters`);
  return id;
}
