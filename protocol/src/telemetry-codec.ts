/**
 * @module telemetry-codec
 * The compact wire format for telemetry batches: columnar, byte-shuffled float32 columns,
 * MessagePack framing, raw deflate. A batch of scalar-output records with a reference value
 * and six features costs a few tens of bytes per record instead of ~230 as JSON.
 *
 * Payload = 0xE1 (marker, never the first byte of JSON) · 0x02 (format) · deflateRaw(msgpack(columns)).
 * `decodeTelemetryPayload` also accepts the JSON form (`{…}`), so agents of either kind can share
 * a fleet, and validates the result with the same schema either way.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import { z } from 'zod';
import { decodeMessage, MAX_PAYLOAD_BYTES } from './codec.js';
import { isValidId } from './topics.js';
import { describeZodError, fail, type Result } from './errors.js';
import { MAX_BATCH_RECORDS, telemetryBatchSchema, type TelemetryBatch, type TelemetryRecord } from './messages.js';
import { packColumn, unpackColumn } from './columns.js';

const MARKER = 0xe1;
const FORMAT = 2;
/** Inflated size cap: a small payload must not expand into gigabytes (zip bomb). */
const MAX_INFLATED_BYTES = 4 * MAX_PAYLOAD_BYTES;

interface Columns {
  stream: string;
  backlog: number;
  historical?: boolean;
  dropped?: number;
  n: number;
  seq0: number;
  /** Absent when seqs are contiguous (the usual case). */
  seqStep?: Uint8Array;
  ts0: number;
  tsStep: Uint8Array;
  models: Array<[string, number]>;
  modelIdx?: Uint8Array;
  prediction: Uint8Array;
  reference?: Uint8Array;
  latency: Uint8Array;
  /** Absent when every output is exactly [prediction]. */
  outputLen?: Uint8Array;
  output?: Uint8Array;
  requestIds?: Array<string | null>;
  /** 1 = made by the shadow model. Absent when no record is (so non-shadow batches are byte-identical to before). */
  shadow?: Uint8Array;
  featureNames: string[];
  features: Uint8Array[];
}

const nanIfNull = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
const nullIfNan = (v: number) => (Number.isNaN(v) ? null : v);

export function encodeTelemetryBatch(batch: TelemetryBatch): Buffer {
  const r = batch.records;
  const n = r.length;
  const contiguous = r.every((x, i) => i === 0 || x.seq === r[i - 1]!.seq + 1);
  const modelKeys = [...new Set(r.map((x) => `${x.model}\u0000${x.version}`))];
  const outputIsPrediction = r.every((x) => x.output.length === 1 && x.prediction === x.output[0]);
  const featureNames = [...new Set(r.flatMap((x) => Object.keys(x.features)))].sort();
  const cols: Columns = {
    stream: batch.stream,
    backlog: batch.backlog,
    ...(batch.historical ? { historical: true } : {}),
    ...(batch.dropped ? { dropped: batch.dropped } : {}),
    n,
    seq0: r[0]!.seq,
    ...(contiguous ? {} : { seqStep: packColumn(r.map((x, i) => (i === 0 ? 0 : x.seq - r[i - 1]!.seq)), 'u32') }),
    ts0: r[0]!.ts,
    tsStep: packColumn(r.map((x, i) => (i === 0 ? 0 : x.ts - r[i - 1]!.ts)), 'i32'),
    models: modelKeys.map((k) => { const [m, v] = k.split('\u0000'); return [m!, Number(v)]; }),
    ...(modelKeys.length > 1 ? { modelIdx: Uint8Array.from(r.map((x) => modelKeys.indexOf(`${x.model}\u0000${x.version}`))) } : {}),
    prediction: packColumn(r.map((x) => nanIfNull(x.prediction)), 'f32'),
    ...(r.some((x) => x.reference !== null && x.reference !== undefined) ? { reference: packColumn(r.map((x) => nanIfNull(x.reference)), 'f32') } : {}),
    latency: packColumn(r.map((x) => x.latencyMs), 'f32'),
    ...(outputIsPrediction ? {} : { outputLen: packColumn(r.map((x) => x.output.length), 'u32'), output: packColumn(r.flatMap((x) => x.output), 'f32') }),
    ...(r.some((x) => x.requestId !== undefined) ? { requestIds: r.map((x) => x.requestId ?? null) } : {}),
    ...(r.some((x) => x.shadow) ? { shadow: Uint8Array.from(r.map((x) => (x.shadow ? 1 : 0))) } : {}),
    featureNames,
    features: featureNames.map((f) => packColumn(r.map((x) => nanIfNull(x.features[f])), 'f32')),
  };
  if (modelKeys.length > 255) throw new Error('a telemetry batch may mix at most 255 model versions');
  return Buffer.concat([Buffer.from([MARKER, FORMAT]), deflateRawSync(pack(cols))]);
}

