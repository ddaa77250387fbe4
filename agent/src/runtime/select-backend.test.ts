/**
 * A device install carries only the ONNX Runtime package its CPU needs, so selectBackend must
 * handle an absent package: fall back where the other one is there, and otherwise fail with a
 * message that names the package and how to install it (never a module-resolution stack).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendName, InferenceBackend } from './backend.js';
import { BackendNotInstalledError, selectBackend } from './select-backend.js';

const quiet = { info: () => undefined, warn: () => undefined };
const only =
  (...present: BackendName[]) =>
  (pkg: BackendName) =>
    present.includes(pkg);
const brokenNative = async (): Promise<InferenceBackend> => {
  throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory\nRequire stack: ...');
};
const unusedNative = async (): Promise<InferenceBackend> => {
  throw new Error('onnxruntime-node must not be loaded here');
};

/** Asserts the rejection is a BackendNotInstalledError for `pkg` whose message matches every pattern. */
async function rejectsNotInstalled(
  selection: Promise<InferenceBackend>,
  pkg: BackendName,
  patterns: RegExp[],
): Promise<void> {
  await assert.rejects(selection, (err: Error) => {
    assert.ok(err instanceof BackendNotInstalledError, `${err.name}: ${err.message}`);
    assert.equal(err.pkg, pkg);
    assert.match(err.message, new RegExp(`${pkg} is not installed`));
    assert.match(err.message, /in a checkout run npm ci/);
    for (const pattern of patterns) assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /Require stack/);
    return true;
  });
}

test('"wasm" without onnxruntime-web says to re-run the installer with --with-wasm', async () => {
  await rejectsNotInstalled(selectBackend('wasm', quiet, { installed: only('onnxruntime-node') }), 'onnxruntime-web', [
    /^runtime\.backend is "wasm", and onnxruntime-web is not installed/,
    /install\.sh with --with-wasm/,
  ]);
});

test('"auto" on 32-bit ARM without onnxruntime-web names the CPU and the package', async () => {
  await rejectsNotInstalled(
    selectBackend('auto', quiet, { arch: 'arm', installed: only('onnxruntime-node'), loadNative: unusedNative }),
    'onnxruntime-web',
    [/this CPU \(arm\) has no native ONNX Runtime/, /install\.sh/],
  );
});

test('"auto" whose native binding does not load, with no WASM fallback installed, gives the load error and the way out', async () => {
  await rejectsNotInstalled(
    selectBackend('auto', quiet, { arch: 'arm64', installed: only('onnxruntime-node'), loadNative: brokenNative }),
    'onnxruntime-web',
    [
      /onnxruntime-node did not load on \w+\/arm64 \(libonnxruntime\.so\.1: cannot open shared object file/,
      /--with-wasm/,
    ],
  );
});

test('"native" without onnxruntime-node says the installer puts it on x64 and arm64 only', async () => {
  await rejectsNotInstalled(
    selectBackend('native', quiet, { arch: 'arm64', installed: only('onnxruntime-web'), loadNative: unusedNative }),
    'onnxruntime-node',
    [
      /^runtime\.backend is "native", and onnxruntime-node is not installed/,
      /x64 and arm64; 32-bit ARM has no native build/,
    ],
  );
});

test('"auto" with neither package installed fails instead of trying to load one', async () => {
  await rejectsNotInstalled(
    selectBackend('auto', quiet, { arch: 'x64', installed: only(), loadNative: unusedNative }),
    'onnxruntime-node',
    [/found neither ONNX Runtime package/],
  );
});

test('"auto" on a 64-bit CPU without onnxruntime-node uses the WASM backend and warns', async () => {
  const warned: string[] = [];
  const backend = await selectBackend(
    'auto',
    { info: quiet.info, warn: (_d, msg) => warned.push(msg) },
    { arch: 'arm64', installed: only('onnxruntime-web'), loadNative: unusedNative },
  );
  assert.equal(backend.name, 'onnxruntime-web');
  assert.deepEqual(warned, [
    'onnxruntime-node is not installed although arm64 has a native build; using the WASM backend',
  ]);
});
