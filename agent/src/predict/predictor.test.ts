/**
 * What a JSON tensor request turns into, end to end through a real ONNX Runtime session and a
 * real SQLite buffer: a wrong input name is a 422 that names the model's inputs, and a tensor
 * carrying several samples in its batch dimension is refused (422) for every postprocessing kind
 * rather than recorded as one prediction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from './image-input.js';
import { setupEchoModels } from './test-models.js';

const json = (inputs: unknown) => ({ kind: 'json' as const, body: { inputs } });

/** The request is refused with `status` and a message matching `pattern`. */
function refusedWith(status: number, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.match(err.message, pattern);
    return true;
  };
}

test('a JSON tensor under a wrong or missing input name is a 422 that names the model inputs, and nothing is recorded', async () => {
  const s = await setupEchoModels();
  try {
    // The README example's name, sent to a model whose input is "x".
    await assert.rejects(
      s.predictor.predict('classes', json({ image: { shape: [1, 4], data: [0, 1, 0, 0] } })),
      refusedWith(422, /missing input "x".*takes input\(s\) x.*sent image/),
    );
    await assert.rejects(
      s.predictor.predict('classes', json({})),
      refusedWith(422, /missing input "x".*takes input\(s\) x/),
    );
    await assert.rejects(
      s.predictor.predict('classes', {
        kind: 'form',
        files: [],
        inputs: { image: { shape: [1, 4], data: [0, 1, 0, 0] } },
      }),
      refusedWith(422, /missing input "x".*takes input\(s\) x/),
    );
    assert.equal(s.buffer.count(), 0);
  } finally {
    await s.close();
  }
});

test('a batch of several samples in one /v1/predict request is refused for argmax, regression and raw models, and nothing is recorded', async () => {
  const s = await setupEchoModels();
  try {
    const two = { x: { shape: [2, 4], data: [0, 1, 0, 0, 0, 0, 0, 9] } };
    for (const model of ['classes', 'level', 'echo']) {
      await assert.rejects(
        s.predictor.predict(model, json(two)),
        refusedWith(422, /input "x" has shape \[2, 4\]: 2 samples.*\/v1\/predict\/batch/),
        model,
      );
    }
    await assert.rejects(
      s.predictor.predict('classes', json({ x: { shape: [0, 4], data: [] } })),
      refusedWith(422, /0 samples/),
    );
    assert.equal(s.buffer.count(), 0);
  } finally {
    await s.close();
  }
});

test('one sample per request still predicts with its label, and each batch item is one sample with its own record', async () => {
  const s = await setupEchoModels();
  try {
    const one = await s.predictor.predict('classes', json({ x: { shape: [1, 4], data: [0, 0, 5, 1] } }));
    assert.equal(one.prediction, 2);
    assert.equal(one.label, 'fox');
    assert.equal(
      (await s.predictor.predict('level', json({ x: { shape: [1, 4], data: [7, 0, 0, 0] } }))).prediction,
      7,
    );
    assert.equal(s.buffer.count(), 2);

    const items = await s.predictor.predictBatch('classes', [
      json({ x: { shape: [1, 4], data: [9, 0, 0, 0] } }),
      json({ x: { shape: [2, 4], data: [0, 1, 0, 0, 0, 0, 0, 9] } }),
      json({ x: { shape: [1, 4], data: [0, 0, 0, 9] } }),
    ]);
    assert.deepEqual(
      items.map((r) => r.status),
      [200, 422, 200],
    );
    assert.deepEqual(
      items.map((r) => ('result' in r ? r.result.label : undefined)),
      ['cat', undefined, 'owl'],
    );
    assert.equal(s.buffer.count(), 4);
  } finally {
    await s.close();
  }
});

test('a rank-1 input with a dynamic length is a sequence, not a batch: any length is accepted', async () => {
  const s = await setupEchoModels();
  try {
    const r = await s.predictor.predict('seq', json({ x: { shape: [3], data: [4, 5, 6] } }));
    assert.equal(r.prediction, 4);
  } finally {
    await s.close();
  }
});
