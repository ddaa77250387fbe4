/**
 * @module bench/predict
 * agent.predict_overhead: p50 of HTTP predict (JPEG in → sharp → ONNX Runtime → durable buffer
 * write → JSON out) ÷ p50 of a bare sharp + onnxruntime-node run on the same image and model.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { percentile, timeEach, type Bench } from './figure.js';
import { deploySample, startHarness } from './harness.js';

const N = 400;

export const predictBench: Bench = {
  name: 'agent.predict_overhead',
  async run(progress) {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 110, b: 90 } } })
      .composite([{ input: Buffer.from('<svg width="640" height="480"><circle cx="320" cy="240" r="100" fill="white"/></svg>') }])
      .jpeg()
      .toBuffer();

    progress('baseline: bare sharp + onnxruntime-node');
    const session = await ort.InferenceSession.create(readFileSync(SAMPLE_MODELS.v1), { intraOpNumThreads: 1 });
    const bare = async () => {
      const raw = await sharp(jpeg).removeAlpha().resize(64, 48, { fit: 'fill' }).raw().toBuffer();
      const data = new Float32Array(3 * 48 * 64);
      const plane = 48 * 64;
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = raw[p * 3 + c]! / 255;
      await session.run({ image: new ort.Tensor('float32', data, [1, 3, 48, 64]) });
    };
    await timeEach(50, bare);
    const baseline = percentile(await timeEach(N, bare), 50);
    await session.release();

    progress('agent: HTTP predict with durable buffer write');
    const h = await startHarness();
    try {
      const agent = await h.startAgent('bench-predict', { runtime: { intraOpThreads: 1 } });
      await deploySample(h, 'bench-predict');
      const body = new Uint8Array(jpeg);
      const call = async () => {
        const res = await fetch(`${agent.apiUrl}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body });
        if (res.status !== 200) throw new Error(`predict answered ${res.status}`);
        await res.json();
      };
      await timeEach(50, call);
      const p50 = percentile(await timeEach(N, call), 50);
      return [
        { name: 'agent.predict_overhead', value: p50 / baseline, unit: 'ratio', baseline: 1, note: `HTTP predict p50 ${p50.toFixed(2)} ms vs bare sharp+ORT p50 ${baseline.toFixed(2)} ms (640x480 JPEG)` },
        { name: 'agent.predict_p50_ms', value: p50, unit: 'ms', baseline, note: 'baseline = bare sharp + onnxruntime-node p50' },
      ];
    } finally {
      await h.close();
    }
  },
};
