/**
 * @module console/assets/console-bundle
 * The console's browser code, bundled by esbuild in memory the first time a page asks for it
 * (about a second, once per server process): nothing to build by hand, no dist folder to go stale,
 * and the bundle always matches the server that serves it. Each entry is minified and kept
 * gzipped too; the largest gzip JavaScript payload of a page is the `console.js_kb` benchmark.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'client');

/** Entry name → source file under console/client/. A page names the entries it loads. */
export const CLIENT_ENTRIES: Record<string, string> = {
  console: 'console.ts',
  charts: 'charts/mount-charts.ts',
  upload: 'upload/model-upload.ts',
  'try-model': 'try-model/page.ts',
  'console-css': 'styles/console.css',
};

export interface BuiltAsset {
  body: Uint8Array;
  gzip: Uint8Array;
  contentType: string;
  etag: string;
}

let building: Promise<Map<string, BuiltAsset>> | undefined;

/** Every bundle, built once per process. Files: `<entry>.js` (and `console.css`), shared chunks `chunk-*.js`. */
export function consoleBundle(): Promise<Map<string, BuiltAsset>> {
  building ??= buildBundle().catch((err: unknown) => {
    building = undefined; // let the next request try again (and report again)
    throw err;
  });
  return building;
}

async function buildBundle(): Promise<Map<string, BuiltAsset>> {
  const entryPoints = Object.entries(CLIENT_ENTRIES).map(([out, src]) => ({
    out: out === 'console-css' ? 'console' : out,
    in: join(CLIENT_DIR, src),
  }));
  const result = await build({
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: ['chrome110', 'firefox110', 'safari16'],
    write: false,
    outdir: '/console-assets',
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
    // onnxruntime-web loads its .wasm itself, from the URL the try-model page gives it.
    loader: { '.wasm': 'empty' },
  });
  const assets = new Map<string, BuiltAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.replace(/^.*\/console-assets\//, '');
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(name, {
      body: file.contents,
      gzip: gzipSync(file.contents, { level: 9 }),
      contentType,
      etag: `"${createHash('sha256').update(file.contents).digest('hex').slice(0, 20)}"`,
    });
  }
  return assets;
}

/**
 * What a page's browser downloads as JavaScript, gzipped, in bytes: its entries and every chunk
 * they import (statically), transitively.
 */
export function pageJavaScriptBytes(
  assets: Map<string, BuiltAsset>,
  entries: readonly string[],
  as: 'gzip' | 'raw' = 'gzip',
): number {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const asset = assets.get(name);
    if (!asset) return;
    seen.add(name);
    const text = new TextDecoder().decode(asset.body);
    for (const m of text.matchAll(/from\s*"\.\/(chunk-[A-Z0-9]+\.js)"|import\s*"\.\/(chunk-[A-Z0-9]+\.js)"/g))
      visit((m[1] ?? m[2])!);
  };
  for (const e of entries) visit(`${e}.js`);
  return [...seen].reduce(
    (sum, name) => sum + (as === 'gzip' ? assets.get(name)!.gzip : assets.get(name)!.body).length,
    0,
  );
}
