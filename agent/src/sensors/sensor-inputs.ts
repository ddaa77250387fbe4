/**
 * @module sensors/sensor-inputs
 * Models fed by sensors: input bindings fill the elements of a model's input tensors with the
 * latest value of each sensor, and the model runs when its trigger says so — after any value
 * changes (at most once per minIntervalMs) or every intervalMs. A run goes through the same
 * Predictor as an HTTP request, so its record is buffered, synced, joined to reference values
 * and counted like any other; each sensor's value is recorded as a feature named after its
 * binding, which is what drift monitoring compares.
 *
 * The model does not run while its inputs are incomplete (a position without a value yet) or
 * stale (a value older than maxAgeMs): a prediction from a dead sensor's last reading would be
 * recorded as if it were current. Each such state is logged once when it begins, with the
 * bindings concerned.
 */
import type { Logger } from 'pino';
import { elementCount, type Manifest } from '@edgeloop/protocol';
import type { PredictInput } from '../predict/feeds.js';
import type { SensorReading } from './payload.js';
import { triggerSchema, type InputBinding, type Trigger } from './sensor-config.js';

export interface SensorInputsDeps {
  bindings: readonly InputBinding[];
  triggers: Readonly<Record<string, Trigger>>;
  /** The manifest of the version now serving `model`, if any. */
  manifestOf(model: string): Manifest | undefined;
  /** Runs and records one prediction (Predictor.predict). */
  predict(model: string, input: PredictInput): Promise<unknown>;
  log: Logger;
}

export interface SensorInputStats {
  predictions: number;
  /** Runs the trigger wanted but the inputs were incomplete, stale or did not fit the model. */
  skipped: number;
  failed: number;
}

interface Latest {
  value: number;
  ts: number;
}

/** A model's feed: its bindings, trigger and run state. */
class ModelFeed {
  timer: NodeJS.Timeout | undefined;
  /** A run is queued for the end of this turn of the event loop (change trigger). */
  immediate: NodeJS.Immediate | undefined;
  /** The prediction in flight, if any. */
  running: Promise<void> | undefined;
  /** A value arrived while running: run again with it afterwards. */
  again = false;
  lastRunAt = -Infinity;
  /** The reason of the last skip or failure, so each state is logged once. */
  lastProblem: string | undefined;
  readonly stats: SensorInputStats = { predictions: 0, skipped: 0, failed: 0 };

  constructor(
    readonly model: string,
    readonly bindings: readonly InputBinding[],
    readonly trigger: Trigger,
  ) {}
}

export type InputOutcome = 'input' | 'older';

export class SensorInputs {
  private readonly latest = new Map<string, Latest>();
  private readonly feeds = new Map<string, ModelFeed>();
  private closed = false;

  constructor(private readonly deps: SensorInputsDeps) {
    const byModel = new Map<string, InputBinding[]>();
    for (const b of deps.bindings) byModel.set(b.model, [...(byModel.get(b.model) ?? []), b]);
    for (const [model, bindings] of byModel) {
      const feed = new ModelFeed(model, bindings, deps.triggers[model] ?? triggerSchema.parse({}));
      this.feeds.set(model, feed);
      if (feed.trigger.on === 'interval') {
        feed.timer = setInterval(() => {
          if (!feed.running) this.run(feed);
        }, feed.trigger.intervalMs);
        feed.timer.unref();
      }
    }
  }

  /** Runs per sensor-fed model since start. */
  statsByModel(): Array<{ model: string } & SensorInputStats> {
    return [...this.feeds.values()].map((f) => ({ model: f.model, ...f.stats }));
  }

  /** All models together. */
  get stats(): SensorInputStats {
    const total = { predictions: 0, skipped: 0, failed: 0 };
    for (const f of this.feeds.values()) {
      total.predictions += f.stats.predictions;
      total.skipped += f.stats.skipped;
      total.failed += f.stats.failed;
    }
    return total;
  }

  /** A sensor value for an input; an older measurement than the one held is ignored. */
  accept(binding: InputBinding, reading: SensorReading, now = Date.now()): InputOutcome {
    const held = this.latest.get(binding.name);
    if (held && reading.ts < held.ts) return 'older';
    this.latest.set(binding.name, { value: reading.value, ts: reading.ts });
    const feed = this.feeds.get(binding.model)!;
    if (feed.trigger.on === 'change') this.schedule(feed, now);
    return 'input';
  }

  private schedule(feed: ModelFeed, now: number): void {
    if (this.closed) return;
    if (feed.running) {
      feed.again = true;
      return;
    }
    if (feed.timer || feed.immediate) return; // a run is already due and will take the newest values
    const wait = feed.lastRunAt + feed.trigger.minIntervalMs - now;
    if (wait <= 0) {
      // Not now: the rest of this MQTT message (one payload may feed several bindings) and any
      // messages already read are applied first, so a run never mixes a new value with a stale one.
      feed.immediate = setImmediate(() => {
        feed.immediate = undefined;
        this.run(feed);
      });
      return;
    }
    feed.timer = setTimeout(() => {
      feed.timer = undefined;
      this.run(feed);
    }, wait);
  }

