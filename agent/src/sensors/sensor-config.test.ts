import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeZodError } from '@edgeloop/protocol';
import { inputBindings, referenceBindings, sensorsConfigSchema, triggerSchema } from './sensor-config.js';

const json = { format: 'json', valuePath: 'v' } as const;
const errorOf = (input: unknown) => {
  const r = sensorsConfigSchema.safeParse(input);
  assert.equal(r.success, false, 'expected the config to be rejected');
  return describeZodError(r.error!);
};

test('a binding without a role is a reference binding, as before input bindings existed', () => {
  const c = sensorsConfigSchema.parse({ bindings: [{ name: 'tof', topic: 't', payload: json, model: 'distance' }] });
  assert.equal(c.bindings[0]!.role, 'reference');
  assert.deepEqual(
    referenceBindings(c).map((b) => b.name),
    ['tof'],
  );
  assert.deepEqual(inputBindings(c), []);
});

test('input bindings and triggers parse with their defaults', () => {
  const c = sensorsConfigSchema.parse({
    bindings: [
      { name: 't0', topic: 'a', payload: { format: 'number' }, role: 'input', model: 'hvac', index: 0 },
      { name: 't1', topic: 'b', payload: json, role: 'input', model: 'hvac', input: 'x', index: 1 },
      { name: 'power', topic: 'c', payload: json, model: 'hvac' },
    ],
    triggers: { hvac: { minIntervalMs: 500 } },
  });
  assert.deepEqual(
    inputBindings(c).map((b) => [b.name, b.input, b.index]),
    [
      ['t0', undefined, 0],
      ['t1', 'x', 1],
    ],
  );
  assert.deepEqual(c.triggers.hvac, { on: 'change', intervalMs: 1000, minIntervalMs: 500, maxAgeMs: 60_000 });
});

test('mistakes in input bindings are rejected with the path and the reason', () => {
  assert.match(
    errorOf({ bindings: [{ name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac' }] }),
    /bindings\.0\.index/,
  );
  assert.match(
    errorOf({ bindings: [{ name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac', index: -1 }] }),
    /bindings\.0\.index/,
  );
  assert.match(
    errorOf({ bindings: [{ name: 't0', topic: 'a', payload: json, role: 'sensor', model: 'hvac', index: 0 }] }),
    /bindings\.0\.role/,
  );
  assert.match(
    errorOf({
      bindings: [
        { name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0 },
        { name: 't1', topic: 'b', payload: json, role: 'input', model: 'hvac', index: 0 },
      ],
    }),
    /bindings\.1\.index.*already fed by binding "t0"/,
  );
  assert.match(
    errorOf({ bindings: [{ name: 'r', topic: 'a', payload: json, model: 'distance' }], triggers: { distance: {} } }),
    /triggers\.distance.*no binding with role "input" feeds model "distance"/,
  );
  assert.match(
    errorOf({
      bindings: [{ name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0, broker: 'site' }],
    }),
    /bindings\.0\.broker.*"site" is not defined under sensors\.brokers/,
  );
  assert.match(
    errorOf({
      bindings: [{ name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0 }],
      triggers: { hvac: { on: 'often' } },
    }),
    /triggers\.hvac\.on/,
  );
  assert.match(
    errorOf({
      bindings: [
        { name: 't', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0 },
        { name: 't', topic: 'b', payload: json, model: 'other' },
      ],
    }),
    /bindings\.1\.name.*"t" is used twice/,
  );
  assert.match(
    errorOf({ bindings: [{ name: 'mean', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0 }] }),
    /bindings\.0\.name.*a feature every tensor record carries/,
  );
});

test('a change trigger runs at most once a second unless told otherwise', () => {
  const c = sensorsConfigSchema.parse({
    bindings: [{ name: 't0', topic: 'a', payload: json, role: 'input', model: 'hvac', index: 0 }],
    triggers: { hvac: {} },
  });
  assert.equal(c.triggers.hvac!.minIntervalMs, 1000);
  assert.deepEqual(triggerSchema.parse({}), c.triggers.hvac, 'a model without a triggers entry gets the same defaults');
});

test('two reference bindings for one model are refused: a record carries one reference value', () => {
  const msg = errorOf({
    bindings: [
      { name: 'tof', topic: 'a', payload: json, model: 'distance', join: { by: 'timestamp', windowMs: 500 } },
      {
        name: 'labels',
        topic: 'b',
        payload: { ...json, correlationPath: 'req' },
        model: 'distance',
        join: { by: 'correlation' },
      },
    ],
  });
  assert.match(msg, /model "distance" already has reference binding "tof"/);
  assert.match(msg, /one binding per model/);
  // Different models, or an input binding beside the reference, are fine.
  sensorsConfigSchema.parse({
    bindings: [
      { name: 'tof', topic: 'a', payload: json, model: 'distance' },
      { name: 'tof2', topic: 'b', payload: json, model: 'other' },
    ],
  });
});
