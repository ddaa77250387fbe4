/**
 * @module runtime/shadow-runner
 * Shadow inference: a candidate version loaded beside the serving one (a second ActiveModels, the
 * "shadow slots") runs on the very tensors the serving model got, after the request was answered.
 * Its output becomes a telemetry record flagged `shadow`, with the served record's timestamp and
 * request id, so reference values join to both and the fleet can compare their live error.
 *
 * Off the critical path by construction: `submit` only enqueues (no await, no throw), jobs run
 * one at a time from setImmediate, and the queue is bounded — under load, shadow jobs are dropped
 * (counted), never the serving requests slowed by a backlog. The serving model always answers.
 */
import type { Logger } from 'pino';
import type { Manifest } from '@edgeloop/protocol';
import type { NewRecord } from '../store/record-buffer.js';
import type { ActiveModels } from './active-models.js';
import type { TensorData } from './model-runner.js';

export interface ShadowJob {
  /** The served prediction's model name; the shadow slot of the same name runs. */
  model: string;
  /** The manifest that produced the served answer, for the compatibility check. */
  served: Manifest;
  feeds: Record<string, TensorData>;
  features: Record<string, number>;
  /** Same as the served record's, so reference values join to both. */
  ts: number;
  requestId?: string;
}

export type ShadowOutcome = 'ok' | 'error' | 'dropped' | 'incompatible';

export interface ShadowObserver {
  shadow(e: { model: string; version: number; outcome: ShadowOutcome; ms?: number }): void;
}

/** Turns the shadow model's raw outputs into a record body (the predictor's post-processing). */
export type ShadowRecordBuilder = (
  manifest: Manifest,
  outputs: Record<string, TensorData>,
) => Pick<NewRecord, 'output' | 'prediction'>;

export interface ShadowRunnerOptions {
  /** Jobs waiting at most; more are dropped. */
  maxQueued?: number;
  observer?: ShadowObserver;
  log?: Logger;
}

/**
 * Why the shadow cannot run on the serving model's tensors, or undefined when it can: same
 * preprocessing (so the tensors mean the same), and the same inputs by name and dtype.
 */
export function shadowIncompatibility(served: Manifest, shadow: Manifest): string | undefined {
  if (JSON.stringify(served.preprocessing) !== JSON.stringify(shadow.preprocessing)) {
    return `v${shadow.version} preprocesses its input differently from the serving v${served.version}; a shadow runs on the serving model's tensors, so both must share preprocessing`;
  }
  const inputs = (m: Manifest) => JSON.stringify(m.inputs.map((i) => [i.name, i.dtype]).sort());
  if (inputs(served) !== inputs(shadow)) {
    return `v${shadow.version} has inputs ${inputs(shadow)}, the serving v${served.version} has ${inputs(served)}; a shadow must take the same inputs`;
  }
  return undefined;
}

export class ShadowRunner {
  private readonly queue: ShadowJob[] = [];
  private running = false;
  private readonly maxQueued: number;
  private readonly verdicts = new Map<string, string | undefined>();
  private idleWaiters: Array<() => void> = [];
  readonly stats = { ran: 0, failed: 0, dropped: 0, incompatible: 0 };

  constructor(
    private readonly shadows: ActiveModels,
    private readonly append: (record: NewRecord) => Promise<number>,
    private readonly build: ShadowRecordBuilder,
    private readonly opts: ShadowRunnerOptions = {},
  ) {
    this.maxQueued = opts.maxQueued ?? 32;
  }

  /** Whether a shadow is loaded for this model (the predictor skips building jobs otherwise). */
  has(model: string): boolean {
    return this.shadows.get(model) !== undefined;
  }

  /** Never blocks, never throws. */
  submit(job: ShadowJob): void {
    const shadow = this.shadows.get(job.model);
    if (!shadow) return;
    if (this.queue.length >= this.maxQueued) {
      this.stats.dropped++;
      this.opts.observer?.shadow({ model: job.model, version: shadow.manifest.version, outcome: 'dropped' });
      return;
    }
    this.queue.push(job);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** Resolves once every submitted job has run (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) await this.runOne(job);
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async runOne(job: ShadowJob): Promise<void> {
    await this.shadows.use(job.model, async (runner) => {
      const { manifest } = runner;
      const key = `${job.served.version}:${job.served.artifact.sha256}>${manifest.version}:${manifest.artifact.sha256}`;
      if (!this.verdicts.has(key)) this.verdicts.set(key, shadowIncompatibility(job.served, manifest));
      const why = this.verdicts.get(key);
      if (why) {
        this.stats.incompatible++;
        this.opts.observer?.shadow({ model: manifest.name, version: manifest.version, outcome: 'incompatible' });
        if (this.stats.incompatible === 1)
          this.opts.log?.warn({ model: manifest.name, version: manifest.version, reason: why }, 'shadow model skipped');
        return;
      }
      const started = performance.now();
      try {
        const outputs = await runner.run(job.feeds);
        const ms = performance.now() - started;
        await this.append({
          ts: job.ts,
          model: manifest.name,
          version: manifest.version,
          ...(job.requestId ? { requestId: job.requestId } : {}),
          ...this.build(manifest, outputs),
          latencyMs: ms,
          features: job.features,
          shadow: true,
        });
        this.stats.ran++;
        this.opts.observer?.shadow({ model: manifest.name, version: manifest.version, outcome: 'ok', ms });
      } catch (err) {
        this.stats.failed++;
        this.opts.observer?.shadow({ model: manifest.name, version: manifest.version, outcome: 'error' });
        this.opts.log?.warn(
          { model: manifest.name, version: manifest.version, err: (err as Error).message },
          'shadow inference failed; the served answer is unaffected',
        );
      }
    });
  }
}
