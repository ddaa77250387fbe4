/** Run slots: a bound across jobs, first come first served, and a cancelled wait leaves the queue. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSlots } from './run-slots.js';

test('slots are granted in order up to the bound; an aborted wait gives up its place', async () => {
  const slots = new RunSlots(1);
  const never = new AbortController().signal;
  assert.equal(await slots.acquire(never), true);
  const order: string[] = [];
  const cancelled = new AbortController();
  const a = slots.acquire(never).then((ok) => order.push(`a:${ok}`));
  const b = slots.acquire(cancelled.signal).then((ok) => order.push(`b:${ok}`));
  const c = slots.acquire(never).then((ok) => order.push(`c:${ok}`));
  cancelled.abort();
  await b;
  slots.release();
  await a;
  slots.release();
  await c;
  assert.deepEqual(order, ['b:false', 'a:true', 'c:true']);
  assert.equal(slots.inUse, 1);
  slots.release();
  assert.equal(slots.inUse, 0);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await slots.acquire(aborted.signal), false);
});
