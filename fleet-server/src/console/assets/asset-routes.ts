/**
 * @module console/assets/asset-routes
 * Serves the console's bundled scripts and styles (gzipped when the browser accepts it,
 * revalidated by ETag) and onnxruntime-web's WebAssembly files for the try-a-model page.
 * Assets are public: they hold no fleet data, and the login page needs them.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { consoleBundle } from './console-bundle.js';

/** onnxruntime-web's runtime files the page may load (single-threaded WASM build, SIMD). */
const ORT_FILES = /^ort-wasm-simd-threaded(\.jsep)?\.(wasm|mjs)$/;

function ortDistDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  } catch {
    return undefined;
  }
}

export function assetRoutes(): Hono {
  const app = new Hono();
  const ortDir = ortDistDir();

  app.get('/console/assets/ort/:file', (c) => {
    const file = c.req.param('file');
    if (!ORT_FILES.test(file) || !ortDir || !existsSync(join(ortDir, file)))
      return c.text(`no onnxruntime-web file ${file} here`, 404);
    const path = join(ortDir, file);
    const size = statSync(path).size;
    return new Response(Readable.toWeb(createReadStream(path)) as ReadableStream, {
      headers: {
        'content-type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8',
        'content-length': String(size),
        'cache-control': 'public, max-age=86400',
      },
    });
  });

  app.get('/console/assets/:name', async (c) => {
    const assets = await consoleBundle();
    const asset = assets.get(c.req.param('name'));
    if (!asset) return c.text(`no console asset ${c.req.param('name')}`, 404);
    const headers: Record<string, string> = {
      'content-type': asset.contentType,
      etag: asset.etag,
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
    };
    if (c.req.header('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gzip) headers['content-encoding'] = 'gzip';
    return new Response((gzip ? asset.gzip : asset.body) as Uint8Array<ArrayBuffer>, { headers });
  });
  return app;
}
