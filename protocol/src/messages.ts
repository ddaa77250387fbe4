/**
 * @module messages
 * Schemas of every MQTT message. Each carries `v` (the message format version) so old and new
 * agents can share a fleet; decoders reject anything they cannot fully validate.
 */
import { z } from 'zod';
import { isValidId } from './topics.js';
import { signedEnvelopeSchema } from './envelope.js';
import { deviceMonitoringSchema } from './monitoring/device-monitoring.js';

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number().int().min(0);

export const MAX_BATCH_RECORDS = 5000;

export const runningModelSchema = z.object({
  name: id,
  version: z.number().int().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RunningModel = z.infer<typeof runningModelSchema>;

/** Birth: sent (retained) on every connect. Death: the broker publishes it as the last will. */
export const presenceSchema = z.discriminatedUnion('type', [
  z.object({
    v: z.literal(1),
    type: z.literal('birth'),
    deviceId: id,
    /** Increments on every connect; a death only counts if it matches the current session. */
    session: z.number().int().min(0),
    ts: epochMs,
    agentVersion: z.string().max(64),
    arch: z.string().max(32),
    platform: z.string().max(32),
    hardware: z.string().max(64).optional(),
    cpus: z.number().int().min(0),
    memTotalMb: z.number().min(0),
    runtime: z.object({ name: z.string().max(64), version: z.string().max(64) }),
    models: z.array(runningModelSchema).max(64),
    stream: id,
    backlog: z.number().int().min(0),
    /** Records dropped by the device's buffer cap so far. */
    dropped: z.number().int().min(0).optional(),
  }),
  z.object({ v: z.literal(1), type: z.literal('death'), deviceId: id, session: z.number().int().min(0) }),
]);
export type Presence = z.infer<typeof presenceSchema>;
export type Birth = Extract<Presence, { type: 'birth' }>;

/** One buffered prediction. */
export const telemetryRecordSchema = z.object({
  seq,
  ts: epochMs,
  model: id,
  version: z.number().int().min(1),
  requestId: z.string().max(128).optional(),
  /** Flattened first output (small models) — the full tensor stays on the device. */
  output: z.array(z.number()).max(1024),
  prediction: z.number().nullable().optional(),
  latencyMs: z.number().min(0),
  features: z.record(z.string().max(64), z.number()),
  reference: z.number().nullable().optional(),
  /** Made by the shadow model (run beside the serving one, never answered with); same requestId/ts as the served record. */
  shadow: z.boolean().optional(),
});
export type TelemetryRecord = z.infer<typeof telemetryRecordSchema>;

export const telemetryBatchSchema = z
  .object({
    v: z.literal(1),
    /** Identifies one agent buffer; seq numbers are unique within it, and survive restarts. */
    stream: id,
    records: z.array(telemetryRecordSchema).min(1).max(MAX_BATCH_RECORDS),
    /** Records still waiting on the device after this batch. */
    backlog: z.number().int().min(0),
    /** Made while the device was offline and forwarded later (Sparkplug's "historical"). */
    historical: z.boolean().optional(),
    /** Records the device has dropped so far (buffer cap), a running total. */
    dropped: z.number().int().min(0).optional(),
  })
  .refine((b) => b.records.every((r, i) => i === 0 || r.seq > (b.records[i - 1]?.seq ?? 0)), {
    message: 'records must be in strictly increasing seq order',
    path: ['records'],
  });
export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;

/** Device channels whose messages the fleet acknowledges (the agent's outbox streams). */
export const ACK_KINDS = ['telemetry', 'reference', 'sample', 'update', 'summary', 'alert'] as const;
export type AckKind = (typeof ACK_KINDS)[number];

export const ackSchema = z.object({
  v: z.literal(1),
  /**
   * Which outbox stream the acked range belongs to; absent = telemetry (older servers). The
   * kinds are the device channels the acked messages came on.
   */
  kind: z.enum(ACK_KINDS).optional(),
  stream: id,
  seqFrom: seq,
  seqTo: seq,
  status: z.enum(['stored', 'rejected']),
  reason: z.string().max(1024).optional(),
});
export type Ack = z.infer<typeof ackSchema>;

/**
 * Reference values (sensor ground truth) that arrived after their record was already synced.
 * `seq` names the record in the stream; `id` is the device's outbox position for the ack.
 */
export const referenceUpdateBatchSchema = z
  .object({
    v: z.literal(1),
    stream: id,
    updates: z
      .array(z.object({ id: seq, seq, reference: z.number() }))
      .min(1)
      .max(MAX_BATCH_RECORDS),
  })
  .refine((b) => b.updates.every((u, i) => i === 0 || u.id > (b.updates[i - 1]?.id ?? 0)), {
    message: 'updates must be in strictly increasing id order',
    path: ['updates'],
  });
export type ReferenceUpdateBatch = z.infer<typeof referenceUpdateBatchSchema>;

export const desiredModelSchema = z.object({
  manifest: signedEnvelopeSchema,
  /** Where to fetch the artifact; the manifest's sha256 and size decide whether it is accepted. */
  artifactUrl: z.url({ protocol: /^https?$/ }),
  /**
   * serve (default): the device activates it and it answers requests. shadow: the device runs it
   * beside the serving version of the same model, records its outputs, and never answers with it.
   */
  role: z.enum(['serve', 'shadow']).optional(),
  /** How the device should fetch the artifact; absent = its own `updates.transport` setting (see chunk-transfer.ts). */
  transfer: z.enum(['http', 'mqtt']).optional(),
});
export type DesiredModel = z.infer<typeof desiredModelSchema>;

export const sampleCaptureSchema = z.object({
  until: epochMs,
  /** Only these models; all when left out. */
  models: z.array(id).max(16).optional(),
  /** Keep every Nth input of the window (1 = all), so a busy device does not spend its budget at once. */
  everyN: z.number().int().min(1).max(100_000),
});
export type SampleCapture = z.infer<typeof sampleCaptureSchema>;

/**
 * What the fleet wants a device to run. It never travels bare: the `desired` topic carries it
 * signed (desired-state.ts), and a device applies it only when the signature verifies under the
 * keyset it carries and `counter` is above the last one the device accepted.
 */
export const desiredStateSchema = z.object({
  /** 2: signed, with a counter (1 was the unsigned form, which devices now refuse). */
  v: z.literal(2),
  /** The device this state is for: a state signed for one device is refused by every other. */
  deviceId: id,
  /**
   * Anti-replay: strictly increasing per device across server restarts and database restores
   * (the server issues max(last + 1, its clock in ms)); the device persists the last one it
   * accepted and refuses anything not above it, except the very same state delivered again.
   */
  counter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  issuedAt: epochMs,
  models: z.array(desiredModelSchema).max(16),
  /**
   * The root-signed key set: which online keys may sign manifests and desired states (see
   * keyset.ts). Devices trust only their root keys out of the box and learn the signing keys
   * from this; the desired state itself is signed by a key of this keyset.
   */
  keys: signedEnvelopeSchema,
  /** Operator asked for the device's retraining samples: upload them until this time (epoch ms). */
  sampleUploadUntil: epochMs.optional(),
  /**
   * Keep inputs until this time even if no local policy would (reason "capture"): the fleet saw
   * something worth retraining on (drift, an operator's hunch). Devices honour it only when their
   * owner allowed it (agent config sampling.captureOnRequest), since raw inputs may be sensitive.
   */
  sampleCapture: sampleCaptureSchema.optional(),
  /** Device rules, bandwidth mode, detector and fallback settings; absent = the agent's own config. */
  monitoring: deviceMonitoringSchema.optional(),
});
export type DesiredState = z.infer<typeof desiredStateSchema>;

/** rejected = refused before loading (signature, version, hash…); failed = verified but would not load/run. */
export const UPDATE_STATES = ['downloading', 'verified', 'active', 'rejected', 'failed', 'removed'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

export const updateReportSchema = z.object({
  v: z.literal(1),
  model: id,
  version: z.number().int().min(1),
  state: z.enum(UPDATE_STATES),
  /** Machine-readable rejection code (e.g. "rollback", "hash-mismatch") and a human reason. */
  code: z.string().max(64).optional(),
  reason: z.string().max(2048).optional(),
  /** While downloading: verified bytes so far and the signed artifact size (older agents omit them). */
  bytesReceived: z.number().int().min(0).optional(),
  bytesTotal: z.number().int().min(0).optional(),
  /** shadow: the report is about the shadow slot (the serving model is untouched); absent = serve. */
  role: z.enum(['serve', 'shadow']).optional(),
  ts: epochMs,
  /**
   * The session number of the birth of the connection the report is sent on (presence). The
   * server takes a report only for the device's current session, so whatever a report claims
   * cannot outlive the connection it came on.
   */
  session: z.number().int().min(0),
  /**
   * Starts at 1 in every session and grows by one per report, so replays are recognised; the
   * server refuses a jump of more than MAX_REPORT_SEQ_STEP over the last one of the session.
   */
  reportSeq: z.number().int().min(1),
  /**
   * The device's outbox stream and the report's position in it, echoed in the server's ack
   * (kind "update") so the device can forget the report. Agents that keep no outbox of reports
   * omit both, and get no ack.
   */
  stream: id.optional(),
  id: seq.optional(),
});
export type UpdateReport = z.infer<typeof updateReportSchema>;

/** How far a report's reportSeq may run ahead of the last one the server took in the session. */
export const MAX_REPORT_SEQ_STEP = 1000;
