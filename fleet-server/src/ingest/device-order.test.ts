import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceOrder } from './device-order.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("one device's messages are handled in arrival order, even when an earlier one is slower", async () => {
  const ordered = deviceOrder();
  const done: string[] = [];
  const slowFirst = ordered(async (id, payload) => {
    await tick(30);
    done.push(`${id}:${payload.toString()}`);
  });
  const fast = ordered(async (id, payload) => {
    done.push(`${id}:${payload.toString()}`);
  });
  await Promise.all([slowFirst('pi-1', Buffer.from('birth')), fast('pi-1', Buffer.from('verified'))]);
  assert.deepEqual(done, ['pi-1:birth', 'pi-1:verified']);
});

test('other devices do not wait, and a failed message does not hold up the next', async () => {
  const ordered = deviceOrder();
  const done: string[] = [];
  const handle = ordered(async (id, payload) => {
    if (payload.toString() === 'bad') throw new Error('bad message');
    if (id === 'pi-1') await tick(30);
    done.push(`${id}:${payload.toString()}`);
  });
  const results = await Promise.allSettled([
    handle('pi-1', Buffer.from('slow')),
    handle('pi-2', Buffer.from('bad')),
    handle('pi-2', Buffer.from('next')),
  ]);
  assert.equal(results[1]!.status, 'rejected');
  assert.deepEqual(done, ['pi-2:next', 'pi-1:slow']);
});

test("settled() covers a device's messages still queued behind another, and is gone once they are handled", async () => {
  const ordered = deviceOrder();
  const done: string[] = [];
  const handle = ordered(async (id, payload) => {
    await tick(payload.toString() === 'death' ? 30 : 1);
    done.push(payload.toString());
  });
  assert.equal(ordered.settled('pi-1'), undefined, 'nothing pending');
  void handle('pi-1', Buffer.from('death'));
  void handle('pi-1', Buffer.from('birth'));
  // What telemetry does: wait for everything of the device taken so far, the queued birth included.
  await ordered.settled('pi-1');
  assert.deepEqual(done, ['death', 'birth']);
  await tick(0);
  assert.equal(ordered.settled('pi-1'), undefined, 'forgotten once handled');
});
