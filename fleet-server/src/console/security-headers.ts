/**
 * @module console/security-headers
 * Headers on every console answer. The Content-Security-Policy allows scripts and styles from
 * this server only: no inline script, no inline style, no eval ('wasm-unsafe-eval' lets the
 * try-a-model page compile onnxruntime-web's WebAssembly, nothing else). Pages are never framed.
 */
import type { MiddlewareHandler } from 'hono';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('content-security-policy', CONSOLE_CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    c.header('x-frame-options', 'DENY');
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) c.header('cache-control', 'no-store');
  };
}
