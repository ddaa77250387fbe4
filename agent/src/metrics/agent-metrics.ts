/**
 * @module metrics/agent-metrics
 * The agent's Prometheus metrics, served at GET /metrics. Each agent owns its own Registry (not
 * prom-client's global one), so several agents in one process (tests, benchmarks, the demo)
 * never collide or mix their numbers.
 *
 * Two kinds of metrics:
 * - event metrics, updated as things happen (predictions, ONNX Runtime calls, API errors,
 *   update reports); the predictor reports through the PredictObserver interface;
 * - state gauges, read from their source at scrape time (buffer depth and bytes, drops, sync lag,
 *   link state, active models), so they are exact when scraped and cost nothing in between.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UPDATE_STATES, type UpdateReport } from '@edgeloop/protocol';
import type { OutboxStreamStats } from '../outbox/outbox.js';
import type { PredictObserver, PredictOutcome } from '../predict/predictor.js';
import type { ShadowObserver, ShadowOutcome } from '../runtime/shadow-runner.js';
import type { AgentDb } from '../store/agent-db.js';

export interface MetricSources {
  /** The agent database: the sync lag is read from the records table with one indexed query. */
  db: AgentDb;
  bufferRecords: () => number;
  bufferBytes: () => number;
  dropped: () => number;
  connected: () => boolean;
  models: () => Array<{ name: string; version: number }>;
  /** Sensor bindings, when configured: messages taken and rejected, runs of sensor-fed models. */
  sensors?: () => SensorCounts | undefined;
  /** Per outbox stream: items waiting, batches in flight, sends, acks, timeouts (outbox/outbox.ts). */
  outbox?: () => OutboxStreamStats[];
  /** ONNX Runtime build serving the models, e.g. onnxruntime-node. */
  backend: string;
  /** Process metrics (CPU, memory, event loop lag, GC); off in tests that only look at ours. */
  processMetrics?: boolean;
}

export interface SensorCounts {
  messages: number;
  rejected: number;
  models: Array<{ model: string; predictions: number; skipped: number; failed: number }>;
  /** What became of reference values (sensors/reference-joiner.ts), when there are reference bindings. */
  references?: { joined: number; expired: number; unmatched: number; skewed: number } | undefined;
}

