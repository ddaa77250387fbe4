/**
 * @module updates/range-fetch
 * One HTTP Range request for an artifact, read with hard limits: the body may not exceed the
 * range asked for, Content-Range must name exactly that range of a file of the signed size, and
 * a stalled connection times out after a period without data (not a fixed total, so slow links
 * still finish). A server that answers 200 instead of 206 has no Range support; the caller gets
 * the response and falls back to one streaming download.
 */
import { fetchWithCa, isTlsVerifyError, type Manifest } from '@edgeloop/protocol';
import { DownloadError } from './download.js';
import { untrustedServerMessage, type PinnedCa } from '../link/fleet-tls.js';

/** A failure worth retrying: network errors, 5xx, a connection cut mid-body. */
export class TransientError extends Error {}

export type RangeAnswer =
  | { kind: 'range'; bytes: Uint8Array; complete: boolean; error?: string }
  | { kind: 'full'; response: Response; idle: IdleTimeout };

/** Aborts when no data arrived for `ms`; `touch()` after every piece. */
export class IdleTimeout {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  readonly signal: AbortSignal;

  constructor(
    private readonly ms: number,
    outer?: AbortSignal,
  ) {
    this.signal = outer ? AbortSignal.any([this.controller.signal, outer]) : this.controller.signal;
    this.timer = this.arm();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    const t = setTimeout(() => this.controller.abort(new Error(`no data for ${this.ms} ms`)), this.ms);
    t.unref();
    return t;
  }
}