  private run(feed: ModelFeed): void {
    if (this.closed) return;
    const now = Date.now();
    const composed = this.compose(feed, now);
    if (!composed.ok) {
      feed.stats.skipped++;
      this.problem(feed, composed.reason, 'sensor model not run');
      return;
    }
    feed.lastRunAt = now;
    feed.running = this.deps
      .predict(feed.model, { kind: 'json', body: { inputs: composed.inputs }, features: composed.features })
      .then(
        () => {
          feed.stats.predictions++;
          if (feed.lastProblem !== undefined) this.deps.log.info({ model: feed.model }, 'sensor model runs again');
          feed.lastProblem = undefined;
        },
        (err: Error) => {
          feed.stats.failed++;
          this.problem(feed, err.message, 'sensor model prediction failed');
        },
      )
      .finally(() => {
        feed.running = undefined;
        if (feed.again) {
          feed.again = false;
          this.schedule(feed, Date.now());
        }
      });
  }

  private problem(feed: ModelFeed, reason: string, msg: string): void {
    if (feed.lastProblem === reason) return;
    feed.lastProblem = reason;
    this.deps.log.warn({ model: feed.model, reason }, msg);
  }

  /** The model's input tensors from the latest values, or why they cannot be built now. */
  private compose(
    feed: ModelFeed,
    now: number,
  ):
    | { ok: true; inputs: Record<string, { shape: number[]; data: number[] }>; features: Record<string, number> }
    | { ok: false; reason: string } {
    const manifest = this.deps.manifestOf(feed.model);
    if (!manifest) return { ok: false, reason: `model "${feed.model}" is not active on this device yet` };
    const byInput = new Map<string, InputBinding[]>();
    for (const b of feed.bindings) {
      const input = b.input ?? manifest.inputs[0]!.name;
      byInput.set(input, [...(byInput.get(input) ?? []), b]);
    }
    const unknown = [...byInput.keys()].filter((name) => !manifest.inputs.some((i) => i.name === name));
    if (unknown.length)
      return {
        ok: false,
        reason: `bindings name input(s) ${unknown.join(', ')}, but ${describe(manifest)} has ${manifest.inputs.map((i) => i.name).join(', ')}`,
      };

    const inputs: Record<string, { shape: number[]; data: number[] }> = {};
    const features: Record<string, number> = {};
    const missing: string[] = [];
    const stale: string[] = [];
    for (const spec of manifest.inputs) {
      const bindings = byInput.get(spec.name);
      if (!bindings)
        return {
          ok: false,
          reason: `input "${spec.name}" of ${describe(manifest)} has no sensor binding; every input of a sensor-fed model needs bindings`,
        };
      // Dynamic dimensions (batch, sequence) are one sample of one step.
      const shape = spec.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
      const size = elementCount(shape);
      const data = new Array<number>(size).fill(Number.NaN);
      const taken = new Map<number, string>();
      for (const b of bindings) {
        const other = taken.get(b.index);
        if (other)
          return {
            ok: false,
            reason: `bindings "${other}" and "${b.name}" both fill position ${b.index} of input "${spec.name}" (the model's first input, named or not)`,
          };
        taken.set(b.index, b.name);
        if (b.index >= size)
          return {
            ok: false,
            reason: `binding "${b.name}" fills position ${b.index} of input "${spec.name}", which has ${size} (shape [${shape.join(', ')}]) in ${describe(manifest)}`,
          };
        const v = this.latest.get(b.name);
        if (!v) {
          missing.push(b.name);
          continue;
        }
        if (now - v.ts > feed.trigger.maxAgeMs) stale.push(b.name);
        data[b.index] = v.value;
        features[b.name] = v.value;
      }
      const unbound = data.flatMap((v, i) => (Number.isNaN(v) && !bindings.some((b) => b.index === i) ? [i] : []));
      if (unbound.length)
        return {
          ok: false,
          reason: `positions ${unbound.slice(0, 10).join(', ')}${unbound.length > 10 ? ', …' : ''} of input "${spec.name}" (shape [${shape.join(', ')}]) of ${describe(manifest)} have no binding`,
        };
      inputs[spec.name] = { shape, data };
    }
    if (missing.length) return { ok: false, reason: `waiting for a first value from ${missing.join(', ')}` };
    if (stale.length)
      return {
        ok: false,
        reason: `no value for more than maxAgeMs (${feed.trigger.maxAgeMs} ms) from ${stale.join(', ')}`,
      };
    return { ok: true, inputs, features };
  }

  /** No new runs; waits for those in flight, so their records are committed before the buffer closes. */
  async close(): Promise<void> {
    this.closed = true;
    for (const feed of this.feeds.values()) {
      clearTimeout(feed.timer);
      clearInterval(feed.timer);
      clearImmediate(feed.immediate);
    }
    await Promise.all([...this.feeds.values()].map((f) => f.running));
  }
}

const describe = (m: Manifest) => `${m.name} v${m.version}`;
