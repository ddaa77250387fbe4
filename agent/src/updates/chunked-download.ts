/**
 * @module updates/chunked-download
 * Resumable artifact download: HTTP Range requests of `chunkSize` bytes, each piece checked
 * against the manifest's signed per-chunk hashes before it is written, fsynced and recorded in the
 * progress sidecar (download-progress.ts). A chunk that does not match is fetched again, up to
 * `chunkRetries` times (then: chunk-mismatch). A dropped connection, a reconnect or a kill -9
 * costs at most the chunk in flight: the next attempt continues from the last verified byte.
 *
 * Limits that keep the endless-data guarantee: a response may not exceed the range requested, nor
 * claim a file longer than signed; the finished file must still match the signed sha256.
 * A server without Range support (200 instead of 206) gets one streaming download instead.
 *
 * Where the bytes come from is a RangeSource: HTTP Range requests (range-fetch.ts) or MQTT fetch/
 * chunk messages (mqtt-chunk-source.ts). Both share everything else here: per-chunk verification,
 * retries, resume from the sidecar, the final sha256.
 */
import { constants } from 'node:fs';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ArtifactVerifier, chunkBounds, verifyChunk, type Manifest } from '@edgeloop/protocol';
import { PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';
import { DownloadProgress } from './download-progress.js';
import { commitVerified, DownloadError, saveVerifiedStream } from './download.js';
import {
  fetchRange,
  sleep,
  Throttle,
  TransientError,
  type DownloadAuth,
  type RangeAnswer,
  type RangeFetchOptions,
} from './range-fetch.js';
import type { UpdateOptions } from './update-options.js';

export interface DownloadProgressEvent {
  received: number;
  total: number;
  resumedFrom: number;
}

/** Where the bytes of a range come from. Throws TransientError for what is worth retrying. */
export interface RangeSource {
  /** For logs: the URL, or "mqtt". */
  readonly label: string;
  fetch(artifact: Manifest['artifact'], start: number, end: number, opts: RangeFetchOptions): Promise<RangeAnswer>;
}

export function httpSource(url: string): RangeSource {
  return { label: url, fetch: (artifact, start, end, opts) => fetchRange(url, artifact, start, end, opts) };
}

export interface ChunkedDownloadOptions extends Pick<
  UpdateOptions,
  'chunkSize' | 'maxBytesPerSecond' | 'chunkRetries' | 'networkRetries' | 'requestTimeoutMs'
> {
  /** Default: HTTP Range requests to the url. */
  source?: RangeSource;
  /** Device credentials for HTTP downloads (HTTP Basic). */
  auth?: DownloadAuth;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgressEvent) => void;
  log?: Logger;
}

export interface DownloadOutcome {
  /** ranges = chunked (resumable); full = the server ignored Range, one streaming download. */
  mode: 'ranges' | 'full';
  resumedFrom: number;
  requests: number;
}

/** Integrity failures: the partial file is no longer a trustworthy starting point. */
const DISCARD_ON = new Set(['too-long', 'size-mismatch', 'hash-mismatch']);

export async function downloadArtifactChunked(
  url: string,
  artifact: Manifest['artifact'],
  destination: string,
  opts: ChunkedDownloadOptions,
): Promise<DownloadOutcome> {
  const download = new ChunkedDownload(url, artifact, destination, opts);
  try {
    return await download.run();
  } catch (err) {
    if (err instanceof DownloadError && DISCARD_ON.has(err.code)) await download.progress.discard();
    if (err instanceof DownloadError || opts.signal?.aborted) throw err;
    throw new DownloadError('download-failed', `download of ${url} failed: ${(err as Error).message}`);
  }
}

/** Whole hashed chunks per request, so each request can be verified on arrival. */
export function requestSizeFor(artifact: Manifest['artifact'], chunkSize: number): number {
  return artifact.chunkSize ? Math.max(1, Math.floor(chunkSize / artifact.chunkSize)) * artifact.chunkSize : chunkSize;
}

class ChunkedDownload {
  readonly progress: DownloadProgress;
  private readonly throttle: Throttle;
  private readonly requestSize: number;
  private readonly source: RangeSource;
  private readonly mismatches = new Map<number, number>();
  private offset = 0;
  private resumedFrom = 0;
  private networkFailures = 0;
  private requests = 0;

  constructor(
    private readonly url: string,
    private readonly artifact: Manifest['artifact'],
    private readonly destination: string,
    private readonly opts: ChunkedDownloadOptions,
  ) {
    this.progress = new DownloadProgress(destination, artifact);
    this.throttle = new Throttle(opts.maxBytesPerSecond, opts.signal);
    this.requestSize = requestSizeFor(artifact, opts.chunkSize);
    this.source = opts.source ?? httpSource(url);
  }

  async run(): Promise<DownloadOutcome> {
    this.offset = this.resumedFrom = await this.progress.resumePoint();
    if (this.resumedFrom > 0)
      this.opts.log?.info(
        { url: this.url, resumedFrom: this.resumedFrom, size: this.artifact.size },
        'resuming artifact download from the last verified chunk',
      );
    this.emit();
    const fh = await open(this.progress.partialPath, constants.O_RDWR | constants.O_CREAT, PRIVATE_FILE_MODE);
    let answer: RangeAnswer | undefined;
    try {
      while (this.offset < this.artifact.size) {
        answer = await this.fetchNext();
        if (answer?.kind === 'full') break;
        if (answer) await this.take(fh, answer);
      }
    } finally {
      await fh.close();
    }
    if (answer?.kind === 'full') return this.fallback(answer);
    await this.finish();
    return { mode: 'ranges', resumedFrom: this.resumedFrom, requests: this.requests };
  }