export function decodeTelemetryPayload(payload: Uint8Array): Result<TelemetryBatch, 'too-large' | 'not-json' | 'invalid' | 'bad-encoding'> {
  if (payload.length > MAX_PAYLOAD_BYTES) return fail('too-large', `payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  if (payload[0] !== MARKER) return decodeMessage(telemetryBatchSchema, payload);
  if (payload[1] !== FORMAT) return fail('bad-encoding', `unknown telemetry format ${payload[1]}; upgrade the fleet server`);
  let raw: unknown;
  try {
    raw = unpack(inflateRawSync(payload.subarray(2), { maxOutputLength: MAX_INFLATED_BYTES }));
  } catch (err) {
    return fail('bad-encoding', `compact telemetry payload is corrupt: ${(err as Error).message}`);
  }
  // Validation happens on the columns, not per record: values built from typed columns are
  // numbers by construction, so checking the header and the few per-record invariants is as
  // strict as the JSON schema and several times cheaper (this is the fleet's hottest path).
  const header = columnsSchema.safeParse(raw);
  if (!header.success) return fail('invalid', describeZodError(header.error));
  try {
    return { ok: true, value: columnsToBatch(header.data as Columns) };
  } catch (err) {
    return fail('bad-encoding', `compact telemetry payload is corrupt: ${(err as Error).message}`);
  }
}

const bytes = z.instanceof(Uint8Array);
const columnsSchema = z.object({
  stream: z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -'),
  backlog: z.number().int().min(0),
  historical: z.boolean().optional(),
  dropped: z.number().int().min(0).optional(),
  n: z.number().int().min(1).max(MAX_BATCH_RECORDS),
  seq0: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  seqStep: bytes.optional(),
  ts0: z.number().int().min(0),
  tsStep: bytes,
  models: z.array(z.tuple([z.string().refine(isValidId, 'invalid model name'), z.number().int().min(1)])).min(1).max(255),
  modelIdx: bytes.optional(),
  prediction: bytes,
  reference: bytes.optional(),
  latency: bytes,
  outputLen: bytes.optional(),
  output: bytes.optional(),
  requestIds: z.array(z.string().min(1).max(128).nullable()).optional(),
  shadow: bytes.optional(),
  featureNames: z.array(z.string().min(1).max(64)).max(256),
  features: z.array(bytes),
});

function columnsToBatch(c: Columns): TelemetryBatch {
  const n = c.n;
  if (c.features.length !== c.featureNames.length) throw new Error('feature names and columns differ in number');
  if (c.requestIds && c.requestIds.length !== n) throw new Error(`${c.requestIds.length} request ids for ${n} records`);
  if (c.shadow && (c.shadow.length !== n || c.shadow.some((x) => x > 1))) throw new Error('shadow column is inconsistent');
  if (c.modelIdx && (c.modelIdx.length !== n || c.modelIdx.some((m) => m >= c.models.length))) throw new Error('model index column is inconsistent');
  const seqStep = c.seqStep ? unpackColumn(c.seqStep, 'u32', n) : undefined;
  const tsStep = unpackColumn(c.tsStep, 'i32', n);
  const prediction = unpackColumn(c.prediction, 'f32', n);
  const reference = c.reference ? unpackColumn(c.reference, 'f32', n) : undefined;
  const latency = unpackColumn(c.latency, 'f32', n);
  const outputLen = c.outputLen ? unpackColumn(c.outputLen, 'u32', n) : undefined;
  const output = c.output && outputLen ? unpackColumn(c.output, 'f32', outputLen.reduce((a, b) => a + b, 0)) : undefined;
  const features = c.featureNames.map((_, j) => unpackColumn(c.features[j]!, 'f32', n));
  const records: TelemetryRecord[] = [];
  let seq = c.seq0;
  let ts = c.ts0;
  let outAt = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const step = seqStep ? seqStep[i]! : 1;
      if (step < 1) throw new Error(`record ${i}: seqs must strictly increase`);
      seq += step;
      ts += tsStep[i]!;
    }
    if (ts < 0) throw new Error(`record ${i}: negative timestamp`);
    if (!(latency[i]! >= 0)) throw new Error(`record ${i}: latency must be a non-negative number`);
    if (outputLen && outputLen[i]! > 1024) throw new Error(`record ${i}: more than 1024 output values`);
    const [model, version] = c.models[c.modelIdx ? c.modelIdx[i]! : 0] ?? ['', 0];
    const pred = nullIfNan(prediction[i]!);
    let out: number[];
    if (output && outputLen) { out = output.slice(outAt, outAt + outputLen[i]!); outAt += outputLen[i]!; } else out = pred === null ? [] : [pred];
    const feats: Record<string, number> = {};
    c.featureNames.forEach((f, j) => { const v = features[j]![i]!; if (!Number.isNaN(v)) feats[f] = v; });
    const requestId = c.requestIds?.[i];
    records.push({
      seq, ts, model, version, output: out, prediction: pred, latencyMs: latency[i]!, features: feats,
      reference: reference ? nullIfNan(reference[i]!) : null,
      ...(requestId !== null && requestId !== undefined ? { requestId } : {}),
      ...(c.shadow?.[i] === 1 ? { shadow: true } : {}),
    });
  }
  return { v: 1, stream: c.stream, records, backlog: c.backlog, ...(c.historical ? { historical: true } : {}), ...(c.dropped ? { dropped: c.dropped } : {}) };
}
