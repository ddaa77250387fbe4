import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../registry/artifact-store.js';
import type { RegistryError } from '../registry/model-registry.js';
import { MAX_FIELD_BYTES, receiveModelUpload } from './model-upload.js';

function store(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-upload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, artifacts: new ArtifactStore(dir) };
}

/** A form encoded the way fetch encodes FormData. */
async function encode(form: FormData): Promise<{ bytes: Buffer; contentType: string }> {
  const req = new Request('http://x/', { method: 'POST', body: form });
  return { bytes: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! };
}

function chunked(bytes: Buffer, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(at, at + size)));
      at += size;
    },
  });
}

const stagingFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.staging-'));

test('fields and file come through whatever the chunking, the file hashed on its way to disk', async (t) => {
  const { dir, artifacts } = store(t);
  // Bytes that look like the start of a delimiter, to catch a parser that cuts on a partial match.
  const content = Buffer.concat([Buffer.from('\r\n--\r\n-'), Buffer.alloc(5000, 7), Buffer.from('\r\n--')]);
  const form = new FormData();
  form.append('file', new Blob([content]), 'm.onnx');
  form.append('name', 'distance');
  form.append('version', '3');
  form.append('metadata', '{"description": "ünïcode"}');
  const { bytes, contentType } = await encode(form);
  for (const size of [1, 2, 3, 7, 64, 4096, bytes.length]) {
    const upload = await receiveModelUpload(chunked(bytes, size), contentType, artifacts);
    assert.deepEqual(
      upload.fields,
      { name: 'distance', version: '3', metadata: '{"description": "ünïcode"}' },
      `chunks of ${size}`,
    );
    assert.equal(upload.file?.size, content.length);
    assert.equal(upload.file?.sha256, createHash('sha256').update(content).digest('hex'));
    assert.deepEqual(readFileSync(upload.file!.path), content);
    await upload.discard();
  }
  assert.deepEqual(stagingFiles(dir), [], 'discard removes the staging file');
});

test('malformed or oversized forms are refused with a reason and leave no staging file', async (t) => {
  const { dir, artifacts } = store(t);
  const refuse = async (label: string, bytes: Buffer, contentType: string, status: number, reason: RegExp) => {
    await assert.rejects(
      receiveModelUpload(chunked(bytes, 1000), contentType, artifacts),
      (e: RegistryError) => e.status === status && reason.test(e.message),
      label,
    );
  };
  const withFile = new FormData();
  withFile.append('file', new Blob([Buffer.alloc(3000, 1)]), 'm.onnx');
  const good = await encode(withFile);
  await refuse('cut short', good.bytes.subarray(0, 2000), good.contentType, 400, /ended before its closing boundary/);
  await refuse('no boundary', good.bytes, 'multipart/form-data', 400, /no boundary/);

  const unknown = new FormData();
  unknown.append('surprise', 'x');
  const u = await encode(unknown);
  await refuse('unknown field', u.bytes, u.contentType, 400, /unexpected form field "surprise"/);

  const twice = new FormData();
  twice.append('file', new Blob([Buffer.alloc(10)]), 'a.onnx');
  twice.append('file', new Blob([Buffer.alloc(10)]), 'b.onnx');
  const tw = await encode(twice);
  await refuse('two files', tw.bytes, tw.contentType, 400, /"file" is sent twice/);

  const huge = new FormData();
  huge.append('metadata', 'x'.repeat(MAX_FIELD_BYTES + 1));
  const hg = await encode(huge);
  await refuse('oversized fields', hg.bytes, hg.contentType, 413, /text fields exceed/);

  const textFile = new FormData();
  textFile.append('file', 'not a file part');
  const tf = await encode(textFile);
  await refuse('file as a text field', tf.bytes, tf.contentType, 400, /must be a file upload/);
  assert.deepEqual(stagingFiles(dir), []);
});
