/**
 * @module api/model-upload
 * Reads the multipart/form-data body of POST /api/v1/models as it streams in: the `file` part
 * goes straight to a staging file of the artifact store (hashed on the way), the small text
 * fields are kept in memory up to MAX_FIELD_BYTES. A model upload may be hundreds of megabytes;
 * hono's parseBody would hold all of it (more than once) in memory.
 *
 * Fields: file (the .onnx, required), name, version, metadata (JSON), force ("true" | "false").
 */
import { RegistryError } from '../registry/model-registry.js';
import type { BlobStore, StagedArtifact, StagingFile } from '../store/blobs/blob-store.js';
import { BodyTooLargeError } from './body-limits.js';

export const UPLOAD_FIELDS = ['file', 'name', 'version', 'metadata', 'force'] as const;
type UploadField = (typeof UPLOAD_FIELDS)[number];

/** What the form is, for refusals that say what to send: the model upload unless told otherwise. */
export interface UploadForm {
  /** Fields the form may have ("file" always among them). */
  fields: readonly UploadField[];
  /** The fields a complete form has, e.g. "file and name". */
  required: string;
  /** e.g. "file=@model.onnx". */
  fileExample: string;
  /** What the size limit is for, e.g. "model files". */
  what: string;
}

export const MODEL_UPLOAD_FORM: UploadForm = {
  fields: UPLOAD_FIELDS,
  required: 'file and name',
  fileExample: 'file=@model.onnx',
  what: 'model files',
};

/** All text fields together; metadata with a health check is the big one (its envelope caps at 256 KiB). */
export const MAX_FIELD_BYTES = 1024 * 1024;
const MAX_PART_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

export interface ReceivedUpload {
  fields: Partial<Record<Exclude<UploadField, 'file'>, string>>;
  file: StagedArtifact | undefined;
  /** Removes the staged file unless the registry adopted it; call when done, success or not. */
  discard(): Promise<void>;
}

function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary)
    throw new RegistryError(
      400,
      'the multipart content-type has no boundary; let your HTTP client build the form (curl -F, FormData)',
    );
  return boundary;
}

function partName(headerText: string, form: UploadForm): { name: string; isFile: boolean } {
  const disposition = headerText.split('\r\n').find((line) => /^content-disposition:/i.test(line));
  const name = disposition ? /;\s*name="([^"]*)"/i.exec(disposition)?.[1] : undefined;
  if (name === undefined)
    throw new RegistryError(
      400,
      `a multipart part has no Content-Disposition name; send form fields ${form.fields.join(', ')}`,
    );
  return { name, isFile: /;\s*filename\*?=/i.test(disposition!) };
}

export async function receiveModelUpload(
  body: ReadableStream<Uint8Array> | null,
  contentType: string,
  artifacts: BlobStore,
  form: UploadForm = MODEL_UPLOAD_FORM,
): Promise<ReceivedUpload> {
  const delimiter = Buffer.from(`\r\n--${boundaryOf(contentType)}`);
  if (!body) throw new RegistryError(400, `the multipart body is empty; send fields ${form.required}`);
  const reader = body.getReader();
  const fields: ReceivedUpload['fields'] = {};
  let fieldBytes = 0;
  let staging: StagingFile | undefined;
  let file: StagedArtifact | undefined;
  let part: { name: UploadField; text: Buffer[] } | undefined;
  // The CRLF lets the first delimiter (no CRLF before it) match like every other one.
  let pending: Buffer = Buffer.from(CRLF);
  let state = 'preamble' as 'preamble' | 'boundary' | 'headers' | 'content' | 'done';

  const emit = async (bytes: Buffer) => {
    if (bytes.length === 0 || !part) return;
    if (part.name === 'file') return staging!.write(bytes);
    fieldBytes += bytes.length;
    if (fieldBytes > MAX_FIELD_BYTES)
      throw new RegistryError(413, `the form's text fields exceed ${MAX_FIELD_BYTES} bytes; make the metadata smaller`);
    part.text.push(Buffer.from(bytes));
  };
  const startPart = async (headerText: string) => {
    const { name, isFile } = partName(headerText, form);
    if (!(form.fields as readonly string[]).includes(name))
      throw new RegistryError(400, `unexpected form field "${name}"; send ${form.fields.join(', ')}`);
    const field = name as UploadField;
    if (field === 'file' ? staging !== undefined : fields[field] !== undefined)
      throw new RegistryError(400, `form field "${name}" is sent twice; send it once`);
    if (field === 'file') {
      if (!isFile)
        throw new RegistryError(400, `form field "file" must be a file upload (curl -F ${form.fileExample})`);
      staging = await artifacts.stage();
    }
    part = { name: field, text: [] };
  };
  const endPart = async () => {
    if (!part) return;
    if (part.name === 'file') file = await staging!.finish();
    else fields[part.name] = Buffer.concat(part.text).toString('utf8');
    part = undefined;
  };
  /** Consumes what `pending` allows; false when more bytes are needed. */
  const step = async (): Promise<boolean> => {
    switch (state) {
      case 'preamble':
      case 'content': {
        const at = pending.indexOf(delimiter);
        if (at < 0) {
          // Keep a tail that could be the start of a delimiter split across chunks.
          const safe = pending.length - (delimiter.length - 1);
          if (safe > 0) {
            if (state === 'content') await emit(pending.subarray(0, safe));
            pending = pending.subarray(safe);
          }
          return false;
        }
        if (state === 'content') {
          await emit(pending.subarray(0, at));
          await endPart();
        }
        pending = pending.subarray(at + delimiter.length);
        state = 'boundary';
        return true;
      }
      case 'boundary':
        if (pending.length < 2) return false;
        if (pending[0] === 0x2d && pending[1] === 0x2d) state = 'done';
        else if (pending[0] === 0x0d && pending[1] === 0x0a) state = 'headers';
        else
          throw new RegistryError(
            400,
            'the multipart body is malformed (bad boundary line); let your HTTP client build the form',
          );
        pending = pending.subarray(2);
        return true;
      case 'headers': {
        const at = pending.indexOf(HEADER_END);
        if (at < 0) {
          if (pending.length > MAX_PART_HEADER_BYTES)
            throw new RegistryError(400, `a multipart part's headers exceed ${MAX_PART_HEADER_BYTES} bytes`);
          return false;
        }
        await startPart(pending.subarray(0, at).toString('latin1'));
        pending = pending.subarray(at + HEADER_END.length);
        state = 'content';
        return true;
      }
      case 'done':
        return false;
    }
  };

  try {
    let ended = false;
    while (state !== 'done') {
      if (await step()) continue;
      if (ended)
        throw new RegistryError(400, 'the multipart body ended before its closing boundary; send the whole form');
      const { done, value } = await reader.read();
      if (done) ended = true;
      else
        pending =
          pending.length === 0
            ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
            : Buffer.concat([pending, value]);
    }
    // Whatever follows the closing boundary is an epilogue that carries nothing.
    void reader.cancel().catch(() => {});
  } catch (err) {
    void reader.cancel().catch(() => {});
    await staging?.discard();
    if (err instanceof BodyTooLargeError)
      throw new RegistryError(413, `the upload exceeds ${err.limit} bytes, the limit for ${form.what}`);
    // The disk (full, unwritable) is the server's problem, not the caller's: a 500 with the reason.
    if (err instanceof RegistryError || (err as NodeJS.ErrnoException).syscall !== undefined) throw err;
    throw new RegistryError(400, `cannot read the multipart body: ${(err as Error).message}`);
  }
  return { fields, file, discard: async () => void (await staging?.discard()) };
}
