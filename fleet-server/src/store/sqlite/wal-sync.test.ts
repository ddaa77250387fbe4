import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import type { TelemetryRecord } from '@edgeloop/protocol';
import type { IngestBatch } from '../fleet-store.js';
import { record } from '../store-suite/fixtures.js';
import { openSqliteStore } from './open-sqlite-store.js';
import { threadpoolFsync, WalSync, WalSyncError, type Fsync } from './wal-sync.js';

/** An fsync the test holds: each call waits until the test lets it finish (or fail). */
function heldFsync() {
  const calls: Array<{ fd: number; finish: () => void; fail: (err: Error) => void }> = [];
  let holding = true;
  const fsync: Fsync = (fd) =>
    holding
      ? new Promise<void>((resolve, reject) =>
          calls.push({ fd, finish: () => void threadpoolFsync(fd).then(resolve, reject), fail: reject }),
        )
      : threadpoolFsync(fd);
  const until = async (n: number) => {
    for (let i = 0; calls.length < n && i < 5000; i++) await sleep(1);
    assert.ok(calls.length >= n, `${n} fsync calls (saw ${calls.length})`);
  };
  return { fsync, calls, until, release: () => (holding = false) };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-wal-sync-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const batch = (deviceId: string, from: number, n: number): IngestBatch => ({
  deviceId,
  stream: 's1',
  records: Array.from({ length: n }, (_, i): TelemetryRecord => record(from + i)),
  historical: false,
});

/** Settles to 'pending' if p has not settled after a few turns of the event loop. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  for (let i = 0; i < 20; i++) await tick();
  return s;
}

test('a group commit resolves (the ingest acks) only after the WAL fsync, and the next group commits meanwhile', async (t) => {
  const held = heldFsync();
  const store = await openSqliteStore(join(tempDir(t), 'fleet.db'), { fsync: held.fsync });
  t.after(() => store.close());
  assert.equal(store.telemetry.parallelWrites, 2);

  const first = store.telemetry.storeBatches([batch('pi-1', 1, 100)]);
  // First sync: the directory of the new WAL descriptor, then the WAL itself.
  await held.until(1);
  held.calls[0]!.finish();
  await held.until(2);
  assert.equal(await store.telemetry.count(), 100, 'committed: readers see it');
  assert.equal(await state(first), 'pending', 'but not acknowledged before its fsync');

  const second = store.telemetry.storeBatches([batch('pi-2', 1, 50)]);
  for (let i = 0; i < 5000 && (await store.telemetry.count()) < 150; i++) await sleep(1);
  assert.equal(await store.telemetry.count(), 150, 'the next group commits while the fsync runs');
  assert.equal(await state(second), 'pending');
  assert.equal(held.calls.length, 2, 'one fsync at a time: the second waits for the first');

  held.calls[1]!.finish();
  assert.deepEqual(await first, [{ added: 100, registered: true }]);
  assert.equal(await state(second), 'pending', 'its own fsync has not run yet');
  await held.until(3);
  held.calls[2]!.finish();
  assert.deepEqual(await second, [{ added: 50, registered: true }]);
});

test('callers that commit during an fsync share the next one and are answered in commit order', async (t) => {
  const dir = tempDir(t);
  const wal = join(dir, 'x-wal');
  writeFileSync(wal, 'frames');
  const held = heldFsync();
  const sync = new WalSync(wal, held.fsync);
  t.after(() => sync.close());
  const order: number[] = [];
  const a = sync.sync().then(() => order.push(1));
  await held.until(1);
  held.calls[0]!.finish(); // directory
  await held.until(2);
  const b = sync.sync().then(() => order.push(2));
  const c = sync.sync().then(() => order.push(3));
  held.calls[1]!.finish();
  await held.until(3);
  held.calls[2]!.finish();
  await Promise.all([a, b, c]);
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(held.calls.length, 3, 'b and c shared one fsync');
});

test('a WAL file recreated under the same name is reopened and its directory fsynced', async (t) => {
  const dir = tempDir(t);
  const wal = join(dir, 'x-wal');
  writeFileSync(wal, 'one');
  const fds: number[] = [];
  const sync = new WalSync(wal, (fd) => (fds.push(fd), threadpoolFsync(fd)));
  t.after(() => sync.close());
  await sync.sync();
  await sync.sync();
  assert.equal(fds.length, 3, 'directory once, then the WAL per sync');
  const walFd = fds[1]!;
  assert.equal(fds[2], walFd);
  unlinkSync(wal);
  writeFileSync(wal, 'two');
  await sync.sync();
  assert.equal(fds.length, 5, 'the directory again, then the new file');
  await sync.sync();
  assert.equal(fds[5], fds[4], 'the new descriptor is kept');
});

test('a failed fsync: no ack for its group nor any later one, the owner is told once, and the store stays usable otherwise', async (t) => {
  const held = heldFsync();
  const failures: Error[] = [];
  const store = await openSqliteStore(join(tempDir(t), 'fleet.db'), {
    fsync: held.fsync,
    onStorageFailure: (err) => failures.push(err),
  });
  t.after(() => store.close());
  const first = store.telemetry.storeBatches([batch('pi-1', 1, 10)]);
  await held.until(1);
  held.calls[0]!.finish();
  await held.until(2);
  const second = store.telemetry.storeBatches([batch('pi-2', 1, 10)]);
  for (let i = 0; i < 5000 && (await store.telemetry.count()) < 20; i++) await sleep(1);
  held.calls[1]!.fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  await assert.rejects(first, WalSyncError);
  await assert.rejects(second, WalSyncError, 'a group committed during the failed fsync is not acked either');
  held.release();
  await assert.rejects(store.telemetry.storeBatches([batch('pi-3', 1, 10)]), /restart the server/);
  assert.equal(failures.length, 1, 'the owner (the fleet server, which then stops) is told once');
  assert.ok(failures[0] instanceof WalSyncError);
  assert.equal(await store.telemetry.count(), 20, 'nothing written after the failure');
  // The store itself does not refuse transactions that sync themselves (FULL): stopping is the owner's call.
  assert.equal(await store.telemetry.insertBatch('pi-4', 's1', [record(1)]), 1);
});

test('close waits for the fsync in flight, whose group is then acknowledged', async (t) => {
  const held = heldFsync();
  const store = await openSqliteStore(join(tempDir(t), 'fleet.db'), { fsync: held.fsync });
  const stored = store.telemetry.storeBatches([batch('pi-1', 1, 10)]);
  await held.until(1);
  held.calls[0]!.finish();
  await held.until(2);
  const closed = store.close();
  assert.equal(await state(closed), 'pending');
  held.calls[1]!.finish();
  await closed;
  assert.deepEqual(await stored, [{ added: 10, registered: true }]);
  t.diagnostic('closed after the last group was acknowledged');
});
