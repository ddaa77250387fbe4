/**
 * @module bench/predict
 * agent.predict_overhead: p50 of an HTTP predict (JPEG in → sharp → ONNX Runtime → fsynced
 * buffer write → JSON out) ÷ p50 of a bare script doing sharp + onnxruntime-node on the same
 * image and model. The headline figure uses a camera-sized frame (1280×720, textured, as a Pi
 * Camera delivers); the 640×480 figure and the fixed overhead in ms are reported beside it so
 * the cost per request is visible whatever the frame size. The client is a keep-alive HTTP
 * client, as a local application would use. The fleet server is stopped after the model is
 * deployed, so the figure is the agent's own cost (the record is still fsynced to its buffer).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SAMPLE_MODELS } from '@edgeloop/models';
import { percentile, timeEach, type Bench, type Figure } from './figure.js';
import { startTestFleet } from '../../test/support/in-process-fleet.js';

const N = 300;

/** A frame with texture (noise + shapes), so JPEG decoding costs what a real camera frame costs. */
async function frame(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 110, sigma: 30 } } }).png().toBuffer();
  const shapes = Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${height / 4}" fill="white"/><rect x="20" y="20" width="${width / 5}" height="${height / 6}" fill="#305080"/></svg>`);
  return sharp(noise).composite([{ input: shapes }]).jpeg({ quality: 85 }).toBuffer();
}

function bareRunner(session: ort.InferenceSession, jpeg: Buffer) {
  return async () => {
    const raw = await sharp(jpeg).removeAlpha().resize(64, 48, { fit: 'fill' }).raw().toBuffer();
    const plane = 48 * 64;
    const data = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = raw[p * 3 + c]! / 255;
    await session.run({ image: new ort.Tensor('float32', data, [1, 3, 48, 64]) });
  };
}

function httpPredict(apiUrl: string, jpeg: Buffer, agent: http.Agent) {
  const url = new URL(`${apiUrl}/v1/predict`);
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'image/jpeg', 'content-length': jpeg.length } },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`predict answered ${res.statusCode}`));
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(jpeg);
    });
}

export const predictBench: Bench = {
  name: 'agent.predict_overhead',
  async run(progress) {
    const frames = { '1280x720': await frame(1280, 720), '640x480': await frame(640, 480) };
    const session = await ort.InferenceSession.create(readFileSync(SAMPLE_MODELS.v1), { intraOpNumThreads: 1 });
    const h = await startTestFleet();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const agent = await h.startAgent('bench-predict', { runtime: { intraOpThreads: 1 } });
      await h.deploySample('bench-predict');
      // Measure the agent alone, as on a device: the fleet server (its own fsyncs and CPU) would
      // otherwise share this machine. The agent keeps serving and buffering while offline.
      await h.server.close();
      const figures: Figure[] = [];
      for (const [size, jpeg] of Object.entries(frames)) {
        progress(`${size}: bare sharp + onnxruntime-node, then HTTP predict`);
        const bare = bareRunner(session, jpeg);
        const call = httpPredict(agent.apiUrl, jpeg, keepAlive);
        await timeEach(30, bare);
        await timeEach(30, call);
        // Interleaved rounds, so both sides see the same machine load.
        const bareSamples: number[] = [];
        const httpSamples: number[] = [];
        for (let round = 0; round < 3; round++) {
          bareSamples.push(...(await timeEach(N / 3, bare)));
          httpSamples.push(...(await timeEach(N / 3, call)));
        }
        const baseline = percentile(bareSamples, 50);
        const p50 = percentile(httpSamples, 50);
        const suffix = size === '1280x720' ? '' : `_${size}`;
        figures.push(
          { name: `agent.predict_overhead${suffix}`, value: p50 / baseline, unit: 'ratio', baseline: 1, note: `HTTP predict p50 ${p50.toFixed(2)} ms vs bare sharp+ORT p50 ${baseline.toFixed(2)} ms (${size} JPEG)` },
          { name: `agent.predict_fixed_overhead_ms${suffix}`, value: p50 - baseline, unit: 'ms', baseline, note: `HTTP + validation + features + fsynced record per request (${size}); baseline = bare p50 ms` },
        );
      }
      return figures;
    } finally {
      keepAlive.destroy();
      await session.release();
      await h.close();
    }
  },
};
