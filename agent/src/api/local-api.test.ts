import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { RunningAgent } from '../agent.js';
import { flatJpeg, greyInputs, metricValue, startTestFleet, until, type TestFleet } from './test-support.js';

const DEVICE = 'api-test-1';

interface Json {
  [key: string]: unknown;
}

async function call(
  agent: RunningAgent,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${agent.apiUrl}${path}`, init);
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

const postJson = (agent: RunningAgent, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(agent, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const postForm = (agent: RunningAgent, path: string, fields: Record<string, string | Blob>) => {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return call(agent, path, { method: 'POST', body: form });
};

async function scrape(agent: RunningAgent): Promise<string> {
  const res = await fetch(`${agent.apiUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

test('local API: health, multipart, batch, metrics, request ids', { timeout: 120_000 }, async (t) => {
  const fleet: TestFleet = await startTestFleet();
  t.after(() => fleet.close());
  // Per-model feature selection: the sample model records only brightness and sharpness.
  const agent = await fleet.startAgent(DEVICE, {
    features: { default: ['mean_rgb'], models: { distance: ['brightness', 'sharpness'] } },
  });

  await t.test('live is 200 at once; ready is 503 with a reason until a model is active', async () => {
    assert.equal((await call(agent, '/v1/health/live')).status, 200);
    const notReady = await call(agent, '/v1/health/ready');
    assert.equal(notReady.status, 503);
    assert.match(String(notReady.body.error), /no model is active yet; deploy one/);
    const health = await call(agent, '/v1/health');
    for (const field of ['status', 'deviceId', 'connected', 'models', 'backlog', 'dropped', 'stream'])
      assert.ok(field in health.body, field);

    await fleet.deploySample(DEVICE);
    const ready = await call(agent, '/v1/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(
      (ready.body.models as Json[]).map((m) => [m.name, m.version]),
      [['distance', 1]],
    );
  });

  await t.test('x-request-id is echoed, on success and on errors', async () => {
    const ok = await postJson(agent, '/v1/predict', { inputs: greyInputs(0.5) }, { 'x-request-id': 'corr-1' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-request-id'), 'corr-1');
    assert.equal(ok.body.requestId, 'corr-1');
    const fromBody = await postJson(agent, '/v1/predict', { inputs: greyInputs(0.5), requestId: 'corr-body' });
    assert.equal(fromBody.headers.get('x-request-id'), 'corr-body');
    const missing = await call(agent, '/v1/nothing', { headers: { 'x-request-id': 'corr-2' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-request-id'), 'corr-2');
  });

  await t.test(
    '/v1/health says how the device monitors each version; x-captured-at sets a raw image record time',
    async () => {
      const jpeg = await flatJpeg(90);
      const captured = await call(agent, '/v1/predict', {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': '1700000000000', 'x-request-id': 'captured-1' },
        body: new Uint8Array(jpeg),
      });
      assert.equal(captured.status, 200, JSON.stringify(captured.body));
      assert.equal((await waitForRecord(fleet, 'captured-1')).ts, 1_700_000_000_000);
      const refused = await call(agent, '/v1/predict', {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-captured-at': 'now' },
        body: new Uint8Array(jpeg),
      });
      assert.equal(refused.status, 400);
      assert.match(String(refused.body.error), /header x-captured-at "now" is invalid: capturedAt must be/);

      type Monitoring = { settings: string; rules: string[]; versions: Json[]; alerts: unknown[] };
      let monitoring: Monitoring | undefined;
      await until('the version in the monitoring health', async () => {
        monitoring = (await call(agent, '/v1/health')).body.monitoring as Monitoring | undefined;
        return (monitoring?.versions.length ?? 0) > 0;
      });
      if (!monitoring) assert.fail('no monitoring in /v1/health');
      assert.equal(monitoring.settings, 'config');
      assert.deepEqual(monitoring.rules, ['device-feature-drift', 'device-live-error']);
      assert.deepEqual(monitoring.alerts, []);
      // The sample is registered without a training summary: nothing to compare with, and it says so.
      assert.deepEqual(monitoring.versions[0], {
        model: 'distance',
        version: 1,
        baseline: false,
        pageHinkley: 'off: the manifest carries no training baseline',
      });
    },
  );

  await t.test('multipart: an image file and a JSON "inputs" field both predict', async () => {
    const jpeg = await flatJpeg(128);
    const raw = await call(agent, '/v1/predict', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(jpeg),
    });
    const image = await postForm(agent, '/v1/predict', {
      image: new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }),
      requestId: 'form-img',
    });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    assert.equal(image.body.requestId, 'form-img');
    assert.equal(image.body.prediction, raw.body.prediction, 'a form upload predicts exactly like a raw body');
    const asFile = await postForm(agent, '/v1/models/distance/predict', { file: new Blob([new Uint8Array(jpeg)]) });
    assert.equal(asFile.status, 200);

    const tensors = await postForm(agent, '/v1/predict', {
      inputs: JSON.stringify(greyInputs(0.25)),
      requestId: 'form-json',
    });
    assert.equal(tensors.status, 200, JSON.stringify(tensors.body));
    const direct = await postJson(agent, '/v1/predict', { inputs: greyInputs(0.25) });
    assert.equal(tensors.body.prediction, direct.body.prediction);

    // The configured features (brightness + sharpness for this model) reach the fleet server.
    const stored = await waitForRecord(fleet, 'form-img');
    assert.deepEqual(Object.keys(stored.features).sort(), ['brightness', 'sharpness']);
    assert.ok(Math.abs(stored.features.brightness! - 128 / 255) < 0.02);
    assert.ok(stored.features.sharpness! < 1e-3, 'a flat image has no edges');
  });

  await t.test('multipart mistakes get a 4xx that says what to send', async () => {
    const jpeg = new Blob([new Uint8Array(await flatJpeg(10))]);
    const cases: Array<[Record<string, string | Blob>, number, RegExp]> = [
      [{ photo: jpeg }, 422, /file field "photo" is not the image input.*name it "image"/],
      [{ image: jpeg, file: jpeg }, 400, /takes one image/],
      [{ requestId: 'x' }, 400, /no image file and no "inputs" field/],
      [{ image: jpeg, colour: 'red' }, 400, /unknown form field "colour"/],
      [{ inputs: '{"image": ' }, 400, /"inputs" is not valid JSON/],
      [{ inputs: '{"image": {"shape": "x"}}' }, 400, /invalid "inputs" form field/],
      [{ image: new Blob([]) }, 400, /is empty/],
      [{ image: new Blob(['not an image']) }, 415, /not a decodable image/],
      [{ image: jpeg, inputs: JSON.stringify(greyInputs(0)) }, 400, /given twice/],
    ];
    for (const [fields, status, error] of cases) {
      const res = await postForm(agent, '/v1/predict', fields);
      assert.equal(res.status, status, `${Object.keys(fields).join('+')}: ${JSON.stringify(res.body)}`);
      assert.match(String(res.body.error), error);
    }
    const garbled = await call(agent, '/v1/predict', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'no boundary',
    });
    assert.equal(garbled.status, 400);
    assert.match(String(garbled.body.error), /not valid multipart\/form-data/);
  });

  await t.test('batch: same-shape items run as one ONNX Runtime call; a bad item fails alone', async () => {
    const before = await scrape(agent);
    const batchCalls = () => metricValue(before, 'edgeloop_inference_batch_size_count', { model: 'distance' }) ?? 0;
    const items = [
      { inputs: greyInputs(0.1), requestId: 'b-0' },
      { inputs: greyInputs(0.6) },
      { inputs: { image: { shape: [1, 3, 10, 10], data: new Array(300).fill(0) } } },
      { inputs: greyInputs(0.9), requestId: 'b-3' },
      'not an object',
    ];
    const res = await postJson(agent, '/v1/models/distance/predict/batch', { items });
    assert.equal(res.status, 200);
    const results = res.body.results as Json[];
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 422, 200, 400],
    );
    assert.match(String(results[2]!.error), /shape \[1, 3, 10, 10\]/);
    assert.match(String(results[4]!.error), /invalid JSON input/);
    const good = [results[0]!, results[1]!, results[3]!];
    assert.deepEqual(
      good.map((r) => r.batchSize),
      [3, 3, 3],
    );
    assert.deepEqual([results[0]!.requestId, results[3]!.requestId], ['b-0', 'b-3']);
    const seqs = good.map((r) => (r.record as { seq: number }).seq);
    assert.equal(new Set(seqs).size, 3, 'every item is its own record');

    // Stacked results are the same as one-by-one predictions.
    for (const [i, level] of [
      [0, 0.1],
      [1, 0.6],
      [3, 0.9],
    ] as const) {
      const single = await postJson(agent, '/v1/predict', { inputs: greyInputs(level) });
      assert.ok(Math.abs((results[i]!.prediction as number) - (single.body.prediction as number)) < 1e-3);
    }
    const after = await scrape(agent);
    // One call of 3 for the batch, then the 3 single predictions above.
    assert.equal(
      (metricValue(after, 'edgeloop_inference_batch_size_count', { model: 'distance' }) ?? 0) - batchCalls(),
      4,
    );
    assert.equal(
      (metricValue(after, 'edgeloop_inference_batch_size_sum', { model: 'distance' }) ?? 0) -
        (metricValue(before, 'edgeloop_inference_batch_size_sum', { model: 'distance' }) ?? 0),
      6,
    );
    // /v1/predict/batch addresses the only active model.
    assert.equal((await postJson(agent, '/v1/predict/batch', { items: [{ inputs: greyInputs(0.3) }] })).status, 200);
  });

  await t.test('batch: malformed, empty and oversized batches are refused as a whole', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ inputs: greyInputs(0.1) }, 400, /invalid batch.*items/],
      [{ items: [] }, 400, /no items/],
      [{ items: new Array(257).fill({ inputs: { image: { shape: [1], data: [0] } } }) }, 413, /at most 256.*split/],
    ];
    for (const [body, status, error] of cases) {
      const res = await postJson(agent, '/v1/predict/batch', body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(String(res.body.error), error);
    }
    const unknown = await postJson(agent, '/v1/models/nope/predict/batch', { items: [{ inputs: greyInputs(0) }] });
    assert.equal(unknown.status, 404);
    const form = await postForm(agent, '/v1/predict/batch', { inputs: '{}' });
    assert.equal(form.status, 415);
  });

  await t.test('bodies over 32 MiB get 413, declared or chunked, and the agent keeps serving', async () => {
    const url = new URL(`${agent.apiUrl}/v1/predict`);
    const send = (headers: Record<string, string | number>, write: (req: http.ClientRequest) => void) =>
      new Promise<{ status: number; body: Json }>((resolve, reject) => {
        const req = http.request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json }));
          },
        );
        // The agent may answer and stop reading before the upload is done.
        req.on('error', (err) =>
          (err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET'
            ? undefined
            : reject(err),
        );
        write(req);
      });
    const declared = await send({ 'content-type': 'image/jpeg', 'content-length': 33 * 1024 * 1024 }, (req) =>
      req.write(Buffer.alloc(1024)),
    );
    assert.equal(declared.status, 413);
    assert.match(String(declared.body.error), /exceeds 33554432 bytes; send a smaller image/);
    for (const type of ['image/jpeg', 'application/json']) {
      const chunked = await send({ 'content-type': type }, (req) => {
        const block = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 40 && !req.destroyed) {
            sent++;
            if (!req.write(block)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      assert.equal(chunked.status, 413, type);
      assert.match(String(chunked.body.error), /exceeds 33554432 bytes/);
    }
    const after = await call(agent, '/v1/predict', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(await flatJpeg(128)),
    });
    assert.equal(after.status, 200);
  });

  await t.test('/metrics: latency histogram, buffer gauges, link, models and update state', async () => {
    for (let i = 0; i < 5; i++) await postJson(agent, '/v1/predict', { inputs: greyInputs(i / 5) });
    const text = await scrape(agent);
    const labels = { model: 'distance', version: '1' };
    const count = metricValue(text, 'edgeloop_predict_duration_seconds_count', labels)!;
    const sum = metricValue(text, 'edgeloop_predict_duration_seconds_sum', labels)!;
    assert.ok(count >= 5, `histogram count ${count}`);
    assert.ok(sum > 0 && sum / count < 1, `mean latency ${sum / count} s`);
    assert.equal(metricValue(text, 'edgeloop_predict_duration_seconds_bucket', { ...labels, le: '+Inf' }), count);
    assert.ok(metricValue(text, 'edgeloop_predict_duration_seconds_bucket', { ...labels, le: '0.0001' }) !== undefined);
    assert.ok((metricValue(text, 'edgeloop_preprocess_duration_seconds_count', labels) ?? 0) >= 5);
    assert.ok((metricValue(text, 'edgeloop_predictions_total', { ...labels, outcome: 'ok' }) ?? 0) >= count);
    assert.ok((metricValue(text, 'edgeloop_predictions_total', { ...labels, outcome: 'invalid_input' }) ?? 0) >= 1);
    assert.ok((metricValue(text, 'edgeloop_api_request_errors_total', { status: '422' }) ?? 0) >= 1);
    const records = metricValue(text, 'edgeloop_buffer_records')!;
    assert.ok(records >= 0 && records <= count, `buffer records ${records}`);
    assert.ok(metricValue(text, 'edgeloop_buffer_bytes')! > 4096);
    assert.equal(metricValue(text, 'edgeloop_buffer_dropped_total'), 0);
    const lag = metricValue(text, 'edgeloop_sync_lag_seconds')!;
    assert.ok(lag >= 0 && lag < 60, `sync lag ${lag}`);
    assert.equal(metricValue(text, 'edgeloop_fleet_connected'), 1);
    assert.equal(metricValue(text, 'edgeloop_model_info', { ...labels, backend: 'onnxruntime-node' }), 1);
    assert.equal(metricValue(text, 'edgeloop_model_update_state', { model: 'distance', state: 'active' }), 1);
    assert.equal(metricValue(text, 'edgeloop_model_update_state', { model: 'distance', state: 'downloading' }), 0);
    assert.ok(metricValue(text, 'process_resident_memory_bytes')! > 0, 'process metrics are on the same registry');
  });
});

async function waitForRecord(fleet: TestFleet, requestId: string) {
  let found: { features: Record<string, number>; ts: number } | undefined;
  await until(`record ${requestId} at the fleet server`, async () => {
    found = (await fleet.server.telemetry.query({ device: DEVICE, limit: 500 })).find((r) => r.requestId === requestId);
    return found !== undefined;
  });
  return found!;
}
