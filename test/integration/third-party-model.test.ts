/**
 * Acceptance: a real third-party ONNX image model, PaddleOCR's PP-OCRv4 text detector
 * (not built by us), goes through the whole path: registered and signed on a fleet server,
 * deployed to an agent, fed a JPEG over the agent's local API. Its output must equal a bare
 * onnxruntime-node run on the same image, preprocessed here independently by the model authors'
 * recipe; on the native backend and on the WASM fallback alike. The detector must also find the
 * line of text in the image, which shows the preprocessing is the one the model was trained with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import sharp from 'sharp';
import { parseAgentConfig, startAgent, type RunningAgent } from '@edgeloop/agent';
import { startFleetServer } from '@edgeloop/fleet-server';
import { tempDir, waitFor } from '../support/fixtures.js';
import {
  DETECTOR,
  DETECTOR_PREPROCESSING,
  MISSING_MODEL_MESSAGE,
  thirdPartyModelPath,
} from '../support/third-party-model.js';

const silent = pino({ level: 'silent' });
const MODEL = 'ocr-det';
const [W, H] = [480, 360];
/** Where the line of text is drawn, in source-image pixels. */
const TEXT_BOX = { x0: 20, x1: 300, y0: 318, y1: 356 };

/** A scene with distractors (bars, a disc) and one real line of text at TEXT_BOX. */
function sceneJpeg(): Promise<Buffer> {
  const bars = [0, 1, 2, 3].flatMap((row) =>
    [0, 1, 2, 3, 4].map(
      (col) =>
        `<rect x="${30 + col * 84 + row * 7}" y="${40 + row * 62}" width="${40 + ((row * 5 + col * 3) % 4) * 9}" height="18" fill="#151515"/>`,
    ),
  );
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
    `<rect width="100%" height="100%" fill="#f2ede4"/><circle cx="410" cy="290" r="38" fill="#2f6fbf"/>${bars.join('')}` +
    `<text x="${TEXT_BOX.x0 + 10}" y="${TEXT_BOX.y1 - 12}" font-size="24" font-family="sans-serif" fill="#000">EdgeLoop reads 2025</text></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

/** PaddleOCR's det recipe written out by hand (BGR, /255, ImageNet mean/std, CHW), sharing no code with the agent. */
async function paddleDetInput(jpeg: Buffer): Promise<Float32Array> {
  const { width, height, mean, std } = DETECTOR_PREPROCESSING;
  const rgb = await sharp(jpeg)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const plane = width * height;
  const chw = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const bgr = [rgb[p * 3 + 2]!, rgb[p * 3 + 1]!, rgb[p * 3]!];
    for (let c = 0; c < 3; c++) chw[c * plane + p] = (bgr[c]! / 255 - mean[c]!) / std[c]!;
  }
  return chw;
}

test(
  'a third-party detector answers through the agent exactly as in bare onnxruntime-node',
  { timeout: 180_000 },
  async (t) => {
    const modelPath = thirdPartyModelPath();
    if (!modelPath) {
      console.warn(`\n*** ${MISSING_MODEL_MESSAGE} ***\n`);
      t.skip(MISSING_MODEL_MESSAGE);
      return;
    }
    const bytes = readFileSync(modelPath);
    const tmp = tempDir('third-party');
    const server = await startFleetServer(
      { dataDir: join(tmp.dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 } },
      silent,
    );
    const agents: RunningAgent[] = [];
    t.after(async () => {
      for (const a of agents) await a.close();
      await server.close();
      tmp.cleanup();
    });

    await server.registry.register({
      name: MODEL,
      bytes,
      metadata: { preprocessing: DETECTOR_PREPROCESSING, postprocessing: { kind: 'raw' } },
    });

    const jpeg = await sceneJpeg();
    const bare = await ort.InferenceSession.create(bytes);
    const shape = [1, 3, DETECTOR.height, DETECTOR.width];
    const expected = (
      await bare.run({ [DETECTOR.input]: new ort.Tensor('float32', await paddleDetInput(jpeg), shape) })
    )[DETECTOR.output]!;
    await bare.release();
    const want = expected.data as Float32Array;
    assert.deepEqual(expected.dims, [1, 1, DETECTOR.height, DETECTOR.width]);

    for (const backend of ['native', 'wasm'] as const) {
      await t.test(`agent on the ${backend} backend`, async () => {
        const deviceId = `third-party-${backend}`;
        const agent = await startAgent(
          parseAgentConfig({
            deviceId,
            dataDir: join(tmp.dir, deviceId),
            api: { port: 0 },
            // Enrolled in-process: the broker admits only devices with credentials.
            fleet: {
              mqttUrl: server.mqttUrl,
              httpUrl: server.httpUrl,
              trustedKeys: [server.publicKey],
              username: deviceId,
              password: await server.identity.issueCredential(deviceId),
            },
            runtime: { backend },
          }),
          silent,
        );
        agents.push(agent);
        await waitFor('agent birth', async () => (await server.devices.get(deviceId))?.online);
        assert.equal(
          (await server.devices.get(deviceId))?.runtime?.name,
          backend === 'native' ? 'onnxruntime-node' : 'onnxruntime-web',
        );
        await server.deployments.assign(MODEL, 1, [deviceId]);
        await waitFor(
          `${MODEL} active on ${deviceId}`,
          async () => (await server.devices.get(deviceId))?.models.some((m) => m.name === MODEL),
          60_000,
        );

        const res = await fetch(`${agent.apiUrl}/v1/predict`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body: new Uint8Array(jpeg),
        });
        const body = (await res.json()) as {
          model: string;
          version: number;
          outputs: Record<string, { shape: number[]; data: number[] }>;
        };
        assert.equal(res.status, 200, JSON.stringify(body).slice(0, 500));
        assert.equal(body.model, MODEL);
        const got = body.outputs[DETECTOR.output];
        assert.ok(got, `no output "${DETECTOR.output}" in the answer (got ${Object.keys(body.outputs).join(', ')})`);
        assert.deepEqual(got.shape, [...expected.dims]);
        assert.equal(got.data.length, want.length);

        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          // Absolute below 1, relative above: sigmoid outputs stay in [0, 1], so this is 1e-4 absolute here.
          const err = Math.abs(got.data[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
          worst = Math.max(worst, err);
        }
        t.diagnostic(
          `${backend}: max error vs bare onnxruntime-node = ${worst.toExponential(2)} over ${want.length} values`,
        );
        assert.ok(worst <= 1e-4, `agent (${backend}) differs from bare onnxruntime-node by up to ${worst}`);
      });
    }

    // Sanity of the recipe itself: text is found where it was drawn, and (nearly) nowhere else.
    const { inside, outside } = textProbability(want);
    t.diagnostic(
      `text probability: max inside the text box ${inside.toFixed(3)}, share of confident pixels outside ${(outside * 100).toFixed(2)} %`,
    );
    assert.ok(
      inside > 0.9,
      `the detector did not find the drawn text line (max ${inside}); did the SVG text render (fonts installed)?`,
    );
    assert.ok(outside < 0.005, `the detector fires outside the text line on ${(outside * 100).toFixed(2)} % of pixels`);
  },
);

/** Max probability inside TEXT_BOX (scaled to the output map) and the share of pixels > 0.5 outside it. */
function textProbability(map: Float32Array): { inside: number; outside: number } {
  const [mw, mh] = [DETECTOR.width, DETECTOR.height];
  const box = {
    x0: (TEXT_BOX.x0 * mw) / W,
    x1: (TEXT_BOX.x1 * mw) / W,
    y0: (TEXT_BOX.y0 * mh) / H,
    y1: (TEXT_BOX.y1 * mh) / H,
  };
  let inside = 0,
    confidentOutside = 0,
    outsideCount = 0;
  for (let y = 0; y < mh; y++) {
    for (let x = 0; x < mw; x++) {
      const v = map[y * mw + x]!;
      if (x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1) inside = Math.max(inside, v);
      else {
        outsideCount++;
        if (v > 0.5) confidentOutside++;
      }
    }
  }
  return { inside, outside: confidentOutside / outsideCount };
}
