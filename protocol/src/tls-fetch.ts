/**
 * @module tls-fetch
 * `fetch` for servers whose certificate is signed by a private CA (the fleet's lab CA pinned at
 * enrollment, or one given with `--ca`). Node's global fetch cannot take a CA per request
 * (undici's dispatcher is not importable without installing undici), so this sends the request
 * with node:https and hands back a standard Response: callers keep their fetch code paths.
 * A string body goes out with its length; any other (a FormData with a model file opened from
 * disk) is streamed chunked, never held in memory as a whole. Redirects are not followed unless
 * the caller asks: the fleet answers for itself, and a redirect would take the request (and its
 * credentials) elsewhere.
 */
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Statuses that must not carry a body in a Response. */
const NULL_BODY = new Set([101, 204, 205, 304]);

const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** localhost, ::1 or 127.x.x.x: where plain HTTP/MQTT does not leave the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * True when `url` is plain text (http, mqtt, ws, tcp) to another machine: what carries tokens and
 * device passwords in clear text, so it needs TLS or an explicit --insecure. An unparseable URL is not.
 */
export function isPlainTextBeyondLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    return /^(http|mqtt|ws|tcp):$/.test(u.protocol) && !isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}

/** True for errors that mean "the certificate is not the one we trust", as opposed to network trouble. */
export function isTlsVerifyError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && VERIFY_CODES.has(code);
}

/**
 * fetch(input, init) over https with `ca` as the only trusted root (and the hostname checked).
 * A verification failure rejects with a TypeError('fetch failed') whose `cause` is the TLS error,
 * as the global fetch does, so existing error reporting (`cause.code`) keeps working.
 */
export async function fetchWithCa(input: string, init: RequestInit, ca: string): Promise<Response> {
  const request = new Request(input, { redirect: 'manual', ...init });
  const url = new URL(request.url);
  if (url.protocol !== 'https:') return fetch(request);
  const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: request.method, headers, ca, ...(init.signal ? { signal: init.signal } : {}) },
      (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
          else if (value !== undefined) responseHeaders.set(name, value);
        }
        const status = res.statusCode ?? 502;
        const stream =
          NULL_BODY.has(status) || request.method === 'HEAD'
            ? null
            : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (!stream) res.resume();
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
      },
    );
    req.once('error', (err) =>
      reject(
        err.name === 'AbortError'
          ? (init.signal?.reason ?? err)
          : Object.assign(new TypeError('fetch failed'), { cause: err }),
      ),
    );
    if (body || !request.body) req.end(body);
    else
      Readable.fromWeb(request.body as WebReadableStream<Uint8Array>)
        .once('error', (err) => req.destroy(err))
        .pipe(req);
  });
}
