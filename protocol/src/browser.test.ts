import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

test('the browser entry bundles for a browser: no node:* module, no Buffer', async () => {
  const result = await build({
    entryPoints: [new URL('./browser.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(inputs.filter((i) => i.startsWith('node:') || /protocol\/src\/(signing|codec|telemetry-codec|sample-codec|state-dir|tls-fetch)\.ts$/.test(i)), []);
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /\bBuffer\./, 'Buffer does not exist in a browser');
  assert.ok(inputs.some((i) => i.endsWith('protocol/src/messages.ts')), 'the message schemas are in it');
});
