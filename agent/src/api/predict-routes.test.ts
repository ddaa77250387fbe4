/**
 * The predict routes' answers to the two JSON tensor mistakes a new user makes first: a tensor
 * named after the README example ("image") for a model whose input is "x", and several samples
 * stacked in one /v1/predict request. Both are 422 JSON errors saying what to send instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupEchoModels } from '../predict/test-models.js';
import { createLocalApi } from './local-api.js';

async function localApi() {
  const models = await setupEchoModels();
  const errors: unknown[] = [];
  const app = createLocalApi({
    predictor: models.predictor,
    onErrorStatus: () => undefined,
    onError: (err) => errors.push(err),
    health: () => ({}),
    models: () => [],
    ready: () => ({ ready: true, reasons: [] }),
    metrics: { render: async () => '', contentType: 'text/plain' },
  });
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { ...models, post, errors };
}

test('POST /v1/models/{name}/predict with a tensor under the wrong name answers 422 naming the model inputs, not 500', async () => {
  const api = await localApi();
  try {
    const res = await api.post('/v1/models/classes/predict', {
      inputs: { image: { shape: [1, 4], data: [0, 1, 0, 0] } },
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(
      String(res.body.error),
      /missing input "x": model classes v1 takes input\(s\) x, the request sent image/,
    );
    assert.deepEqual(api.errors, []);
  } finally {
    await api.close();
  }
});

test('POST /v1/models/{name}/predict with two samples answers 422 pointing at /v1/predict/batch; the batch route answers per item', async () => {
  const api = await localApi();
  try {
    const two = { x: { shape: [2, 4], data: [0, 1, 0, 0, 0, 0, 0, 9] } };
    const single = await api.post('/v1/models/classes/predict', { inputs: two });
    assert.equal(single.status, 422, JSON.stringify(single.body));
    assert.match(String(single.body.error), /2 samples.*POST \/v1\/predict\/batch/);

    const batch = await api.post('/v1/models/classes/predict/batch', {
      items: [
        { inputs: { x: { shape: [1, 4], data: [0, 1, 0, 0] } } },
        { inputs: { x: { shape: [1, 4], data: [0, 0, 0, 9] } } },
      ],
    });
    assert.equal(batch.status, 200);
    const results = batch.body.results as Array<{
      status: number;
      prediction: number;
      label: string;
      record: { seq: number };
    }>;
    assert.deepEqual(
      results.map((r) => [r.status, r.prediction, r.label]),
      [
        [200, 1, 'dog'],
        [200, 3, 'owl'],
      ],
    );
    assert.equal(new Set(results.map((r) => r.record.seq)).size, 2);
    assert.equal(api.buffer.count(), 2);
  } finally {
    await api.close();
  }
});
