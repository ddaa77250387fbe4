import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MAX_SAMPLE_BYTES } from '@edgeloop/protocol';
import { openAgentDb } from '../store/agent-db.js';
import { Sampler, type SampleInput } from './sampler.js';
import { samplingConfigSchema, samplingEnabled } from './sampling-config.js';
import { SampleStore } from './sample-store.js';

function setup(config: object) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sampler-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  const store = new SampleStore(db, join(dir, 'samples'), 1024 * 1024);
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const sampler = new Sampler(samplingConfigSchema.parse(config), store, log);
  let seq = 0;
  const offer = (model: string, now = Date.now(), data?: SampleInput['data']) => {
    const input: SampleInput = {
      seq: ++seq,
      model,
      version: 1,
      ts: now,
      prediction: 1,
      reference: null,
      contentType: 'application/json',
      data: data ?? Buffer.from(`{"n":${seq}}`),
    };
    sampler.offer(input, now);
  };
  const kept = () => {
    const out: Array<{ seq: number; model: string; reason: string }> = [];
    for (let s = store.next(0); s; s = store.next(s.id)) out.push({ seq: s.seq, model: s.model, reason: s.reason });
    return out;
  };
  return {
    sampler,
    store,
    offer,
    kept,
    warnings,
    cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })),
  };
}

test('a capture window keeps every Nth input of the named models until it closes', (t) => {
  const s = setup({ captureOnRequest: true });
  t.after(s.cleanup);
  const now = Date.now();
  s.offer('distance', now);
  assert.deepEqual(s.kept(), [], 'nothing is kept without a window');
  s.sampler.setCapture({ until: now + 60_000, models: ['distance'], everyN: 2 });
  for (let i = 0; i < 4; i++) s.offer('distance', now); // seq 2..5: the 1st and 3rd of the window
  s.offer('comfort', now); // not named
  s.offer('distance', now + 60_000); // window closed
  assert.deepEqual(s.kept(), [
    { seq: 2, model: 'distance', reason: 'capture' },
    { seq: 4, model: 'distance', reason: 'capture' },
  ]);
  s.sampler.setCapture(undefined);
  s.offer('distance', now);
  assert.equal(s.kept().length, 2, 'a withdrawn window keeps nothing more');
});

test('without captureOnRequest the device refuses the window, says so once, and keeps nothing', (t) => {
  const s = setup({ everyN: 100 });
  t.after(s.cleanup);
  const window = { until: Date.now() + 60_000, everyN: 1 };
  s.sampler.setCapture(window);
  s.sampler.setCapture(window); // the desired state arrives again
  s.offer('distance');
  assert.deepEqual(s.kept(), []);
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0]!, /sampling\.captureOnRequest is off/);
});

test('captureOnRequest alone turns sampling on', () => {
  assert.equal(samplingEnabled(samplingConfigSchema.parse({})), false);
  assert.equal(samplingEnabled(samplingConfigSchema.parse({ captureOnRequest: true })), true);
});

test('JSON inputs are serialised only when kept; inputs the fleet would refuse are skipped, not queued', (t) => {
  const s = setup({ everyN: 2 });
  t.after(s.cleanup);
  let serialised = 0;
  const lazy = (bytes: number) => () => (serialised++, Buffer.alloc(bytes, 0x20));
  s.offer('distance', Date.now(), lazy(10)); // 1st: not kept
  assert.equal(serialised, 0);
  s.offer('distance', Date.now(), lazy(10)); // 2nd: kept
  assert.equal(serialised, 1);
  s.offer('distance', Date.now(), lazy(10));
  s.offer('distance', Date.now(), lazy(MAX_SAMPLE_BYTES + 1)); // 4th: kept by policy, too large
  assert.deepEqual(
    s.kept().map((k) => k.seq),
    [2],
  );
  assert.equal(s.sampler.stats.tooLarge, 1);
  assert.match(s.warnings.join(), /too large to keep/);
});

test('a capture window counts every input of the model, also those the local policy keeps', (t) => {
  const s = setup({ everyN: 2, captureOnRequest: true });
  t.after(s.cleanup);
  s.sampler.setCapture({ until: Date.now() + 60_000, everyN: 3 });
  for (let i = 0; i < 6; i++) s.offer('distance');
  // every-nth keeps 2, 4, 6; the window's 1st and 4th inputs are 1 and 4 (4 is every-nth already).
  assert.deepEqual(
    s.kept().map((k) => [k.seq, k.reason]),
    [
      [1, 'capture'],
      [2, 'every-nth'],
      [4, 'every-nth'],
      [6, 'every-nth'],
    ],
  );
});
