import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Manifest } from '@edgeloop/protocol';
import type { PredictInput } from '../predict/feeds.js';
import { SensorInputs } from './sensor-inputs.js';
import { inputBindings, sensorsConfigSchema, type Trigger } from './sensor-config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Only the fields SensorInputs reads: the model's inputs. */
const manifest = (inputs: Manifest['inputs']) => ({ name: 'hvac', version: 3, inputs }) as unknown as Manifest;
const VECTOR = manifest([{ name: 'x', dtype: 'float32', shape: ['batch', 2] }]);

interface Run {
  model: string;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  features: Record<string, number>;
}

function setup(
  opts: {
    trigger?: Partial<Trigger>;
    manifest?: Manifest | undefined;
    predictMs?: number;
    fail?: string;
    extra?: object[];
  } = {},
) {
  const config = sensorsConfigSchema.parse({
    bindings: [
      { name: 'temp', topic: 't', payload: { format: 'number' }, role: 'input', model: 'hvac', index: 0 },
      { name: 'hum', topic: 'h', payload: { format: 'number' }, role: 'input', model: 'hvac', index: 1 },
      ...(opts.extra ?? []),
    ],
    triggers: { hvac: { minIntervalMs: 0, ...opts.trigger } },
  });
  const runs: Run[] = [];
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).reason) });
  const inputs = new SensorInputs({
    bindings: inputBindings(config),
    triggers: config.triggers,
    manifestOf: () => ('manifest' in opts ? opts.manifest : VECTOR),
    async predict(model: string, input: PredictInput) {
      assert.equal(input.kind, 'json');
      if (input.kind !== 'json') return;
      runs.push({ model, inputs: (input.body as { inputs: Run['inputs'] }).inputs, features: input.features ?? {} });
      if (opts.predictMs) await sleep(opts.predictMs);
      if (opts.fail) throw new Error(opts.fail);
    },
    log,
  });
  const binding = (name: string) => inputBindings(config).find((b) => b.name === name)!;
  const send = (name: string, value: number, ts = Date.now()) => inputs.accept(binding(name), { value, ts });
  return { inputs, runs, warnings, send };
}

test('change trigger: the model runs once every input has a value, on each change, with the latest values as tensor and features', async (t) => {
  const s = setup();
  t.after(() => s.inputs.close());
  s.send('temp', 21.5);
  await sleep(5);
  assert.equal(s.runs.length, 0, 'no run while hum has never reported');
  assert.match(s.warnings.at(-1)!, /waiting for a first value from hum/);
  s.send('hum', 40);
  await sleep(5);
  s.send('temp', 22);
  await sleep(5);
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x),
    [
      { shape: [1, 2], data: [21.5, 40] },
      { shape: [1, 2], data: [22, 40] },
    ],
  );
  assert.deepEqual(s.runs[1]!.features, { temp: 22, hum: 40 });
  assert.equal(s.inputs.stats.predictions, 2);
});

test('minIntervalMs: a burst of values makes one run now and one trailing run with the newest values', async (t) => {
  const s = setup({ trigger: { minIntervalMs: 150 } });
  t.after(() => s.inputs.close());
  s.send('hum', 40);
  s.send('temp', 1); // complete: runs at once
  await sleep(5);
  for (let v = 2; v <= 9; v++) s.send('temp', v);
  await sleep(50);
  assert.equal(s.runs.length, 1);
  await sleep(200);
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x!.data[0]),
    [1, 9],
  );
});

test('values taken in one turn of the event loop (one MQTT message feeding two bindings) make one run with both', async (t) => {
  const s = setup();
  t.after(() => s.inputs.close());
  s.send('temp', 20);
  s.send('hum', 40);
  await sleep(5);
  s.send('temp', 30);
  s.send('hum', 50);
  await sleep(5);
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x!.data),
    [
      [20, 40],
      [30, 50],
    ],
    'never [30, 40]: a new temperature with the old humidity',
  );
});

test('two bindings on one position, one naming the first input and one leaving it out, are reported', async (t) => {
  const s = setup({
    extra: [
      { name: 'temp2', topic: 't2', payload: { format: 'number' }, role: 'input', model: 'hvac', input: 'x', index: 0 },
    ],
  });
  t.after(() => s.inputs.close());
  s.send('temp', 1);
  s.send('hum', 2);
  s.send('temp2', 3);
  await sleep(5);
  assert.equal(s.runs.length, 0);
  assert.match(s.warnings.join('\n'), /bindings "temp" and "temp2" both fill position 0 of input "x"/);
});

test('a value arriving while a prediction runs is not lost: the model runs again afterwards', async (t) => {
  const s = setup({ predictMs: 60 });
  t.after(() => s.inputs.close());
  s.send('hum', 40);
  s.send('temp', 1);
  await sleep(10);
  s.send('temp', 2);
  s.send('temp', 3);
  await sleep(200);
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x!.data[0]),
    [1, 3],
  );
});

