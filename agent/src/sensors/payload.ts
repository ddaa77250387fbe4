/**
 * @module sensors/payload
 * Reads a numeric value (and optionally a timestamp and a correlation id) out of a sensor's
 * MQTT payload as its binding declares. Every failure is a reason, never an exception.
 */
import { fail, ok, type Result } from '@edgeloop/protocol';
import type { PayloadSpec } from './sensor-config.js';

export interface SensorReading {
  value: number;
  /** Measurement time, epoch ms. */
  ts: number;
  correlationId?: string;
}

const MAX_PAYLOAD = 64 * 1024;
/** Sensor clocks drift; beyond this a timestamp is wrong, not early. */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

function atPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Decimal only: Number() would also read "0x10" as 16, "0b11" as 3 and "" as 0. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Epoch ms, epoch seconds (values below 1e11) or an ISO 8601 string. */
function toTimestamp(v: unknown): number | undefined {
  if (typeof v === 'string' && Number.isNaN(Number(v))) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  const n = toNumber(v);
  if (n === undefined || n < 0) return undefined;
  return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
}

export function readSensorPayload(
  payload: Uint8Array,
  spec: PayloadSpec,
  transform: { scale: number; offset: number },
  arrivedAt: number,
): Result<SensorReading, 'too-large' | 'not-json' | 'no-value' | 'bad-timestamp'> {
  if (payload.length > MAX_PAYLOAD)
    return fail('too-large', `sensor payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const text = Buffer.from(payload).toString('utf8');
  const scaled = (v: number) => v * transform.scale + transform.offset;
  if (spec.format === 'number') {
    const v = toNumber(text);
    return v === undefined
      ? fail('no-value', `payload "${text.slice(0, 40)}" is not a decimal number`)
      : ok({ value: scaled(v), ts: arrivedAt });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('not-json', `payload is not JSON: "${text.slice(0, 40)}"`);
  }
  const v = toNumber(atPath(json, spec.valuePath));
  if (v === undefined) return fail('no-value', `no decimal number at "${spec.valuePath}"`);
  let ts = arrivedAt;
  if (spec.timestampPath) {
    const t = toTimestamp(atPath(json, spec.timestampPath));
    if (t === undefined)
      return fail('bad-timestamp', `no usable timestamp at "${spec.timestampPath}" (epoch ms, epoch s or ISO 8601)`);
    // A reading from the future would outrank every real one after it (and never go stale).
    if (t > arrivedAt + MAX_CLOCK_AHEAD_MS) {
      return fail(
        'bad-timestamp',
        `timestamp at "${spec.timestampPath}" is ${Math.round((t - arrivedAt) / 1000)} s ahead of this device's clock: check the sensor's clock, and that it sends epoch ms, epoch s or ISO 8601 (not µs)`,
      );
    }
    ts = t;
  }
  const corr = spec.correlationPath ? atPath(json, spec.correlationPath) : undefined;
  const correlationId =
    typeof corr === 'string' && corr.length > 0 && corr.length <= 128
      ? corr
      : typeof corr === 'number'
        ? String(corr)
        : undefined;
  return ok({ value: scaled(v), ts, ...(correlationId ? { correlationId } : {}) });
}
