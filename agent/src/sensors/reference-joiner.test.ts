import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { tempDir } from '../../../test/support/fixtures.js';
import { openAgentDb } from '../store/agent-db.js';
import { RecordBuffer, type NewRecord } from '../store/record-buffer.js';
import { ReferenceStore } from '../store/reference-store.js';
import { ReferenceJoiner } from './reference-joiner.js';
import { referenceBindings, sensorsConfigSchema } from './sensor-config.js';

function setup(t: { after(fn: () => void): void }) {
  const tmp = tempDir('reference-joiner');
  const db = openAgentDb(join(tmp.dir, 'agent.db'));
  t.after(() => {
    db.close();
    tmp.cleanup();
  });
  const config = sensorsConfigSchema.parse({
    bindings: [{ name: 'felt', topic: 'site/felt', payload: { format: 'number' }, model: 'comfort', join: { by: 'timestamp', windowMs: 3000 }, holdMs: 4000 }],
  });
  const buffer = new RecordBuffer(db);
  const joiner = new ReferenceJoiner(new ReferenceStore(db), referenceBindings(config), pino({ level: 'silent' }));
  // Wired as reference-values.ts wires them.
  buffer.setAppendHook((r) => joiner.onAppend(r));
  buffer.onStored((seq, r) => joiner.onStored(seq, r));
  return { buffer, joiner, binding: referenceBindings(config)[0]! };
}

const prediction = (ts: number): NewRecord => ({ ts, model: 'comfort', version: 1, output: [61], prediction: 61, latencyMs: 1, features: { temperature: 20 } });

test('a reference value arriving while its prediction is being committed is joined to it', async (t) => {
  const { buffer, joiner, binding } = setup(t);
  const now = Date.now();
  // The append hook runs at once; the group commit a moment later (setImmediate). A sensor
  // message handled in between finds no row yet.
  const stored = buffer.append(prediction(now));
  assert.equal(joiner.accept(binding, { value: 60.5, ts: now + 100 }, now + 100), 'waiting');
  const seq = await stored;
  const [record] = buffer.readAfter(seq - 1, 1, Number.MAX_SAFE_INTEGER);
  assert.equal(record?.reference, 60.5, 'the record leaves with its reference, not without it once its hold runs out');
});

test('a value waiting before the prediction is joined as the record is appended; one from too long before is not', async (t) => {
  const { buffer, joiner, binding } = setup(t);
  const now = Date.now();
  assert.equal(joiner.accept(binding, { value: 1, ts: now - 10_000 }, now - 10_000), 'waiting');
  assert.equal(joiner.accept(binding, { value: 2, ts: now - 50 }, now - 50), 'waiting');
  const seq = await buffer.append(prediction(now));
  assert.equal(buffer.readAfter(seq - 1, 1, Number.MAX_SAFE_INTEGER)[0]?.reference, 2);
  const later = await buffer.append(prediction(now + 10));
  assert.equal(buffer.readAfter(later - 1, 1, Number.MAX_SAFE_INTEGER)[0]?.reference, null, 'each value joins one prediction');
  assert.equal(buffer.readAfter(seq - 1, 1, Date.now())[0]?.seq, seq, 'the joined record is sendable at once');
  assert.equal(buffer.readAfter(seq, 1, Date.now())[0], undefined, 'the one without a value is held for it');
});
