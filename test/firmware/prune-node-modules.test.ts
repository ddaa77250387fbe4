/**
 * firmware-scripts/prune-node-modules.sh on a small node_modules laid out like the real one
 * (better-sqlite3 compiled from source, onnxruntime-node with every platform's binaries): it must
 * remove the build leftovers and the binaries of other platforms, keep every file the agent loads,
 * and refuse to touch an install whose better-sqlite3 binary is missing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const PRUNE = fileURLToPath(new URL('../../firmware-scripts/prune-node-modules.sh', import.meta.url));

/** What the agent loads at run time: must survive the prune. */
const KEPT = [
  'better-sqlite3/package.json',
  'better-sqlite3/lib/index.js',
  'better-sqlite3/lib/database.js',
  'better-sqlite3/build/Release/better_sqlite3.node',
  'onnxruntime-node/package.json',
  'onnxruntime-node/dist/index.js',
  'onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
  'onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1',
  'sharp/lib/index.js',
  'zod/package.json',
];

/** What node-gyp, npm and ONNX Runtime's package leave behind for an arm64 device. */
const REMOVED = [
  'better-sqlite3/binding.gyp',
  'better-sqlite3/build/Makefile',
  'better-sqlite3/build/config.gypi',
  'better-sqlite3/build/better_sqlite3.target.mk',
  'better-sqlite3/build/deps/sqlite3.target.mk',
  'better-sqlite3/build/Release/obj.target/better_sqlite3.node',
  'better-sqlite3/build/Release/obj.target/better_sqlite3/src/better_sqlite3.o',
  'better-sqlite3/build/Release/.deps/Release/better_sqlite3.node.d',
  'better-sqlite3/build/Release/test_extension.node',
  'better-sqlite3/deps/sqlite3/sqlite3.c',
  'better-sqlite3/src/better_sqlite3.cpp',
  'onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
  'onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node',
  'onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll',
];

function tree(t: TestContext, files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-prune-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const modules = join(dir, 'node_modules');
  for (const file of files) {
    mkdirSync(dirname(join(modules, file)), { recursive: true });
    // Real sizes do not matter; some bytes make the before/after sizes differ.
    writeFileSync(join(modules, file), 'x'.repeat(64 * 1024));
  }
  return modules;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function prune(modules: string, arch: string) {
  return spawnSync(PRUNE, [modules, arch], { encoding: 'utf8' });
}

test("the prune keeps what the agent loads and removes build leftovers and other platforms' binaries", (t) => {
  const modules = tree(t, [...KEPT, ...REMOVED]);
  const r = prune(modules, 'arm64');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(files(modules), [...KEPT].sort());
  assert.ok(
    !existsSync(join(modules, 'onnxruntime-node/bin/napi-v6/darwin')),
    'no empty folders of other platforms are left',
  );
  const sizes = /node_modules: ([\d.]+) MB as npm ci laid it down, ([\d.]+) MB after removing/.exec(r.stdout);
  assert.ok(sizes, r.stdout);
  assert.ok(Number(sizes[2]) < Number(sizes[1]), r.stdout);
});

test('on x64 the x64 ONNX Runtime binaries are the ones kept', (t) => {
  const modules = tree(t, [
    'onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
  ]);
  assert.equal(prune(modules, 'x64').status, 0);
  assert.deepEqual(files(modules), ['onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node']);
});

const WASM_RUNTIME = [
  'onnxruntime-web/package.json',
  'onnxruntime-web/dist/ort.node.min.mjs',
  'onnxruntime-web/dist/ort.node.min.js',
  'onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
  'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
];

test('onnxruntime-web keeps its Node entry and the WASM runtime the agent names, nothing for browsers', (t) => {
  const browserBuilds = [
    'onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm',
    'onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm',
    'onnxruntime-web/dist/ort.all.min.mjs',
    'onnxruntime-web/dist/ort.webgl.mjs',
    'onnxruntime-web/dist/ort.node.min.mjs.map',
    'onnxruntime-web/lib/backend-wasm.ts',
    'onnxruntime-web/docs/webgl-operators.md',
  ];
  const modules = tree(t, [
    ...WASM_RUNTIME,
    ...browserBuilds,
    'onnxruntime-web/node_modules/long/index.js',
    'sharp/lib/index.js',
  ]);
  const r = prune(modules, 'arm');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    files(modules),
    [...WASM_RUNTIME, 'onnxruntime-web/node_modules/long/index.js', 'sharp/lib/index.js'].sort(),
  );
});

test('an onnxruntime-web whose files are named otherwise is left whole, with a warning', (t) => {
  const renamed = [
    'onnxruntime-web/package.json',
    'onnxruntime-web/dist/ort.node.mjs',
    'onnxruntime-web/dist/ort-wasm.wasm',
    'onnxruntime-web/dist/ort.all.min.mjs',
  ];
  const modules = tree(t, renamed);
  const r = prune(modules, 'arm');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /warning: onnxruntime-web has no dist\/ort\.node\.min\.mjs; not pruning it/);
  assert.deepEqual(files(modules), [...renamed].sort());
});

test('a better-sqlite3 without its binary fails the prune and nothing is removed', (t) => {
  const modules = tree(t, [
    'better-sqlite3/lib/index.js',
    'better-sqlite3/build/Release/obj.target/better_sqlite3/src/better_sqlite3.o',
    'better-sqlite3/src/better_sqlite3.cpp',
  ]);
  const r = prune(modules, 'arm64');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /better_sqlite3\.node is missing: better-sqlite3 did not build; nothing was pruned/);
  assert.equal(files(modules).length, 3);
});

test('an unknown architecture is refused', (t) => {
  const r = prune(tree(t, ['zod/package.json']), 'ia32');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown NODE_ARCH 'ia32' \(x64, arm64 or arm\)/);
});
