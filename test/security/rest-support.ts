/**
 * @module security/rest-support
 * Helpers for the REST attack tests: pushing large chunked bodies the way a hostile client
 * would (stopping once answered), and the peak memory growth while that happens.
 */
import { request, type IncomingMessage } from 'node:http';

export const MiB = 1024 * 1024;

export interface Pushed {
  status: number;
  body: string;
  contentType: string;
  /** Bytes the client had written when the answer (or the connection's end) came. */
  sent: number;
}

/**
 * Sends up to `total` bytes as a chunked body (no content-length) in 1 MiB writes, and stops
 * as soon as the server answers or drops the connection, like a well-behaved client would.
 */
export function pushChunked(
  url: string,
  path: string,
  total: number,
  headers: Record<string, string>,
  prefix = '',
): Promise<Pushed> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(MiB, 0x20);
    let sent = 0;
    let answered = false;
    let response: Pushed | undefined;
    const req = request(`${url}${path}`, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        response = {
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString('utf8'),
          contentType: String(res.headers['content-type'] ?? ''),
          sent,
        };
        req.destroy();
        resolve(response);
      });
    });
    req.on('error', (err) => {
      // The server may close the socket right after answering; the answer is what counts.
      if (!answered) reject(new Error(`connection failed before any answer after ${sent} bytes: ${err.message}`));
    });
    const pump = () => {
      if (prefix && sent === 0) {
        req.write(prefix);
        sent += prefix.length;
      }
      while (!answered && !req.destroyed && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && !req.destroyed && sent >= total) req.end();
    };
    pump();
  });
}

/** Peak rss above `base` while `work` runs, sampled every 20 ms. */
export async function peakGrowth<T>(base: number, work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}