/** Caps the average download rate (metered links): sleeps whenever the transfer is ahead of it. */
export class Throttle {
  private readonly started = Date.now();
  private bytes = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly signal?: AbortSignal,
  ) {}

  async consume(n: number): Promise<void> {
    if (this.bytesPerSecond <= 0) return;
    this.bytes += n;
    const aheadMs = (this.bytes / this.bytesPerSecond) * 1000 - (Date.now() - this.started);
    if (aheadMs > 1) await sleep(aheadMs, this.signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `bytes a-b/total` → numbers; anything else (including `*` totals) → undefined. */
export function parseContentRange(header: string | null): { start: number; end: number; total: number } | undefined {
  const m = header ? /^bytes (\d{1,20})-(\d{1,20})\/(\d{1,20})$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < total ? { start, end, total } : undefined;
}

export interface RangeFetchOptions {
  requestTimeoutMs: number;
  throttle: Throttle;
  signal?: AbortSignal;
  /** The device's fleet credentials, sent as HTTP Basic: the fleet serves artifacts to enrolled devices only. */
  auth?: DownloadAuth;
}

export interface DownloadAuth {
  username: string;
  password: string;
  /** The fleet CA pinned at enrollment: credentials go only to a server it signed. */
  ca?: PinnedCa;
}

export function basicAuthHeader(auth: DownloadAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

/** Fetches bytes [start, end] (inclusive) of the artifact at `url`. */
export async function fetchRange(
  url: string,
  artifact: Manifest['artifact'],
  start: number,
  end: number,
  opts: RangeFetchOptions,
): Promise<RangeAnswer> {
  const idle = new IdleTimeout(opts.requestTimeoutMs, opts.signal);
  let response: Response;
  try {
    const headers: Record<string, string> = { range: `bytes=${start}-${end}` };
    if (opts.auth) headers.authorization = basicAuthHeader(opts.auth);
    const ca = opts.auth?.ca;
    // Never followed: a redirect would carry the request (and, on the same origin, the
    // credentials) to wherever the answer points; the fleet serves artifacts itself.
    response = await (ca
      ? fetchWithCa(url, { headers, signal: idle.signal }, ca.pem)
      : fetch(url, { headers, signal: idle.signal, redirect: 'manual' }));
  } catch (err) {
    idle.clear();
    if (opts.signal?.aborted) throw err;
    const cause = (err as { cause?: unknown }).cause;
    if (isTlsVerifyError(cause))
      throw new TransientError(
        `cannot fetch ${url}: ${untrustedServerMessage('fleet server', cause.code!, opts.auth?.ca)}`,
      );
    throw new TransientError(`cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (response.status === 200) return { kind: 'full', response, idle };
  try {
    return await readRange(url, response, artifact, start, end, idle, opts);
  } finally {
    idle.clear();
  }
}

async function readRange(
  url: string,
  response: Response,
  artifact: Manifest['artifact'],
  start: number,
  end: number,
  idle: IdleTimeout,
  opts: RangeFetchOptions,
): Promise<RangeAnswer> {
  const status = response.status;
  if (status !== 206) {
    await response.body?.cancel().catch(() => undefined);
    if (status === 416) {
      throw new DownloadError(
        'size-mismatch',
        `${url} cannot serve bytes ${start}-${end}: the server's copy is shorter than the signed ${artifact.size} bytes`,
      );
    }
    if (status >= 300 && status < 400) {
      throw new DownloadError(
        'download-failed',
        `fetching ${url} answered HTTP ${status} (a redirect to ${response.headers.get('location') ?? 'nowhere'}), which is not followed; the artifact URL must name the fleet server's artifact itself`,
      );
    }
    if (status >= 500 || status === 408 || status === 429)
      throw new TransientError(`fetching ${url} answered HTTP ${status}`);
    throw new DownloadError(
      'download-failed',
      `fetching ${url} answered HTTP ${status}; check that the artifact is still registered on the fleet server`,
    );
  }
  const range = parseContentRange(response.headers.get('content-range'));
  const fail = async (code: string, reason: string) => {
    await response.body?.cancel().catch(() => undefined);
    return new DownloadError(code, reason);
  };
  if (!range)
    throw await fail(
      'download-failed',
      `${url} answered 206 without a valid Content-Range (got "${response.headers.get('content-range')}"); the server's Range support is broken`,
    );
  if (range.total > artifact.size)
    throw await fail(
      'too-long',
      `${url} says the artifact has ${range.total} bytes, the manifest signed ${artifact.size}; download aborted`,
    );
  if (range.total < artifact.size)
    throw await fail(
      'size-mismatch',
      `${url} says the artifact has ${range.total} bytes, the manifest signed ${artifact.size}`,
    );
  if (range.start !== start)
    throw await fail(
      'download-failed',
      `${url} answered bytes ${range.start}-${range.end} to a request for ${start}-${end}; the server's Range support is broken`,
    );
  // Never accept more than was asked for: a server streaming extra bytes is cut off here.
  if (range.end > end)
    throw await fail(
      'too-long',
      `${url} answered bytes ${range.start}-${range.end}, more than the requested ${start}-${end}; download aborted`,
    );
  const expected = range.end - range.start + 1;
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > expected)
    throw await fail('too-long', `${url} announces ${declared} bytes for a ${expected}-byte range; download aborted`);
  if (!response.body) throw new TransientError(`${url} answered 206 without a body`);

  const pieces: Uint8Array[] = [];
  let received = 0;
  try {
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      received += piece.length;
      if (received > expected)
        throw new DownloadError(
          'too-long',
          `${url} sent more than the ${expected} bytes of range ${start}-${range.end}; download aborted`,
        );
      pieces.push(piece);
      await opts.throttle.consume(piece.length);
      idle.touch();
    }
  } catch (err) {
    if (err instanceof DownloadError || opts.signal?.aborted) throw err;
    // Cut off mid-body: keep what arrived; whole verified chunks of it are still good.
    return { kind: 'range', bytes: Buffer.concat(pieces), complete: false, error: (err as Error).message };
  }
  const bytes = Buffer.concat(pieces);
  return received === expected
    ? { kind: 'range', bytes, complete: true }
    : { kind: 'range', bytes, complete: false, error: `connection closed after ${received} of ${expected} bytes` };
}
