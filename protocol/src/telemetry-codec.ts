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
import { decodeMessage, MAX_PAYLOAD_BYTES } from './codec.js';
import { describeZodError, fail, type Result } from './errors.js';
import { telemetryBatchSchema, type TelemetryBatch, type TelemetryRecord } from './messages.js';
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
  let batch: unknown;
  try {
    const cols = unpack(inflateRawSync(payload.subarray(2), { maxOutputLength: MAX_INFLATED_BYTES })) as Columns;
    batch = columnsToBatch(cols);
  } catch (err) {
    return fail('bad-encoding', `compact telemetry payload is corrupt: ${(err as Error).message}`);
  }
  const parsed = telemetryBatchSchema.safeParse(batch);
  return parsed.success ? { ok: true, value: parsed.data } : fail('invalid', describeZodError(parsed.error));
}

function columnsToBatch(c: Columns): TelemetryBatch {
  const n = c.n;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`bad record count ${n}`);
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
    if (i > 0) { seq += seqStep ? seqStep[i]! : 1; ts += tsStep[i]!; }
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
    });
  }
  return { v: 1, stream: c.stream, records, backlog: c.backlog, ...(c.historical ? { historical: true } : {}), ...(c.dropped ? { dropped: c.dropped } : {}) };
}
