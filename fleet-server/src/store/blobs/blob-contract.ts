/**
 * @module store/blobs/blob-contract
 * What every BlobStore promises, as tests: each implementation runs this suite
 * (registry/artifact-store.test.ts: the folder; store/postgres/postgres-blob-store.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { sha256Hex } from '@edgeloop/protocol';
import type { BlobStore } from './blob-store.js';

const pbkdf2Async = promisify(pbkdf2);

export interface BlobStoreHarness {
  blobs: BlobStore;
  close(): Promise<void>;
}

async function drain(stream: Readable | undefined): Promise<Buffer> {
  assert.ok(stream, 'a stream for a stored blob');
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p as Uint8Array));
  return Buffer.concat(parts);
}

export function runBlobStoreSuite(
  name: string,
  open: () => Promise<BlobStoreHarness>,
  opts: { skip?: string | false } = {},
): void {
  const it = (title: string, fn: (blobs: BlobStore) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: opts.skip ?? false }, async () => {
      const h = await open();
      try {
        await fn(h.blobs);
      } finally {
        await h.close();
      }
    });

  it('bytes are stored once under their sha256 and read back whole', async (blobs) => {
    const bytes = randomBytes(1000);
    const first = await blobs.put(bytes);
    assert.deepEqual(first, { sha256: sha256Hex(bytes), size: 1000 });
    assert.deepEqual(await blobs.put(bytes), first, 'storing them again changes nothing');
    assert.equal(await blobs.size(first.sha256), 1000);
    assert.deepEqual(await drain(await blobs.stream(first.sha256)), bytes);
    const empty = await blobs.put(new Uint8Array(0));
    assert.equal(await blobs.size(empty.sha256), 0);
    assert.deepEqual(await drain(await blobs.stream(empty.sha256)), Buffer.alloc(0));
  });

  it('an unknown or malformed name is absent, never an error or a path', async (blobs) => {
    const unknown = sha256Hex(randomBytes(8));
    assert.equal(await blobs.size(unknown), undefined);
    assert.equal(await blobs.stream(unknown), undefined);
    for (const bad of ['../../etc/passwd', 'ABC', `${unknown}x`]) {
      assert.equal(await blobs.size(bad), undefined);
      await assert.rejects(blobs.readRange(bad, 0, 1));
    }
    await assert.rejects(blobs.readRange(unknown, 0, 1));
  });

  it('ranges of a large blob read exactly the bytes asked for, across any internal boundary', async (blobs) => {
    const bytes = randomBytes(700 * 1024 + 17);
    const { sha256 } = await blobs.put(bytes);
    for (const [offset, length] of [
      [0, 1],
      [262_143, 2],
      [100_000, 400_000],
      [bytes.length - 5, 5],
      [0, bytes.length],
    ] as const)
      assert.deepEqual(await blobs.readRange(sha256, offset, length), bytes.subarray(offset, offset + length));
    await assert.rejects(blobs.readRange(sha256, bytes.length - 1, 2), /fewer than/);
    assert.deepEqual(await drain(await blobs.stream(sha256, 5, 300_000)), bytes.subarray(5, 300_001));
    assert.deepEqual(await drain(await blobs.stream(sha256, 600_000)), bytes.subarray(600_000));
  });

  it('an upload is staged, checked, then adopted; the staging file is gone either way', async (blobs) => {
    const bytes = randomBytes(300 * 1024);
    const staging = await blobs.stage();
    await staging.write(bytes.subarray(0, 1000));
    await staging.write(bytes.subarray(1000));
    const staged = await staging.finish();
    assert.equal(staged.sha256, sha256Hex(bytes));
    assert.deepEqual(blobs.read(staged), bytes);
    assert.deepEqual(await blobs.adopt(staged), { sha256: staged.sha256, size: bytes.length });
    assert.ok(!existsSync(staged.path));
    assert.deepEqual(await blobs.readRange(staged.sha256, 0, bytes.length), bytes);

    const again = await blobs.stage();
    await again.write(bytes);
    const second = await again.finish();
    await blobs.adopt(second);
    assert.ok(!existsSync(second.path), 'a copy of stored bytes is dropped');

    // With the file system's threads busy, a file opened for bytes already stored would only be
    // opened after adopt removed it, and its error would reach no one.
    const late = await blobs.stage();
    await late.write(bytes);
    const copy = await late.finish();
    const busy = Array.from({ length: 8 }, () => pbkdf2Async('x', 'y', 40_000, 32, 'sha256'));
    const stray: unknown[] = [];
    const onStray = (err: unknown) => stray.push(err);
    process.on('uncaughtException', onStray);
    try {
      await blobs.adopt(copy);
      await Promise.all(busy);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('uncaughtException', onStray);
    }
    assert.deepEqual(stray, [], 'adopting a copy of stored bytes leaves nothing failing behind');
    assert.ok(!existsSync(copy.path));

    const refused = await blobs.stage();
    await refused.write(randomBytes(10));
    await refused.discard();
    assert.ok(!existsSync(refused.path));
  });
}
