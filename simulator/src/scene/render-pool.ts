/**
 * @module scene/render-pool
 * Rendering on worker threads. A simulated fleet shares one process with the agents it drives
 * (and often the fleet server): drawing frames on the main thread would take event-loop time
 * from them, and leave the second core idle. The output is exactly renderFrame's: the same
 * pure renderRaw, then sharp's JPEG encoding on its own pool.
 */
import { Worker } from 'node:worker_threads';
import { encodeJpeg, JPEG_QUALITY, type RawFrame, type SceneParams } from './render.js';

interface Pending {
  resolve: (frame: RawFrame) => void;
  reject: (err: Error) => void;
}

/**
 * Starts a render thread. From TypeScript sources (this repository runs the simulator through
 * tsx) the thread registers tsx's loader itself before importing the worker module: loader
 * flags in a worker's execArgv are not applied to it.
 */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./render-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return new Worker(url);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`,
    { eval: true },
  );
}

export class RenderPool {
  private readonly workers: Worker[] = [];
  /** Jobs in flight per worker: a worker with work keeps the process alive, an idle one does not. */
  private readonly busy: number[] = [];
  private readonly owner = new Map<number, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(threads = 1) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 16)
      throw new RangeError(`render threads must be 1 to 16, got ${threads}`);
    for (let i = 0; i < threads; i++) {
      const worker = startWorker();
      worker.on('message', (msg: { id: number; width: number; height: number; bytes?: Uint8Array; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.done(msg.id);
        if (msg.error !== undefined || !msg.bytes)
          p.reject(new RangeError(msg.error ?? 'render thread sent no pixels'));
        else
          p.resolve({
            data: Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength),
            width: msg.width,
            height: msg.height,
            channels: 3,
          });
      });
      worker.on('error', (err) => this.failAll(new Error(`render thread failed: ${err.message}`)));
      worker.unref();
      this.workers.push(worker);
      this.busy.push(0);
    }
  }

  renderRaw(params: SceneParams): Promise<RawFrame> {
    if (this.closed) return Promise.reject(new Error('the render pool is closed'));
    const id = this.nextId++;
    const index = id % this.workers.length;
    const worker = this.workers[index]!;
    if (this.busy[index]!++ === 0) worker.ref();
    this.owner.set(id, index);
    return new Promise<RawFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, params });
    });
  }

  /** The frame as renderFrame gives it: same bytes, drawn off the calling thread. */
  async renderFrame(params: SceneParams, quality: number = JPEG_QUALITY): Promise<Buffer> {
    return encodeJpeg(await this.renderRaw(params), quality);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the render pool is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private done(id: number): void {
    const index = this.owner.get(id);
    this.owner.delete(id);
    if (index !== undefined && --this.busy[index]! === 0) this.workers[index]!.unref();
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.done(id);
      p.reject(err);
    }
    this.pending.clear();
  }
}
