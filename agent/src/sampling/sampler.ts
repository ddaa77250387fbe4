/**
 * @module sampling/sampler
 * Decides which inputs to keep for retraining: every Nth per model, those whose confidence is
 * low, those whose prediction turned out far from the sensor's reference value, and, while the
 * fleet has a capture window open (it saw drift, or an operator asked) or a local alert fires
 * on the device, every Nth of those. The large-error policy needs the reference, which arrives
 * later: candidates wait in memory (bounded by count and time) and are kept or forgotten once
 * their reference is known.
 */
import type { Logger } from 'pino';
import { MAX_SAMPLE_BYTES, type SampleCapture } from '@edgeloop/protocol';
import type { RawInputBytes } from '../store/record-buffer.js';
import type { SamplingConfig } from './sampling-config.js';
import type { SampleReason, SampleStore } from './sample-store.js';

export interface SampleInput {
  seq: number;
  model: string;
  version: number;
  ts: number;
  prediction: number | null;
  reference: number | null;
  confidence?: number;
  contentType: string;
  data: RawInputBytes;
}

const MAX_CANDIDATES = 200;

/**
 * Says, once per window, that this device does not capture for the fleet: used by the sampler
 * (sampling on, captureOnRequest off) and by the agent when sampling is off altogether.
 */
export function captureRefusal(log: Logger): (capture: SampleCapture) => void {
  let refusedUntil: number | undefined;
  return (capture) => {
    if (refusedUntil === capture.until) return;
    refusedUntil = capture.until;
    log.warn(
      { until: new Date(capture.until).toISOString() },
      'the fleet asked this device to capture inputs, but sampling.captureOnRequest is off in its config: not capturing',
    );
  };
}

export class Sampler {
  private readonly counters = new Map<string, number>();
  private readonly candidates = new Map<number, { input: SampleInput; expiresAt: number }>();
  private captureWindow: SampleCapture | undefined;
  private readonly captureCounters = new Map<string, number>();
  private readonly refuseCapture: (capture: SampleCapture) => void;
  readonly stats = { kept: 0, candidates: 0, expired: 0, tooLarge: 0 };

  constructor(
    private readonly config: SamplingConfig,
    private readonly store: SampleStore,
    private readonly log: Logger,
  ) {
    this.refuseCapture = captureRefusal(log);
  }

  /** The fleet's capture window from the desired state (undefined: none). Ignored unless captureOnRequest. */
  setCapture(capture: SampleCapture | undefined): void {
    if (capture && !this.config.captureOnRequest) return this.refuseCapture(capture);
    const changed = JSON.stringify(capture) !== JSON.stringify(this.captureWindow);
    this.captureWindow = capture;
    if (changed && capture) {
      this.captureCounters.clear();
      this.log.info(
        { until: new Date(capture.until).toISOString(), models: capture.models ?? 'all', everyN: capture.everyN },
        'capture window open: keeping inputs for the fleet',
      );
    }
  }

  private localCapture: SampleCapture | undefined;
  private readonly localCounters = new Map<string, number>();

  /**
   * The device's own capture window: a local drift alert fires and the retraining data must be
   * there when it reconnects (monitoring/monitoring.ts). Honoured whenever sampling is on at all
   * (the owner allowed raw inputs to be kept), bounded by the store's byte budget like any sample.
   */
  setLocalCapture(capture: SampleCapture | undefined): void {
    const opened = capture && !this.localCapture;
    this.localCapture = capture;
    if (opened) {
      this.localCounters.clear();
      this.log.info(
        { until: new Date(capture.until).toISOString(), models: capture.models ?? 'all', everyN: capture.everyN },
        'local alert firing: keeping inputs at a raised rate',
      );
    }
  }

