/**
 * @module updates/mqtt-chunk-source
 * Artifact ranges over the fleet's MQTT link (protocol chunk-transfer.ts), behind the same
 * RangeSource interface as HTTP, so the chunked downloader verifies, retries and resumes both the
 * same way. For one range the device sends a `fetch`; the server answers with blocks of ≤ 64 KiB.
 *
 * - Missing blocks are re-requested (one fetch per missing run) when nothing arrived for
 *   `retryMs`, and at once after the link reconnects (a clean session loses what was in flight).
 * - A block is accepted only if it is one this range is still waiting for: the right artifact,
 *   exactly an expected offset and length. Anything else — oversized, malformed, unasked-for,
 *   duplicate — is dropped and counted, so nothing beyond the signed size can get in.
 * - "queued" (the server's download cap is full) extends the wait; "refused" ends the download.
 * - After `requestTimeoutMs` without a block, the range is answered with the blocks received
 *   so far (the downloader keeps the whole verified chunks among them and backs off).
 */
import type { Logger } from 'pino';
import { blocksOf, decodeChunk, type Chunk, type FetchRequest, type Manifest } from '@edgeloop/protocol';
import { httpSource, type RangeSource } from './chunked-download.js';
import { DownloadError } from './download.js';
import { TransientError, type RangeAnswer, type RangeFetchOptions } from './range-fetch.js';

interface Block {
  offset: number;
  length: number;
  bytes?: Uint8Array;
}

const DEFAULT_RETRY_MS = 3000;

class PendingRange {
  readonly blocks: Block[];
  private lastData = Date.now();
  private lastAsk = Date.now();
  private queued = false;
  private timer: NodeJS.Timeout | undefined;
  private settle!: { resolve: (a: RangeAnswer) => void; reject: (e: Error) => void };
  readonly done: Promise<RangeAnswer>;

  constructor(
    readonly sha256: string,
    readonly start: number,
    readonly end: number,
    private readonly client: MqttChunkClient,
    private readonly opts: RangeFetchOptions & { retryMs: number },
  ) {
    this.blocks = blocksOf(start, end - start + 1);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.timer = setInterval(() => this.tick(), Math.min(500, opts.retryMs));
    this.timer.unref();
    opts.signal?.addEventListener('abort', () => this.finish(() => this.settle.reject(opts.signal!.reason as Error)), {
      once: true,
    });
  }

  /** True when this range took the chunk (even if it then refused it as malformed). */
  offer(chunk: Chunk): boolean {
    if (chunk.sha256 !== this.sha256 || chunk.offset < this.start || chunk.offset > this.end) return false;
    if (chunk.kind === 'refused') {
      this.finish(() =>
        this.settle.reject(
          new DownloadError('download-failed', `the fleet server refused the MQTT download: ${chunk.reason}`),
        ),
      );
      return true;
    }
    if (chunk.kind === 'queued') {
      this.queued = true;
      this.lastData = Date.now();
      this.client.log?.info(
        { sha256: this.sha256, note: chunk.reason },
        'artifact download queued by the fleet server',
      );
      return true;
    }
    const block = this.blocks.find((b) => b.offset === chunk.offset);
    if (!block || block.bytes || chunk.bytes.length !== block.length) {
      this.client.stats.rejected++;
      this.client.log?.warn(
        { sha256: this.sha256, offset: chunk.offset, length: chunk.bytes.length, expected: block?.length },
        'dropped an unexpected chunk (not asked for, duplicate, or wrong length)',
      );
      return true;
    }
    // Copy: the payload buffer belongs to the MQTT client.
    block.bytes = Uint8Array.from(chunk.bytes);
    this.client.stats.blocks++;
    this.queued = false;
    this.lastData = Date.now();
    if (this.blocks.every((b) => b.bytes))
      this.finish(() =>
        this.settle.resolve({ kind: 'range', bytes: Buffer.concat(this.blocks.map((b) => b.bytes!)), complete: true }),
      );
    return true;
  }

  /** Asks for every block still missing, one fetch per contiguous run. */
  ask(): void {
    this.lastAsk = Date.now();
    let run: Block[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const offset = run[0]!.offset;
      const length = run.reduce((n, b) => n + b.length, 0);
      this.client.request({ v: 1, sha256: this.sha256, offset, length });
      run = [];
    };
    for (const b of this.blocks) {
      if (b.bytes) flush();
      else run.push(b);
    }
    flush();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastData >= this.opts.requestTimeoutMs) {
      this.finish(() =>
        this.settle.resolve(this.partial(`no artifact data over MQTT for ${this.opts.requestTimeoutMs} ms`)),
      );
      return;
    }
    if (!this.queued && now - this.lastData >= this.opts.retryMs && now - this.lastAsk >= this.opts.retryMs) {
      this.client.stats.rerequested++;
      this.ask();
    }
  }

  /** The contiguous blocks from the start (the downloader can only use a prefix). */
  private partial(error: string): RangeAnswer {
    const prefix: Uint8Array[] = [];
    for (const b of this.blocks) {
      if (!b.bytes) break;
      prefix.push(b.bytes);
    }
    return { kind: 'range', bytes: Buffer.concat(prefix), complete: false, error };
  }

  private finish(fn: () => void): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.client.forget(this);
    fn();
  }
}

