import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckTimeout } from './ack-timeout.js';

test('before any ack was measured the timeout is the floor; a fast server never takes it below', () => {
  const t = new AckTimeout({ minMs: 15_000, maxMs: 300_000 });
  assert.equal(t.currentMs, 15_000);
  for (let i = 0; i < 20; i++) t.sample(40);
  assert.equal(t.currentMs, 15_000);
});

test('acks coming later and later raise the timeout above the latency, up to the cap', () => {
  const t = new AckTimeout({ minMs: 15_000, maxMs: 300_000 });
  let previous = t.currentMs;
  for (let latency = 5_000; latency <= 60_000; latency += 1_000) {
    t.sample(latency);
    assert.ok(t.currentMs >= previous, `${t.currentMs} ms after a ${latency} ms ack, was ${previous}`);
    assert.ok(t.currentMs > latency, `${t.currentMs} ms is above a ${latency} ms ack`);
    previous = t.currentMs;
  }
  // RFC 6298's first sample: srtt = R, rttvar = R/2, so the timeout is 3·R.
  const fresh = new AckTimeout({ minMs: 100, maxMs: 300_000 });
  fresh.sample(30_000);
  assert.equal(fresh.currentMs, 90_000);
  fresh.sample(1_000_000);
  assert.equal(fresh.currentMs, 300_000, 'never above the cap');
});

test('each expiry doubles the timeout up to the cap; an ack of a batch sent once ends the back-off', () => {
  const t = new AckTimeout({ minMs: 1000, maxMs: 10_000 });
  const seen = [t.currentMs];
  for (let i = 0; i < 5; i++) {
    t.expired();
    seen.push(t.currentMs);
  }
  assert.deepEqual(seen, [1000, 2000, 4000, 8000, 10_000, 10_000]);
  t.sample(200);
  assert.equal(t.currentMs, 1000);
  t.expired();
  t.resetBackoff();
  assert.equal(t.currentMs, 1000, 'a new connection starts without the old back-off');
});