  /** One request; undefined after a transient failure (already backed off). */
  private async fetchNext(): Promise<RangeAnswer | undefined> {
    const end = Math.min(this.offset + this.requestSize, this.artifact.size) - 1;
    this.opts.log?.debug({ url: this.url, start: this.offset, end }, 'requesting artifact range');
    this.requests++;
    try {
      return await this.source.fetch(this.artifact, this.offset, end, {
        requestTimeoutMs: this.opts.requestTimeoutMs,
        throttle: this.throttle,
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        ...(this.opts.auth ? { auth: this.opts.auth } : {}),
      });
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      await this.backOff(err.message);
      return undefined;
    }
  }

  /** Writes the verified part of a range answer, then decides whether to retry. */
  private async take(fh: FileHandle, answer: Extract<RangeAnswer, { kind: 'range' }>): Promise<void> {
    const { length, mismatch } = this.verifiedLength(answer.bytes);
    if (length > 0) {
      await fh.write(answer.bytes, 0, length, this.offset);
      await fh.sync();
      this.offset += length;
      await this.progress.save(this.offset);
      this.networkFailures = 0;
      this.emit();
    }
    if (mismatch) return this.countMismatch(mismatch.index, mismatch.reason);
    // Nothing usable (cut off, or a server answering less than one whole chunk): wait, then retry.
    if (length === 0) await this.backOff(answer.error ?? 'the server answered with less than one whole chunk');
  }

  /** How many leading bytes are whole chunks matching their signed hashes (all, without hashes). */
  private verifiedLength(bytes: Uint8Array): { length: number; mismatch?: { index: number; reason: string } } {
    const chunkSize = this.artifact.chunkSize;
    if (!this.artifact.chunks || !chunkSize) return { length: bytes.length };
    let length = 0;
    for (let index = this.offset / chunkSize; ; index++) {
      const { start, end } = chunkBounds({ size: this.artifact.size, chunkSize }, index);
      if (start >= this.artifact.size || length + (end - start) > bytes.length) return { length };
      const check = verifyChunk(this.artifact, index, bytes.subarray(length, length + end - start));
      if (!check.ok) return { length, mismatch: { index, reason: check.reason } };
      length += end - start;
    }
  }

  private countMismatch(index: number, reason: string): void {
    const attempts = (this.mismatches.get(index) ?? 0) + 1;
    this.mismatches.set(index, attempts);
    if (attempts >= this.opts.chunkRetries) {
      throw new DownloadError(
        'chunk-mismatch',
        `${reason}, in each of ${attempts} fetches: the server's copy or the link corrupts it. ` +
          `The ${this.offset} verified bytes are kept; if this persists, re-register the model on the fleet server`,
      );
    }
    this.opts.log?.warn(
      { url: this.url, chunk: index, attempts, reason },
      'chunk does not match its signed hash; discarded, fetching it again',
    );
  }

  private async backOff(reason: string): Promise<void> {
    this.networkFailures++;
    if (this.networkFailures > this.opts.networkRetries) {
      throw new DownloadError(
        'download-failed',
        `${reason}; gave up after ${this.networkFailures} attempts without progress. The ${this.offset} verified bytes are kept ` +
          'and the download resumes from there when the desired state is delivered again (on reconnect or restart)',
      );
    }
    const delayMs = Math.min(500 * 2 ** (this.networkFailures - 1), 10_000);
    this.opts.log?.warn(
      { url: this.url, reason, attempt: this.networkFailures, delayMs, offset: this.offset },
      'artifact download interrupted; retrying from the last verified chunk',
    );
    await sleep(delayMs, this.opts.signal);
  }

  /** The server ignored Range: stream the whole file through the length-capped verifier. */
  private async fallback(answer: Extract<RangeAnswer, { kind: 'full' }>): Promise<DownloadOutcome> {
    this.opts.log?.info(
      { url: this.url },
      'server does not support Range requests; downloading the whole artifact in one stream',
    );
    await this.progress.discard();
    this.resumedFrom = 0;
    try {
      await saveVerifiedStream(this.url, answer.response, this.artifact, this.destination, async (received, piece) => {
        await this.throttle.consume(piece);
        answer.idle.touch();
        this.offset = received;
        this.emit();
      });
    } finally {
      answer.idle.clear();
    }
    return { mode: 'full', resumedFrom: 0, requests: this.requests };
  }

  /** Chunks were checked one by one; the whole file must still match the signed sha256. */
  private async finish(): Promise<void> {
    const verifier = new ArtifactVerifier(this.artifact);
    for await (const piece of createReadStream(this.progress.partialPath)) {
      const step = verifier.update(piece as Buffer);
      if (!step.ok) throw new DownloadError(step.code, `${step.reason}; the download starts over`);
    }
    const done = verifier.finish();
    if (!done.ok) throw new DownloadError(done.code, `${done.reason}; the download starts over`);
    await commitVerified(this.progress.partialPath, this.destination);
    await this.progress.done();
  }

  private emit(): void {
    this.opts.onProgress?.({ received: this.offset, total: this.artifact.size, resumedFrom: this.resumedFrom });
  }
}
