/**
 * @module support/try-model
 * For tests of "try a model in the browser": the page script bundled as the console serves it,
 * onnxruntime-web's .wasm, a committed sample model as the page sees a version, the agent's answer
 * on the same image (its own preprocessing on sharp, onnxruntime-node), and the comparison of the
 * two. The page-driving part (`runImageInPage`) is small so it can be pointed at the real console.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { imageToTensor, ModelRunner } from '@edgeloop/agent/testing';
import { REFERENCE_INPUT, REFERENCE_OUTPUT, SAMPLE_MODELS, SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import { attr, node, serializeModel, valueInfo } from '@edgeloop/models/onnx-graph';
import { imagePreprocessingSchema, postprocessingSchema, preprocessingSchema, type Manifest } from '@edgeloop/protocol';
import { loadScenario, renderRaw } from '@edgeloop/simulator';
import type { OutputValues } from '../../fleet-server/src/console/client/try-model/postprocess.js';
import type { TryModelResult, TryModelVersion } from '../../fleet-server/src/console/client/try-model/run-model.js';
import { CONTENT_TYPES, type StaticFile } from './browser.js';

export const TRY_MODEL_ENTRY = fileURLToPath(
  new URL('../../fleet-server/src/console/client/try-model/index.ts', import.meta.url),
);

/** The page script as a browser gets it: one ES module, minified; and the files it was built from. */
export async function bundleTryModelWithInputs(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [TRY_MODEL_ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

export async function bundleTryModel(): Promise<string> {
  return (await bundleTryModelWithInputs()).code;
}

/** The onnxruntime-web file the bundled runtime fetches, under the URL prefix given as wasmPaths. */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.wasm'] as const;

export function ortWasmAssets(prefix: string): Record<string, StaticFile> {
  const require = createRequire(import.meta.url);
  return Object.fromEntries(
    ORT_WASM_FILES.map((name) => [
      `${prefix}${name}`,
      { type: CONTENT_TYPES.wasm, body: readFileSync(require.resolve(`onnxruntime-web/${name}`)) },
    ]),
  );
}

/** A committed sample model as the console describes a version, with its bytes. */
export function sampleVersion(which: 'v1' | 'v2' = 'v1'): { version: TryModelVersion; bytes: Uint8Array } {
  const bytes = new Uint8Array(readFileSync(SAMPLE_MODELS[which]));
  const meta = JSON.parse(readFileSync(SAMPLE_VERSION_METADATA[which], 'utf8')) as Record<string, unknown>;
  return {
    bytes,
    version: {
      name: 'edgeloop-distance',
      version: which === 'v1' ? 1 : 2,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      inputs: [{ ...REFERENCE_INPUT, shape: [...REFERENCE_INPUT.shape] }],
      outputs: [{ ...REFERENCE_OUTPUT, shape: [...REFERENCE_OUTPUT.shape] }],
      preprocessing: preprocessingSchema.parse(meta.preprocessing),
      postprocessing: postprocessingSchema.parse(meta.postprocessing),
    },
  };
}

/**
 * A tiny classifier for the other half of the preprocessing options: NHWC, BGR, ImageNet mean/std,
 * and argmax with labels. Its scores are the mean of each (normalised) channel, so its class is the
 * image's dominant colour.
 */
export function channelMeansVersion(): { version: TryModelVersion; bytes: Uint8Array } {
  const bytes = serializeModel({
    graph: {
      name: 'channel-means',
      nodes: [
        node({
          opType: 'ReduceMean',
          inputs: ['pixels'],
          outputs: ['scores'],
          attributes: { axes: attr.ints([1, 2]), keepdims: attr.int(0) },
        }),
      ],
      initializers: [],
      inputs: [valueInfo('pixels', 'float32', ['batch', 48, 64, 3])],
      outputs: [valueInfo('scores', 'float32', ['batch', 3])],
    },
  });
  return {
    bytes,
    version: {
      name: 'channel-means',
      version: 1,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      inputs: [{ name: 'pixels', dtype: 'float32', shape: ['batch', 48, 64, 3] }],
      outputs: [{ name: 'scores', dtype: 'float32', shape: ['batch', 3] }],
      preprocessing: imagePreprocessingSchema.parse({
        kind: 'image',
        input: 'pixels',
        width: 64,
        height: 48,
        layout: 'NHWC',
        colorOrder: 'BGR',
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      }),
      postprocessing: { kind: 'argmax', output: 'scores', labels: ['blue', 'green', 'red'] },
    },
  };
}

/** The baseline garage wall `distanceMm` away, as a PNG of the given size (lossless, so decoders agree). */
export async function wallPng(distanceMm: number, width: number, height: number, seed = 1): Promise<Buffer> {
  const settings = loadScenario('baseline').phases[0]!.settings;
  const mid = (r: { min: number; max: number }) => (r.min + r.max) / 2;
  const frame = renderRaw({
    distanceMm,
    angleDeg: mid(settings.angle),
    floor: settings.floor,
    wallRgb: settings.wall,
    lighting: { gain: mid(settings.gain), offset: mid(settings.offset) },
    noise: mid(settings.noise),
    blur: mid(settings.blur),
    seed,
    width,
    height,
  });
  return sharp(frame.data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** What the agent computes on the same image: its preprocessing (sharp), onnxruntime-node, its outputs. */
export async function agentOutputs(
  version: TryModelVersion,
  model: Uint8Array,
  image: Uint8Array,
): Promise<Record<string, OutputValues>> {
  const pre = version.preprocessing;
  if (pre.kind !== 'image') throw new Error(`${version.name} v${version.version} takes no image`);
  const manifest = { ...version, preprocessing: pre } as unknown as Manifest;
  const runner = await ModelRunner.load(manifest, model, { intraOpThreads: 1 });
  try {
    const tensor = await imageToTensor(image, pre);
    const out = await runner.run({ [pre.input]: { dtype: 'float32', dims: tensor.shape, data: tensor.data } });
    return Object.fromEntries(
      Object.entries(out).map(([name, t]) => [
        name,
        { shape: [...t.dims], data: Array.from(t.data as ArrayLike<number | bigint>, Number) },
      ]),
    );
  } finally {
    await runner.release();
  }
}

/** The largest absolute difference between two sets of outputs; throws if their names or shapes differ. */
export function maxOutputDifference(
  browser: Record<string, OutputValues>,
  agent: Record<string, OutputValues>,
): number {
  const names = Object.keys(agent).sort();
  if (Object.keys(browser).sort().join() !== names.join())
    throw new Error(`outputs differ: browser ${Object.keys(browser).join(', ')}, agent ${names.join(', ')}`);
  let max = 0;
  for (const name of names) {
    const a = browser[name]!,
      b = agent[name]!;
    if (a.shape.join() !== b.shape.join())
      throw new Error(`output ${name}: browser shape [${a.shape}], agent shape [${b.shape}]`);
    a.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - b.data[i]!))));
  }
  return max;
}

/**
 * Gives the page's try-model form an image through its file input and waits for the result the
 * form publishes (data-state done, data-result JSON); a page error becomes the thrown message.
 */
export async function runImageInPage(
  page: Page,
  image: { name: string; mimeType: string; buffer: Buffer },
  form = '[data-try-model]',
): Promise<TryModelResult> {
  const root = page.locator(form);
  await root.locator('input[type="file"]').setInputFiles(image);
  await page.waitForFunction(
    (selector) => ['done', 'error'].includes(document.querySelector<HTMLElement>(selector)?.dataset.state ?? ''),
    form,
    { timeout: 60_000 },
  );
  if ((await root.getAttribute('data-state')) === 'error')
    throw new Error(`the page says: ${await root.locator('[data-try-model-error]').textContent()}`);
  return JSON.parse((await root.getAttribute('data-result')) ?? 'null') as TryModelResult;
}
