import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RefusalLog } from './refusal-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

test('a flood is counted in full but logged as the first few lines and one summary per interval', async () => {
  const { log, lines } = capture();
  const refusals = new RefusalLog(log, { detailed: 3, intervalMs: 50 });
  for (let i = 0; i < 1000; i++) refusals.refuse('auth', { username: `u${i}` }, 'mqtt connection refused: wrong password');
  for (let i = 0; i < 500; i++) refusals.refuse('connect_rate', { address: '10.0.0.1' }, 'mqtt connection refused');
  assert.equal(refusals.totals.auth, 1000);
  assert.equal(refusals.totals.connect_rate, 500);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(lines.length, 3, 'only the first three so far');
  assert.deepEqual(lines.map((l) => l.username), ['u0', 'u1', 'u2']);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[3]!.refused, { auth: 997, connect_rate: 500 });
  assert.match(String(lines[3]!.msg), /^1497 more mqtt refusals in the last 0 s.*auth: 997, connect_rate: 500/);

  // A new interval logs its first ones in detail again; close() flushes the summary.
  for (let i = 0; i < 4; i++) refusals.refuse('retained', { clientId: 'pi' }, 'mqtt publish refused');
  refusals.close();
  assert.equal(lines.length, 8);
  assert.deepEqual(lines[7]!.refused, { retained: 1 });
});
