import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  browserOrSkip,
  checkAccessibility,
  collectPageProblems,
  CONTENT_TYPES,
  serveStatic,
  type StaticFile,
  type TestBrowser,
} from '../support/browser.js';
import { gzipSync } from 'node:zlib';
import {
  agentOutputs,
  bundleTryModel,
  bundleTryModelWithInputs,
  channelMeansVersion,
  maxOutputDifference,
  ortWasmAssets,
  runImageInPage,
  sampleVersion,
  wallPng,
} from '../support/try-model.js';

const ORT_PREFIX = '/assets/ort/';
/** What the console's CSP must allow for the model to run: compiling WebAssembly, nothing inline. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

const { version, bytes } = sampleVersion('v1');
const classifier = channelMeansVersion();

function page(versionsJson: string): StaticFile {
  return {
    type: CONTENT_TYPES.html,
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Try a model</title>
<script type="module" src="/try-model.js"></script></head>
<body><main><h1>Try a model</h1>
<form data-try-model data-wasm-paths="${ORT_PREFIX}" data-artifact-url="/api/v1/artifacts/{sha256}">
<script type="application/json" data-try-model-versions>${versionsJson}</script>
<p><label>Version <select name="version"></select></label></p>
<p><label>Image <input type="file" name="image" accept="image/*"></label></p>
<div data-drop-zone>or drop an image here</div>
<p role="alert" data-try-model-error hidden></p>
<output data-try-model-result aria-live="polite"></output>
</form></main></body></html>`,
  };
}

async function serveTryModel(csp = CSP) {
  return serveStatic(
    {
      '/': page(JSON.stringify([version, classifier.version])),
      '/try-model.js': { type: CONTENT_TYPES.js, body: await bundleTryModel() },
      [`/api/v1/artifacts/${version.sha256}`]: { type: CONTENT_TYPES.bin, body: bytes },
      [`/api/v1/artifacts/${classifier.version.sha256}`]: { type: CONTENT_TYPES.bin, body: classifier.bytes },
      ...ortWasmAssets(ORT_PREFIX),
    },
    { csp },
  );
}

test('the page script bundles for a browser: no node:* module, no Buffer, a small share of the JS budget', async () => {
  const { code, inputs } = await bundleTryModelWithInputs();
  assert.deepEqual(
    inputs.filter((i) => i.startsWith('node:')),
    [],
  );
  assert.doesNotMatch(code, /\bBuffer\./);
  // Only the preprocessing constants of the protocol, not its schemas (the whole browser entry is ~110 KB gzipped).
  assert.deepEqual(
    inputs.filter((i) => i.includes('protocol/src/')),
    ['protocol/src/image-features.ts'],
  );
  const gzipped = gzipSync(code).length;
  assert.ok(gzipped < 40_000, `${gzipped} bytes gzipped; the console's budget is 150 KB per page`);
});

async function openPage(browser: TestBrowser, url: string) {
  const p = await browser.newPage();
  const problems = await collectPageProblems(p);
  await p.goto(url);
  await p.locator('[data-try-model][data-state="idle"]').waitFor();
  return { page: p, problems };
}

test(
  "the sample model runs in the page on a PNG at its input size: outputs equal the agent's within 1e-4",
  { timeout: 120_000 },
  async (t) => {
    const browser = await browserOrSkip(t);
    if (!browser) return;
    const server = await serveTryModel();
    t.after(() => server.close());
    const { page: p, problems } = await openPage(browser, `${server.url}/`);

    for (const distance of [60, 180]) {
      const png = await wallPng(distance, 64, 48, distance);
      const result = await runImageInPage(p, { name: `wall-${distance}.png`, mimeType: 'image/png', buffer: png });
      const agent = await agentOutputs(version, bytes, png);
      const diff = maxOutputDifference(result.outputs, agent);
      assert.ok(
        diff <= 1e-4,
        `${distance} mm: browser ${JSON.stringify(result.outputs)} vs agent ${JSON.stringify(agent)}, diff ${diff}`,
      );
      assert.equal(result.kind, 'regression');
      assert.equal(result.unit, 'mm');
      assert.equal(result.prediction, result.outputs.distance!.data[0]);
      assert.equal(result.resampled, false);
      assert.ok(
        Math.abs(result.prediction! - distance) < 40,
        `a plausible distance for ${distance} mm: ${result.prediction}`,
      );
      assert.match((await p.locator('[data-try-model-result]').textContent()) ?? '', /Prediction: [\d.]+ mm/);
    }
    // One download of the model and of the runtime, however many images.
    const fetched = server.requests.map((r) => r.path).filter((path) => path !== '/favicon.ico');
    assert.deepEqual(fetched, [
      '/',
      '/try-model.js',
      `/api/v1/artifacts/${version.sha256}`,
      `${ORT_PREFIX}ort-wasm-simd-threaded.wasm`,
    ]);
    assert.equal(problems.summary(), '', 'no console error, failed request or CSP violation');
    const a11y = await checkAccessibility(p);
    assert.deepEqual(a11y.violations, [], a11y.summary);
  },
);

test(
  "an argmax model on NHWC BGR input with mean/std: scores equal the agent's, labelled and ranked",
  { timeout: 120_000 },
  async (t) => {
    const browser = await browserOrSkip(t);
    if (!browser) return;
    const server = await serveTryModel();
    t.after(() => server.close());
    const { page: p, problems } = await openPage(browser, `${server.url}/`);
    await p.getByLabel('Version').selectOption({ label: 'channel-means v1' });
    const png = await wallPng(150, 64, 48);
    const result = await runImageInPage(p, { name: 'wall.png', mimeType: 'image/png', buffer: png });
    const agent = await agentOutputs(classifier.version, classifier.bytes, png);
    const diff = maxOutputDifference(result.outputs, agent);
    assert.ok(
      diff <= 1e-4,
      `browser ${JSON.stringify(result.outputs)} vs agent ${JSON.stringify(agent)}, diff ${diff}`,
    );
    const scores = agent.scores!.data;
    const best = scores.indexOf(Math.max(...scores));
    assert.equal(result.kind, 'argmax');
    assert.equal(result.prediction, best);
    assert.equal(result.label, ['blue', 'green', 'red'][best]);
    assert.equal(result.confidence, result.outputs.scores!.data[best]);
    assert.deepEqual(
      result.ranking?.map((r) => r.index),
      [0, 1, 2].sort((a, b) => scores[b]! - scores[a]!),
    );
    assert.match(
      (await p.locator('[data-try-model-result]').textContent()) ?? '',
      new RegExp(`Class: ${result.label}`),
    );
    assert.equal(problems.summary(), '');
  },
);

test(
  'a larger photo is resized in the page: close to the agent, marked as resampled',
  { timeout: 120_000 },
  async (t) => {
    const browser = await browserOrSkip(t);
    if (!browser) return;
    const server = await serveTryModel();
    t.after(() => server.close());
    const { page: p, problems } = await openPage(browser, `${server.url}/`);
    const png = await wallPng(120, 160, 120);
    const result = await runImageInPage(p, { name: 'wall.png', mimeType: 'image/png', buffer: png });
    const agent = await agentOutputs(version, bytes, png);
    assert.equal(result.resampled, true);
    // The canvas's filter is not sharp's lanczos3: a few mm apart at most on this model.
    const diff = maxOutputDifference(result.outputs, agent);
    assert.ok(diff < 5, `browser ${result.prediction} vs agent ${agent.distance!.data[0]}: ${diff} mm`);
    assert.match((await p.locator('[data-try-model-result]').textContent()) ?? '', /resized in the browser/);
    assert.equal(problems.summary(), '');
  },
);

test("without 'wasm-unsafe-eval' the runtime cannot compile, and the page says so", { timeout: 120_000 }, async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const server = await serveTryModel("default-src 'self'; script-src 'self'");
  t.after(() => server.close());
  const { page: p, problems } = await openPage(browser, `${server.url}/`);
  await assert.rejects(
    runImageInPage(p, { name: 'wall.png', mimeType: 'image/png', buffer: await wallPng(100, 64, 48) }),
    /the page says: onnxruntime-web could not load edgeloop-distance v1/,
  );
  assert.ok(problems.of('csp').length > 0, `a CSP violation is reported: ${problems.summary()}`);
});

test('a file that is no image is refused with a reason', { timeout: 120_000 }, async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const server = await serveTryModel();
  t.after(() => server.close());
  const { page: p } = await openPage(browser, `${server.url}/`);
  await assert.rejects(
    runImageInPage(p, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') }),
    /not an image this browser can decode .*use a PNG or JPEG/,
  );
  assert.equal(await p.getByRole('alert').isVisible(), true);
});
