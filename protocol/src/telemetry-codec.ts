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
import { shuffle, unpackColumn } from './columns.js';

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

const nullIfNan = (v: number) => (Number.isNaN(v) ? null : v);

/**
 * One pass over the records fills typed columns; the Columns object is built with the same keys
 * in the same order as always, so the payload is byte-for-byte what format 2 has always been.
 */
export function encodeTelemetryBatch(batch: TelemetryBatch): Buffer {
  const r = batch.records;
  const n = r.length;
  if (n === 0) throw new Error('a telemetry batch needs at least one record');
  const seqStep = new Uint32Array(n);
  const tsStep = new Int32Array(n);
  const prediction = new Float32Array(n);
  const reference = new Float32Array(n);
  const latency = new Float32Array(n);
  const modelIdx = new Uint8Array(n);
  const models: Array<[string, number]> = [];
  const modelIndex = new Map<string, number>();
  const names = new Set<string>();
  let contiguous = true;
  let outputIsPrediction = true;
  let hasReference = false;
  let hasRequestId = false;
  let hasShadow = false;
  let prevModel = '';
  let prevVersion = -1;
  let idx = 0;
  for (let i = 0; i < n; i++) {
    const x = r[i]!;
    if (i > 0) {
      const prev = r[i - 1]!;
      seqStep[i] = x.seq - prev.seq;
      if (x.seq !== prev.seq + 1) contiguous = false;
      tsStep[i] = x.ts - prev.ts;
    }
    if (x.model !== prevModel || x.version !== prevVersion) {
      const key = `${x.model}\u0000${x.version}`;
      let found = modelIndex.get(key);
      if (found === undefined) {
        found = models.length;
        if (found === 255) throw new Error('a telemetry batch may mix at most 255 model versions');
        modelIndex.set(key, found);
        models.push([x.model, x.version]);
      }
      idx = found;
      prevModel = x.model;
      prevVersion = x.version;
    }
    modelIdx[i] = idx;
    const p = x.prediction;
    prediction[i] = p === null || p === undefined ? NaN : p;
    if (outputIsPrediction && (x.output.length !== 1 || p !== x.output[0])) outputIsPrediction = false;
    const ref = x.reference;
    if (ref === null || ref === undefined) reference[i] = NaN;
    else {
      reference[i] = ref;
      hasReference = true;
    }
    latency[i] = x.latencyMs;
    if (x.requestId !== undefined) hasRequestId = true;
    if (x.shadow) hasShadow = true;
    for (const f in x.features) names.add(f);
  }
  const featureNames = [...names].sort();
  const features = featureNames.map((f) => {
    const column = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = r[i]!.features[f];
      column[i] = v === null || v === undefined ? NaN : v;
    }
    return shuffle(column);
  });
  let outputs: Pick<Columns, 'outputLen' | 'output'> = {};
  if (!outputIsPrediction) {
    const outputLen = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += outputLen[i] = r[i]!.output.length;
    const output = new Float32Array(total);
    let at = 0;
    for (const x of r) for (const v of x.output) output[at++] = v;
    outputs = { outputLen: shuffle(outputLen), output: shuffle(output) };
  }
  const cols: Columns = {
    stream: batch.stream,
    backlog: batch.backlog,
    ...(batch.historical ? { historical: true } : {}),
    ...(batch.dropped ? { dropped: batch.dropped } : {}),
    n,
    seq0: r[0]!.seq,
    ...(contiguous ? {} : { seqStep: shuffle(seqStep) }),
    ts0: r[0]!.ts,
    tsStep: shuffle(tsStep),
    models,
    ...(models.length > 1 ? { modelIdx } : {}),
    prediction: shuffle(prediction),
    ...(hasReference ? { reference: shuffle(reference) } : {}),
    latency: shuffle(latency),
    ...outputs,
    ...(hasRequestId ? { requestIds: r.map((x) => x.requestId ?? null) } : {}),
    ...(hasShadow ? { shadow: Uint8Array.from(r, (x) => (x.shadow ? 1 : 0)) } : {}),
    featureNames,
    features,
  };
  return Buffer.concat([Buffer.from([MARKER, FORMAT]), deflateRawSync(pack(cols))]);
}

export function decodeTelemetryPayload(
  payload: Uint8Array,
): Result<TelemetryBatch, 'too-large' | 'not-json' | 'invalid' | 'bad-encoding'> {
  if (payload.length > MAX_PAYLOAD_BYTES)
    return fail('too-large', `payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  if (payload[0] !== MARKER) return decodeMessage(telemetryBatchSchema, payload);
  if (payload[1] !== FORMAT)
    return fail('bad-encoding', `unknown telemetry format ${payload[1]}; upgrade the fleet server`);
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
  models: z
    .array(z.tuple([z.string().refine(isValidId, 'invalid model name'), z.number().int().min(1)]))
    .min(1)
    .max(255),
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
  if (c.shadow && (c.shadow.length !== n || c.shadow.some((x) => x > 1)))
    throw new Error('shadow column is inconsistent');
  if (c.modelIdx && (c.modelIdx.length !== n || c.modelIdx.some((m) => m >= c.models.length)))
    throw new Error('model index column is inconsistent');
  const seqStep = c.seqStep ? unpackColumn(c.seqStep, 'u32', n) : undefined;
  const tsStep = unpackColumn(c.tsStep, 'i32', n);
  const prediction = unpackColumn(c.prediction, 'f32', n);
  const reference = c.reference ? unpackColumn(c.reference, 'f32', n) : undefined;
  const latency = unpackColumn(c.latency, 'f32', n);
  const outputLen = c.outputLen ? unpackColumn(c.outputLen, 'u32', n) : undefined;
  const output =
    c.output && outputLen
      ? unpackColumn(
          c.output,
          'f32',
          outputLen.reduce((a, b) => a + b, 0),
        )
      : undefined;
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
    if (output && outputLen) {
      out = Array.from(output.subarray(outAt, outAt + outputLen[i]!));
      outAt += outputLen[i]!;
    } else out = pred === null ? [] : [pred];
    const feats: Record<string, number> = {};
    for (let j = 0; j < features.length; j++) {
      const v = features[j]![i]!;
      if (!Number.isNaN(v)) feats[c.featureNames[j]!] = v;
    }
    const record: TelemetryRecord = {
      seq,
      ts,
      model,
      version,
      output: out,
      prediction: pred,
      latencyMs: latency[i]!,
      features: feats,
      reference: reference ? nullIfNan(reference[i]!) : null,
    };
    const requestId = c.requestIds?.[i];
    if (requestId !== null && requestId !== undefined) record.requestId = requestId;
    if (c.shadow?.[i] === 1) record.shadow = true;
    records.push(record);
  }
  return {
    v: 1,
    stream: c.stream,
    records,
    backlog: c.backlog,
    ...(c.historical ? { historical: true } : {}),
    ...(c.dropped ? { dropped: c.dropped } : {}),
  };
}