/** 0.1 ms … 1 s: a small model on a Pi answers in about a millisecond, a detector in hundreds. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/**
 * Sampling period of the event-loop-delay histogram. prom-client's default (10 ms) wakes an idle
 * agent a hundred times a second, about 40 % of its idle CPU; once a second still sees every
 * stall that spans a sample, and nodejs_eventloop_lag_seconds is measured at each scrape anyway.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export class AgentMetrics implements PredictObserver, ShadowObserver {
  readonly registry = new Registry();
  private readonly predictSeconds;
  private readonly preprocessSeconds;
  private readonly inferenceSeconds;
  private readonly inferenceBatch;
  private readonly predictions;
  private readonly requestErrors;
  private readonly updateState;
  private readonly shadowInferences;
  private readonly desiredRefusals;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.predictSeconds = new Histogram({
      name: 'edgeloop_predict_duration_seconds',
      help: 'Time per prediction: preprocessing plus its share of the ONNX Runtime call (the record latency)',
      labelNames: ['model', 'version'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.preprocessSeconds = new Histogram({
      name: 'edgeloop_preprocess_duration_seconds',
      help: 'Time turning one request into input tensors (image decode, resize, normalise, features)',
      labelNames: ['model', 'version'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inferenceSeconds = new Histogram({
      name: 'edgeloop_inference_duration_seconds',
      help: 'Time per ONNX Runtime call (a batched call counts once)',
      labelNames: ['model', 'version'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inferenceBatch = new Histogram({
      name: 'edgeloop_inference_batch_size',
      help: 'Samples per ONNX Runtime call',
      labelNames: ['model', 'version'] as const,
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.predictions = new Counter({
      name: 'edgeloop_predictions_total',
      help: 'Predictions by outcome: ok (buffered), invalid_input (4xx), error (5xx)',
      labelNames: ['model', 'version', 'outcome'] as const,
      registers,
    });
    this.requestErrors = new Counter({
      name: 'edgeloop_api_request_errors_total',
      help: 'Local API responses with a 4xx or 5xx status',
      labelNames: ['status'] as const,
      registers,
    });
    this.updateState = new Gauge({
      name: 'edgeloop_model_update_state',
      help: 'Last reported update state per model: 1 for the current state, 0 for the others',
      labelNames: ['model', 'state'] as const,
      registers,
    });

    this.desiredRefusals = new Counter({
      name: 'edgeloop_desired_states_refused_total',
      help: 'Desired states refused (unsigned, malformed, bad-keyset, unknown-key, bad-signature, wrong-device, replay); the models in use kept serving',
      labelNames: ['code'] as const,
      registers,
    });

    this.shadowInferences = new Counter({
      name: 'edgeloop_shadow_inferences_total',
      help: 'Shadow model runs beside the serving model: ok (recorded), error, dropped (queue full), incompatible',
      labelNames: ['model', 'version', 'outcome'] as const,
      registers,
    });

    const oldestTs = sources.db.prepare<[], { ts: number }>('SELECT ts FROM records ORDER BY seq LIMIT 1');
    gauge(
      registers,
      'edgeloop_buffer_records',
      'Records in the buffer not yet acknowledged by the fleet server',
      sources.bufferRecords,
    );
    gauge(
      registers,
      'edgeloop_buffer_bytes',
      'Bytes used by the agent database (records dominate); buffer.maxBytes caps this',
      sources.bufferBytes,
    );
    gauge(
      registers,
      'edgeloop_sync_lag_seconds',
      'Age of the oldest record not yet acknowledged by the fleet server (0 when none)',
      () => {
        const oldest = oldestTs.get();
        return oldest ? Math.max(0, (Date.now() - oldest.ts) / 1000) : 0;
      },
    );
    gauge(registers, 'edgeloop_fleet_connected', '1 while the MQTT link to the fleet is up', () =>
      sources.connected() ? 1 : 0,
    );
    new Counter({
      name: 'edgeloop_buffer_dropped_total',
      help: 'Records dropped by the buffer limits since the buffer was created (persisted)',
      registers,
      collect() {
        // The total is persisted by the buffer limits; mirror it rather than count twice.
        this.reset();
        this.inc(sources.dropped());
      },
    });
    new Gauge({
      name: 'edgeloop_model_info',
      help: 'Active models: always 1, the labels carry name, version and runtime backend',
      labelNames: ['model', 'version', 'backend'] as const,
      registers,
      collect() {
        this.reset();
        for (const m of sources.models())
          this.set({ model: m.name, version: String(m.version), backend: sources.backend }, 1);
      },
    });
    const outbox = sources.outbox;
    if (outbox) outboxMetrics(registers, outbox);
    const sensors = sources.sensors;
    if (sensors) {
      new Counter({
        name: 'edgeloop_sensor_messages_total',
        help: 'MQTT messages on sensor binding topics: accepted (readable; for reference values, what became of them is in edgeloop_sensor_reference_values_total), or rejected (unreadable payload; the reason is logged)',
        labelNames: ['outcome'] as const,
        registers,
        collect() {
          const c = sensors();
          this.reset();
          if (!c) return;
          this.inc({ outcome: 'accepted' }, c.messages - c.rejected);
          this.inc({ outcome: 'rejected' }, c.rejected);
        },
      });
      new Counter({
        name: 'edgeloop_sensor_reference_values_total',
        help: "Reference values by what became of them: joined (to a prediction), expired (no prediction in the window), unmatched (no or unknown request id), skewed (stamped ahead of this device's clock; not joined)",
        labelNames: ['outcome'] as const,
        registers,
        collect() {
          this.reset();
          const r = sensors()?.references;
          if (!r) return;
          for (const outcome of ['joined', 'expired', 'unmatched', 'skewed'] as const)
            this.inc({ outcome }, r[outcome]);
        },
      });
      new Counter({
        name: 'edgeloop_sensor_model_runs_total',
        help: 'Runs of models fed by sensor inputs: ok (recorded), skipped (inputs incomplete or older than maxAgeMs), failed',
        labelNames: ['model', 'outcome'] as const,
        registers,
        collect() {
          this.reset();
          for (const m of sensors()?.models ?? []) {
            this.inc({ model: m.model, outcome: 'ok' }, m.predictions);
            this.inc({ model: m.model, outcome: 'skipped' }, m.skipped);
            this.inc({ model: m.model, outcome: 'failed' }, m.failed);
          }
        },
      });
    }
    if (sources.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  prediction(e: {
    model: string;
    version: number;
    outcome: PredictOutcome;
    latencyMs?: number;
    preprocessMs?: number;
  }): void {
    const labels = { model: e.model, version: String(e.version) };
    this.predictions.inc({ ...labels, outcome: e.outcome });
    if (e.latencyMs !== undefined) this.predictSeconds.observe(labels, e.latencyMs / 1000);
    if (e.preprocessMs !== undefined) this.preprocessSeconds.observe(labels, e.preprocessMs / 1000);
  }

  inference(e: { model: string; version: number; batchSize: number; ms: number }): void {
    const labels = { model: e.model, version: String(e.version) };
    this.inferenceSeconds.observe(labels, e.ms / 1000);
    this.inferenceBatch.observe(labels, e.batchSize);
  }

  shadow(e: { model: string; version: number; outcome: ShadowOutcome }): void {
    this.shadowInferences.inc({ model: e.model, version: String(e.version), outcome: e.outcome });
  }

  requestError(status: number): void {
    this.requestErrors.inc({ status: String(status) });
  }

  /** Fed from every update report the agent sends (agent.ts wraps its report function). */
  updateReported(r: Pick<UpdateReport, 'model' | 'state'>): void {
    for (const state of UPDATE_STATES) this.updateState.set({ model: r.model, state }, state === r.state ? 1 : 0);
  }

  /** A desired state the gate refused (updates/desired-gate.ts). */
  desiredRefused(code: string): void {
    this.desiredRefusals.inc({ code });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Read from the outbox at scrape time, one series per stream kind (telemetry, reference, sample, update). */
function outboxMetrics(registers: Registry[], read: () => OutboxStreamStats[]): void {
  new Gauge({
    name: 'edgeloop_outbox_pending',
    help: 'Items stored in the outbox and not yet acknowledged by the fleet, per stream',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.set({ kind: s.kind }, s.pending);
    },
  });
  new Gauge({
    name: 'edgeloop_outbox_in_flight_batches',
    help: 'Batches sent and waiting for their ack, per stream (at most its window)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.set({ kind: s.kind }, s.inFlight);
    },
  });
  new Counter({
    name: 'edgeloop_outbox_batches_sent_total',
    help: 'Batches published, per stream: first (first time) or resend (after a reconnect, an ack timeout or a restart)',
    labelNames: ['kind', 'attempt'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) {
        this.inc({ kind: s.kind, attempt: 'first' }, s.sent);
        this.inc({ kind: s.kind, attempt: 'resend' }, s.resent);
      }
    },
  });
  new Counter({
    name: 'edgeloop_outbox_items_sent_total',
    help: 'Items in batches published for the first time, per stream (÷ batches_sent_total{attempt="first"}: items per batch, which grows while the fleet acks late)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.inc({ kind: s.kind }, s.sentItems);
    },
  });
  new Counter({
    name: 'edgeloop_outbox_partial_batches_sent_total',
    help: 'Batches published for the first time that carried every item there was, per stream: the next waits for their ack (sync.partialBatchesInFlight)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.inc({ kind: s.kind }, s.partialSent);
    },
  });
  new Counter({
    name: 'edgeloop_outbox_items_total',
    help: 'Items the fleet answered for, per stream: acked (stored, deleted here) or rejected (refused; telemetry keeps them in dead_letters)',
    labelNames: ['kind', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) {
        this.inc({ kind: s.kind, outcome: 'acked' }, s.acked);
        this.inc({ kind: s.kind, outcome: 'rejected' }, s.rejected);
      }
    },
  });
  new Counter({
    name: 'edgeloop_outbox_items_resent_total',
    help: 'Items in batches published again, per stream (the fleet drops them as duplicates if it had them)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.inc({ kind: s.kind }, s.resentItems);
    },
  });
  new Counter({
    name: 'edgeloop_outbox_ack_timeouts_total',
    help: 'Times a stream got no ack within its ack timeout and sent a probe after a pause',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.inc({ kind: s.kind }, s.timeouts);
    },
  });
  new Gauge({
    name: 'edgeloop_outbox_ack_timeout_seconds',
    help: 'How long a stream waits for an ack now: learnt from ack latency, at least sync.ackTimeoutMs, doubled per timeout in a row',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.set({ kind: s.kind }, s.ackTimeoutMs / 1000);
    },
  });
  new Gauge({
    name: 'edgeloop_outbox_window_batches',
    help: 'Batches a stream lets wait for their ack now: halved by an ack timeout, grown back by acks',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of read()) this.set({ kind: s.kind }, s.window);
    },
  });
}

function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}
