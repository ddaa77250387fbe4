/**
 * A predict request may say when its input was captured (a camera's or simulator's own clock):
 * the record then carries that time instead of the arrival time, in JSON bodies, batch items and
 * form fields alike; a malformed one is refused with what to send instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupEchoModels } from '../predict/test-models.js';
import { createLocalApi } from './local-api.js';

async function localApi() {
  const models = await setupEchoModels();
  const app = createLocalApi({
    predictor: models.predictor,
    onErrorStatus: () => undefined,
    onError: () => undefined,
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
  const postForm = async (path: string, form: FormData) => {
    const res = await app.request(path, { method: 'POST', body: form });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { ...models, post, postForm };
}

const x = { x: { shape: [1, 4], data: [0, 1, 0, 0] } };

test('capturedAt becomes the record time for JSON bodies, batch items and form fields; absent, the arrival time', async () => {
  const api = await localApi();
  try {
    const before = Date.now();
    assert.equal((await api.post('/v1/models/classes/predict', { inputs: x, capturedAt: 1_000 })).status, 200);
    assert.equal((await api.post('/v1/models/classes/predict', { inputs: x })).status, 200);
    const batch = await api.post('/v1/models/classes/predict/batch', {
      items: [{ inputs: x, capturedAt: 2_000 }, { inputs: x, capturedAt: 3_000 }, { inputs: x }],
    });
    assert.equal(batch.status, 200);
    const form = new FormData();
    form.set('inputs', JSON.stringify(x));
    form.set('capturedAt', '4000');
    assert.equal((await api.postForm('/v1/models/classes/predict', form)).status, 200);

    const ts = api.buffer.readAfter(0, 10).map((r) => r.ts);
    assert.equal(ts.length, 6);
    assert.equal(ts[0], 1_000);
    assert.ok(ts[1]! >= before, 'without capturedAt the record is stamped on arrival');
    assert.deepEqual(ts.slice(2, 4), [2_000, 3_000]);
    assert.ok(ts[4]! >= before);
    assert.equal(ts[5], 4_000);
  } finally {
    await api.close();
  }
});

test('a malformed capturedAt is refused with what to send, and nothing is recorded', async () => {
  const api = await localApi();
  try {
    for (const capturedAt of [-1, 1.5, '1000', 2 ** 60]) {
      const res = await api.post('/v1/models/classes/predict', { inputs: x, capturedAt });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(String(res.body.error), /capturedAt must be the time the input was captured, in epoch milliseconds/);
    }
    const batch = await api.post('/v1/models/classes/predict/batch', {
      items: [
        { inputs: x, capturedAt: -5 },
        { inputs: x, capturedAt: 7 },
      ],
    });
    const results = batch.body.results as Array<{ status: number; error?: string }>;
    assert.equal(results[0]!.status, 400);
    assert.match(results[0]!.error!, /capturedAt/);
    assert.equal(results[1]!.status, 200, 'one bad item does not fail the others');

    const form = new FormData();
    form.set('inputs', JSON.stringify(x));
    form.set('capturedAt', 'yesterday');
    const refused = await api.postForm('/v1/models/classes/predict', form);
    assert.equal(refused.status, 400);
    assert.match(String(refused.body.error), /form field "capturedAt" "yesterday" is invalid: capturedAt must be/);
    assert.deepEqual(
      api.buffer.readAfter(0, 10).map((r) => r.ts),
      [7],
    );
  } finally {
    await api.close();
  }
});