  private capturingLocally(model: string, now: number): boolean {
    const c = this.localCapture;
    if (!c || now >= c.until || (c.models && !c.models.includes(model))) return false;
    const n = (this.localCounters.get(model) ?? 0) + 1;
    this.localCounters.set(model, n);
    return (n - 1) % c.everyN === 0;
  }

  private capturing(model: string, now: number): boolean {
    const c = this.captureWindow;
    if (!c || now >= c.until || (c.models && !c.models.includes(model))) return false;
    const n = (this.captureCounters.get(model) ?? 0) + 1;
    this.captureCounters.set(model, n);
    return (n - 1) % c.everyN === 0;
  }

  /** Called for every stored prediction that has its raw input; `data` is only valid during the call. */
  offer(input: SampleInput, now = Date.now()): void {
    const n = (this.counters.get(input.model) ?? 0) + 1;
    this.counters.set(input.model, n);
    // Asked before the local policies, so the window counts every input it sees.
    const fleetCapture = this.capturing(input.model, now);
    const capture = this.capturingLocally(input.model, now) || fleetCapture;
    if (this.config.everyN > 0 && n % this.config.everyN === 0) return this.keep(input, 'every-nth');
    if (capture) return this.keep(input, 'capture');
    if (
      this.config.lowConfidenceBelow !== undefined &&
      input.confidence !== undefined &&
      input.confidence < this.config.lowConfidenceBelow
    ) {
      return this.keep(input, 'low-confidence');
    }
    if (this.config.largeErrorAbove === undefined || input.prediction === null) return;
    if (input.reference !== null) return this.judge(input, input.reference);
    this.expire(now);
    if (this.candidates.size >= MAX_CANDIDATES) {
      const oldest = this.candidates.keys().next().value as number;
      this.candidates.delete(oldest);
      this.stats.expired++;
    }
    // The bytes may be a pooled request buffer (api/body-pool.ts), reused after this request;
    // JSON inputs are still a function and are serialised only if kept.
    const data = typeof input.data === 'function' ? input.data : new Uint8Array(input.data);
    this.candidates.set(input.seq, { input: { ...input, data }, expiresAt: now + this.config.referenceWaitMs });
    this.stats.candidates++;
  }

  /** Called when a reference value is joined to record `seq`. */
  onReference(seq: number, reference: number): void {
    const c = this.candidates.get(seq);
    if (!c) return;
    this.candidates.delete(seq);
    this.judge(c.input, reference);
  }

  private judge(input: SampleInput, reference: number): void {
    if (input.prediction !== null && Math.abs(input.prediction - reference) > this.config.largeErrorAbove!) {
      this.keep({ ...input, reference }, 'large-error');
    }
  }

  private keep(input: SampleInput, reason: SampleReason): void {
    try {
      const data = typeof input.data === 'function' ? input.data() : input.data;
      // The fleet refuses bigger samples without an ack; kept, one would block the upload queue.
      if (data.length > MAX_SAMPLE_BYTES) {
        this.stats.tooLarge++;
        if (this.stats.tooLarge === 1 || this.stats.tooLarge % 100 === 0) {
          this.log.warn(
            {
              seq: input.seq,
              model: input.model,
              bytes: data.length,
              limit: MAX_SAMPLE_BYTES,
              skipped: this.stats.tooLarge,
            },
            'input too large to keep as a sample; skipped',
          );
        }
        return;
      }
      this.store.keep(
        {
          seq: input.seq,
          model: input.model,
          version: input.version,
          ts: input.ts,
          reason,
          prediction: input.prediction,
          reference: input.reference,
          contentType: input.contentType,
        },
        data,
      );
      this.stats.kept++;
    } catch (err) {
      this.log.error({ err: (err as Error).message, seq: input.seq }, 'could not keep a sample; continuing');
    }
  }

  private expire(now: number): void {
    for (const [seq, c] of this.candidates) {
      if (c.expiresAt >= now) break; // insertion order = expiry order
      this.candidates.delete(seq);
      this.stats.expired++;
    }
  }
}
