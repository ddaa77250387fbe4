import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

const NODE_ONLY =
  /protocol\/src\/(signing|keyset|artifact|desired-state|codec|telemetry-codec|sample-codec|chunk-transfer|ca-pin|state-dir|tls-fetch|node)\.ts$/;

async function bundleForBrowser(entry: string, external: string[] = []) {
  const result = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external,
  });
  return { inputs: Object.keys(result.metafile.inputs), code: result.outputFiles[0]!.text };
}

for (const entry of ['./browser.ts', './client.ts']) {
  test(`${entry} bundles for a browser: no node:* module, no Buffer`, async () => {
    const { inputs, code } = await bundleForBrowser(entry);
    assert.deepEqual(
      inputs.filter((i) => i.startsWith('node:') || NODE_ONLY.test(i)),
      [],
    );
    assert.doesNotMatch(code, /\bBuffer\./, 'Buffer does not exist in a browser');
    assert.ok(
      inputs.some((i) => i.endsWith('protocol/src/rest/routes.ts')),
      'the route table is in it',
    );
  });
}

test('the browser entry carries the message schemas; the client entry the client', async () => {
  assert.ok((await bundleForBrowser('./browser.ts')).inputs.some((i) => i.endsWith('protocol/src/messages.ts')));
  assert.ok(
    (await bundleForBrowser('./client.ts')).inputs.some((i) => i.endsWith('protocol/src/client/rest-client.ts')),
  );
});

test('the check tells a Node entry apart', async () => {
  // Node builtins left external so the bundle builds; the node-only modules still show up.
  const { inputs } = await bundleForBrowser('./index.ts', ['node:*', 'better-sqlite3']);
  assert.ok(
    inputs.some((i) => NODE_ONLY.test(i)),
    'the Node entry pulls in node-only modules',
  );
});

test('@edgeloop/protocol, which a device agent loads, carries the REST constants but does not build the REST schemas', async () => {
  const { inputs } = await bundleForBrowser('./index.ts', ['node:*', 'better-sqlite3']);
  assert.ok(inputs.some((i) => i.endsWith('protocol/src/rest/constants.ts')));
  assert.deepEqual(
    inputs.filter((i) => /protocol\/src\/(rest\/(?!constants)|client\/)/.test(i)),
    [],
  );
});
