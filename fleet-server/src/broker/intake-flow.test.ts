import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntakeFlow } from './intake-flow.js';

/** A device's connection as the flow sees it: whether it is being read. */
function device() {
  let reading = true;
  return { pause: () => (reading = false), resume: () => (reading = true), reading: () => reading };
}

test('a device is read on while it has at most perDevice messages being handled, then paused until one is done', () => {
  const flow = new IntakeFlow({ perDevice: 2, total: 100 });
  const [a, b] = [device(), device()];
  const a1 = flow.take('a', a);
  flow.take('a', a);
  assert.equal(a.reading(), true);
  flow.take('a', a);
  assert.equal(a.reading(), false);
  // Another device is not held up by this one.
  flow.take('b', b);
  assert.equal(b.reading(), true);
  assert.equal(flow.holding, 1);
  a1();
  assert.equal(a.reading(), true);
  assert.equal(flow.holding, 0);
  a1(); // twice is once
  assert.equal(flow.handling, 3);
});

test('over the fleet-wide limit every device that sends is paused until enough messages are done', () => {
  const flow = new IntakeFlow({ perDevice: 10, total: 2 });
  const [a, b, c, d] = [device(), device(), device(), device()];
  const done = [flow.take('a', a), flow.take('b', b)];
  const c1 = flow.take('c', c);
  flow.take('d', d);
  assert.deepEqual([a.reading(), b.reading(), c.reading(), d.reading()], [true, true, false, false]);
  flow.take('c', c); // read before the pause took effect
  done.forEach((finish) => finish());
  assert.equal(flow.handling, 3);
  assert.deepEqual([c.reading(), d.reading()], [false, false], 'still 3 > 2 being handled');
  c1();
  assert.deepEqual([c.reading(), d.reading()], [true, true]);
});

test('while the ingest reports itself saturated no device is resumed, even with nothing in flight', async () => {
  let saturated = true;
  const flow = new IntakeFlow({ perDevice: 10, total: 10 }, () => saturated);
  const a = device();
  const finish = flow.take('a', a);
  assert.equal(a.reading(), false);
  finish();
  assert.equal(a.reading(), false, 'its message is handled but the ingest is still saturated');
  saturated = false;
  // Polled: no message is in flight to wake it.
  const deadline = Date.now() + 5000;
  while (!a.reading() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(a.reading(), true);
  flow.close();
});
