/**
 * @module support/browser/static-server
 * A tiny HTTP server for browser tests: fixed files on a free 127.0.0.1 port, each answer with
 * the Content-Security-Policy the test chooses (strict by default, like the console's), and a
 * log of what the page asked for.
 */
import { createServer, type Server } from 'node:http';

export interface StaticFile {
  body: string | Uint8Array;
  type: string;
}

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Paths requested so far, in order, with their status. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

export const STRICT_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'";

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  png: 'image/png',
  wasm: 'application/wasm',
  json: 'application/json',
  bin: 'application/octet-stream',
} as const;

/** Serves `files` (keyed by path, e.g. "/app.js"); anything else is 404. */
export async function serveStatic(
  files: Record<string, StaticFile>,
  options: { csp?: string } = {},
): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path];
    const status = file && (req.method === 'GET' || req.method === 'HEAD') ? 200 : file ? 405 : 404;
    requests.push({ path, status });
    res.setHeader('content-security-policy', options.csp ?? STRICT_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    if (status !== 200 || !file) {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 404 ? `no ${path} here` : 'GET only');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': Buffer.byteLength(file.body) });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
