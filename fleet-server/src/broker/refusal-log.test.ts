import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RefusalLog } from './refusal-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

test('a flood is counted in full but logged as the first few lines and one summary', () => {
  const { log, lines } = capture();
  const refusals = new RefusalLog(log, { detailed: 3, intervalMs: 60_000 });
  for (let i = 0; i < 1000; i++)
    refusals.refuse('auth', { username: `u${i}` }, 'mqtt connection refused: wrong password');
  for (let i = 0; i < 500; i++) refusals.refuse('connect_rate', { address: '10.0.0.1' }, 'mqtt connection refused');
  assert.equal(refusals.totals.auth, 1000);
  assert.equal(refusals.totals.connect_rate, 500);
  assert.deepEqual(
    lines.map((l) => l.username),
    ['u0', 'u1', 'u2'],
    'only the first three in detail',
  );
  refusals.close();
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[3]!.refused, { auth: 997, connect_rate: 500 });
  assert.match(
    String(lines[3]!.msg),
    /^1497 more mqtt refusals in the last 60 s.*auth: 997, connect_rate: 500.*\/metrics/,
  );
});

test('each interval logs its first refusals in detail again, then its own summary', async () => {
  const { log, lines } = capture();
  const refusals = new RefusalLog(log, { detailed: 2, intervalMs: 20 });
  for (let i = 0; i < 5; i++) refusals.refuse('retained', { n: i }, 'mqtt publish refused');
  const deadline = Date.now() + 10_000;
  while (lines.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    lines.map((l) => l.n ?? l.refused),
    [0, 1, { retained: 3 }],
  );
  for (let i = 5; i < 8; i++) refusals.refuse('retained', { n: i }, 'mqtt publish refused');
  refusals.close();
  assert.deepEqual(
    lines.slice(3).map((l) => l.n ?? l.refused),
    [5, 6, { retained: 1 }],
  );
});