test('an older measurement than the one held is ignored', async (t) => {
  const s = setup();
  t.after(() => s.inputs.close());
  const now = Date.now();
  s.send('hum', 40, now);
  assert.equal(s.send('hum', 99, now - 1000), 'older');
  s.send('temp', 1, now);
  await sleep(5);
  assert.deepEqual(s.runs[0]!.inputs.x!.data, [1, 40]);
});

test('stale values stop the model until every sensor reports again; the state is logged once', async (t) => {
  const s = setup({ trigger: { maxAgeMs: 1000 } });
  t.after(() => s.inputs.close());
  s.send('hum', 40, Date.now() - 5000); // a sensor that went quiet
  s.send('temp', 1);
  s.send('temp', 2);
  await sleep(5);
  assert.equal(s.runs.length, 0);
  assert.equal(s.inputs.stats.skipped, 1, 'the three values of one turn made one run, which was skipped');
  assert.deepEqual(s.warnings, ['no value for more than maxAgeMs (1000 ms) from hum']);
  s.send('temp', 3);
  await sleep(5);
  assert.equal(s.inputs.stats.skipped, 2);
  assert.equal(s.warnings.length, 1, 'the same state is not logged again');
  s.send('hum', 41);
  await sleep(5);
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x!.data),
    [[3, 41]],
  );
});

test('interval trigger: runs on the clock with the latest values, not on changes', async (t) => {
  const s = setup({ trigger: { on: 'interval', intervalMs: 40 } });
  t.after(() => s.inputs.close());
  s.send('temp', 1);
  s.send('hum', 2);
  await sleep(5);
  assert.equal(s.runs.length, 0, 'a change does not run an interval model');
  for (let i = 0; i < 100 && s.runs.length < 2; i++) await sleep(20);
  assert.ok(s.runs.length >= 2, 'the clock runs the model repeatedly');
  assert.deepEqual(
    s.runs.map((r) => r.inputs.x!.data),
    s.runs.map(() => [1, 2]),
  );
  await s.inputs.close();
  const after = s.runs.length;
  await sleep(100);
  assert.equal(s.runs.length, after, 'no run after close');
});

test('bindings that do not fit the serving model are reported, not run', async () => {
  const cases: Array<[Manifest | undefined, RegExp, object[]?]> = [
    [undefined, /model "hvac" is not active on this device yet/],
    [
      manifest([{ name: 'x', dtype: 'float32', shape: [1, 3] }]),
      /positions 2 of input "x" \(shape \[1, 3\]\) of hvac v3 have no binding/,
    ],
    [
      manifest([{ name: 'x', dtype: 'float32', shape: [1, 1] }]),
      /binding "hum" fills position 1 of input "x", which has 1/,
    ],
    [
      manifest([
        { name: 'x', dtype: 'float32', shape: [1, 2] },
        { name: 'mask', dtype: 'float32', shape: [1] },
      ]),
      /input "mask" of hvac v3 has no sensor binding/,
    ],
    [
      VECTOR,
      /bindings name input\(s\) y, but hvac v3 has x/,
      [
        {
          name: 'other',
          topic: 'o',
          payload: { format: 'number' },
          role: 'input',
          model: 'hvac',
          input: 'y',
          index: 0,
        },
      ],
    ],
  ];
  for (const [m, reason, extra] of cases) {
    const s = setup({ manifest: m, ...(extra ? { extra } : {}) });
    s.send('temp', 1);
    s.send('hum', 2);
    if (extra) s.send('other', 3);
    await sleep(5);
    assert.equal(s.runs.length, 0);
    assert.match(s.warnings.join('\n'), reason);
    await s.inputs.close();
  }
});

test('a failing prediction is counted and logged once per reason; the next change tries again', async (t) => {
  const s = setup({ fail: 'input "x" has shape [1, 2], model expects [1, 4]' });
  t.after(() => s.inputs.close());
  s.send('hum', 1);
  s.send('temp', 1);
  await sleep(5);
  s.send('temp', 2);
  await sleep(5);
  assert.equal(s.runs.length, 2);
  assert.equal(s.inputs.stats.failed, 2);
  assert.equal(s.warnings.filter((w) => /model expects/.test(w)).length, 1);
});

test('close waits for the prediction in flight', async () => {
  const s = setup({ predictMs: 80 });
  s.send('hum', 1);
  s.send('temp', 1);
  await sleep(5); // the run has started
  const t0 = performance.now();
  await s.inputs.close();
  assert.ok(performance.now() - t0 >= 50, 'close returned before the running prediction finished');
  assert.equal(s.inputs.stats.predictions, 1);
});
