import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightBatches, type Flight } from './in-flight.js';

const flight = (to: number, send: number, o: Partial<Flight> = {}): Flight => ({
  to,
  firstSend: send,
  lastSend: send,
  sentAt: send,
  sends: 1,
  resend: false,
  partial: false,
  ...o,
});

test('an ack frees every batch inside its range and counts the partial ones out', () => {
  const b = new InFlightBatches();
  b.add(1, flight(10, 1));
  b.add(11, flight(20, 2, { sends: 2 }));
  b.add(21, flight(25, 3, { partial: true }));
  assert.equal(b.partialCount, 1);

  const none = b.free(5, 10);
  assert.equal(none.count, 0, 'a range that covers no whole batch frees nothing');
  const freed = b.free(1, 25);
  assert.equal(freed.count, 3);
  assert.equal(freed.headFreed, true);
  assert.equal(freed.answeredBefore, 3);
  assert.deepEqual(
    freed.sentOnce.map((f) => f.to),
    [10, 25],
    'only batches sent once give a latency sample',
  );
  assert.equal(b.size, 0);
  assert.equal(b.partialCount, 0);
});

test('while recovering, batches sent before an answered one are marked lost; clear forgets all', () => {
  const b = new InFlightBatches();
  b.add(1, flight(10, 1));
  b.add(11, flight(20, 2));
  b.add(21, flight(30, 3, { partial: true }));
  assert.deepEqual(b.newest()?.[0], 21);
  // The probe (the newest, re-sent as send 4) was answered first: sends 1 and 2 were lost.
  b.newest()![1].lastSend = 4;
  const freed = b.free(21, 30);
  assert.equal(b.markLost(21, freed.answeredBefore), true);
  assert.deepEqual(b.firstLost()?.[0], 1);
  assert.equal(b.oldest?.resend, true);
  b.free(1, 20);
  assert.equal(b.markLost(21, 2), false, 'nothing from the timeout is left: recovery is over');
  b.add(31, flight(40, 5, { partial: true }));
  b.clear();
  assert.equal(b.size, 0);
  assert.equal(b.partialCount, 0);
});
