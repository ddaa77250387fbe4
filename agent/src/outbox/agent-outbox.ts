/**
 * @module outbox/agent-outbox
 * The outbox as the agent runs it: telemetry always, update reports always, late reference values
 * and kept samples when those features are configured. Lane settings per stream:
 *
 * - telemetry: `sync.window` batches of up to `sync.batchSize` records, read `sync.flushIntervalMs`
 *   after an append (so a burst leaves in few batches), of which `sync.partialBatchesInFlight`
 *   partial ones (lane.ts), capped at `sync.maxBytesPerSecond`;
 * - reference values: batches of up to 1,000, a few in flight (each is small), one of them partial;
 * - samples: one at a time (each can be megabytes);
 * - update reports: one report per message, a few in flight, in the order they were made.
 *
 * All share the ack timeout's bounds (`sync.ackTimeoutMs`, `sync.ackTimeoutMaxMs`; each lane learns
 * its own within them) and the backoff after a timeout (`sync.backoffMinMs`/`MaxMs`).
 */
import type { Logger } from 'pino';
import type { AckKind } from '@edgeloop/protocol';
import type { AgentConfig } from '../config.js';
import type { SampleStore } from '../sampling/sample-store.js';
import type { AgentDb } from '../store/agent-db.js';
import type { RecordBuffer } from '../store/record-buffer.js';
import type { ReferenceStore } from '../store/reference-store.js';
import { UpdateReportStore, type UpdateReportBody } from '../store/update-report-store.js';
import { Outbox } from './outbox.js';
import type { LaneOptions } from './lane.js';
import { ReferenceStream } from './reference-stream.js';
import { SampleStream } from './sample-stream.js';
import { TelemetryStream } from './telemetry-stream.js';
import { UpdateReportStream } from './update-report-stream.js';

const REFERENCE_BATCH = 1000;
/** Hold polling: a record on hold leaves within this of its hold ending. */
const HELD_POLL_MS = 250;

export interface AgentOutboxDeps {
  sync: AgentConfig['sync'];
  db: AgentDb;
  /** This device's stream id, carried by every message and checked on every ack. */
  stream: string;
  buffer: RecordBuffer;
  /** Running total of records dropped by the buffer cap. */
  dropped: () => number;
  /** When reference bindings are configured. */
  references?: ReferenceStore;
  /** When input sampling is configured. */
  samples?: { store: SampleStore; upload: 'with-sync' | 'on-request' };
  /** The session of the last birth on the fleet link (update reports are stamped with it). */
  session: () => number | undefined;
  publish: (kind: AckKind, payload: Buffer) => Promise<void>;
  /** Bandwidth mode: telemetry records above this seq stay on the device (TelemetryStreamOptions.sendThrough). */
  telemetrySendThrough?: () => number;
  log: Logger;
}

export interface AgentOutbox {
  outbox: Outbox;
  /** Queues an update report for the fleet. */
  report(body: UpdateReportBody): void;
  /** From the desired state: the fleet wants samples until then (sampling `upload: on-request`). */
  requestSamplesUntil(until: number | undefined): void;
  /** Lane settings for a further stream added later (a few in flight, the shared ack timeouts and backoff). */
  laneOptions(window: number): LaneOptions;
}

export function startAgentOutbox(deps: AgentOutboxDeps): AgentOutbox {
  const { sync, log } = deps;
  const outbox = new Outbox({ stream: deps.stream, publish: deps.publish, log: log.child({ part: 'outbox' }) });
  const lane = (o: Pick<LaneOptions, 'window'> & Partial<LaneOptions>): LaneOptions => ({
    ackTimeoutMs: sync.ackTimeoutMs,
    ackTimeoutMaxMs: sync.ackTimeoutMaxMs,
    backoff: { minMs: sync.backoffMinMs, maxMs: sync.backoffMaxMs },
    coalesceMs: 0,
    maxBytesPerSecond: 0,
    waitPollMs: HELD_POLL_MS,
    ...o,
  });

  outbox.add(
    new TelemetryStream(
      deps.buffer,
      deps.stream,
      {
        batchSize: sync.batchSize,
        encoding: sync.encoding,
        ...(deps.telemetrySendThrough ? { sendThrough: deps.telemetrySendThrough } : {}),
      },
      deps.dropped,
    ),
    lane({
      window: sync.window,
      coalesceMs: sync.flushIntervalMs,
      maxBytesPerSecond: sync.maxBytesPerSecond,
      partialBatchesInFlight: sync.partialBatchesInFlight,
    }),
  );
  deps.buffer.onAppend(() => outbox.wake('telemetry'));

  const reports = new UpdateReportStore(deps.db);
  outbox.add(new UpdateReportStream(reports, deps.stream, deps.session, log), lane({ window: 4 }));

  if (deps.references) {
    outbox.add(
      new ReferenceStream(deps.references, deps.stream, REFERENCE_BATCH, log),
      lane({ window: 2, coalesceMs: 100, partialBatchesInFlight: 1 }),
    );
    deps.references.onUpdatesQueued = () => outbox.wake('reference');
  }

  let samples: SampleStream | undefined;
  if (deps.samples) {
    samples = new SampleStream(deps.samples.store, deps.stream, deps.samples.upload, log);
    outbox.add(samples, lane({ window: 1 }));
    deps.samples.store.onKept(() => outbox.wake('sample'));
  }

  return {
    outbox,
    report(body) {
      try {
        reports.add(body);
      } catch (err) {
        // A full or broken disk: the next birth still tells the fleet which models run.
        log.error({ err: (err as Error).message, report: body }, 'could not store an update report; it is not sent');
        return;
      }
      outbox.wake('update');
    },
    laneOptions: (window) => lane({ window }),
    requestSamplesUntil(until) {
      if (!samples) return;
      samples.requestUntil(until);
      outbox.wake('sample');
    },
  };
}