/** The agent's end of MQTT artifact transfer: sends fetches, routes arriving chunks to the range waiting for them. */
export class MqttChunkClient {
  private readonly pending = new Set<PendingRange>();
  private connected = false;
  readonly stats = { fetches: 0, blocks: 0, rejected: 0, rerequested: 0 };

  constructor(
    private readonly send: (request: FetchRequest) => Promise<void>,
    readonly log?: Logger,
    private readonly retryMs = DEFAULT_RETRY_MS,
  ) {}

  /** Every payload on the device's `chunk` topic. */
  handle(payload: Uint8Array): void {
    const decoded = decodeChunk(payload);
    if (!decoded.ok) {
      this.stats.rejected++;
      this.log?.warn({ code: decoded.code, reason: decoded.reason }, 'rejected chunk message');
      return;
    }
    for (const p of this.pending) if (p.offer(decoded.value)) return;
    // Late duplicates of blocks already received are normal after a re-request.
    this.log?.debug(
      { sha256: decoded.value.sha256, offset: decoded.value.offset },
      'chunk for no waiting range; dropped',
    );
  }

  /** After a reconnect the server has forgotten what was in flight: ask again at once. */
  setConnected(connected: boolean): void {
    const reconnected = connected && !this.connected;
    this.connected = connected;
    if (reconnected) {
      for (const p of this.pending) {
        this.stats.rerequested++;
        p.ask();
      }
    }
  }

  fetch(artifact: Manifest['artifact'], start: number, end: number, opts: RangeFetchOptions): Promise<RangeAnswer> {
    if (end >= artifact.size || start > end) {
      return Promise.reject(
        new DownloadError('too-long', `range ${start}-${end} is outside the signed ${artifact.size} bytes`),
      );
    }
    const range = new PendingRange(artifact.sha256, start, end, this, { ...opts, retryMs: this.retryMs });
    this.pending.add(range);
    range.ask();
    return range.done.then(async (answer) => {
      if (answer.kind === 'range' && answer.bytes.length === 0)
        throw new TransientError(answer.error ?? 'no data over MQTT');
      if (answer.kind === 'range') await opts.throttle.consume(answer.bytes.length);
      return answer;
    });
  }

  request(req: FetchRequest): void {
    this.stats.fetches++;
    // Offline, MQTT.js keeps the QoS 1 publish and sends it on reconnect; a failure is retried by the range's timer.
    this.send(req).catch((err: Error) => this.log?.debug({ err: err.message }, 'artifact fetch not sent yet'));
  }

  forget(range: PendingRange): void {
    this.pending.delete(range);
  }

  /** A RangeSource over this client. */
  source(): RangeSource {
    return { label: 'mqtt', fetch: (artifact, start, end, opts) => this.fetch(artifact, start, end, opts) };
  }
}

/**
 * transport "auto": HTTP while the artifact URL can be reached; when it cannot (network error or
 * 5xx) before any range came back over HTTP, the download continues over MQTT for good.
 */
export function autoSource(http: RangeSource, mqtt: RangeSource, log?: Logger): RangeSource {
  let current = http;
  let httpWorked = false;
  return {
    get label() {
      return current.label;
    },
    async fetch(artifact, start, end, opts) {
      if (current === mqtt) return mqtt.fetch(artifact, start, end, opts);
      try {
        const answer = await http.fetch(artifact, start, end, opts);
        httpWorked = true;
        return answer;
      } catch (err) {
        if (httpWorked || !(err instanceof TransientError) || opts.signal?.aborted) throw err;
        log?.warn({ url: http.label, err: err.message }, 'artifact URL unreachable; downloading over MQTT instead');
        current = mqtt;
        return mqtt.fetch(artifact, start, end, opts);
      }
    },
  };
}

/**
 * The source for one download: the desired entry's `transfer` hint, else the config's
 * `updates.transport`. Without an MQTT client (no fleet link) everything is HTTP.
 */
export function chooseSource(
  transport: 'auto' | 'http' | 'mqtt',
  url: string,
  chunks: MqttChunkClient | undefined,
  log?: Logger,
): RangeSource {
  const http = httpSource(url);
  if (!chunks || transport === 'http') return http;
  if (transport === 'mqtt') return chunks.source();
  return autoSource(http, chunks.source(), log);
}
