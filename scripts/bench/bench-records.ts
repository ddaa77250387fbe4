/**
 * @module bench/bench-records
 * The telemetry the sync and ingest benches send: a distance model's scalar output, a reference
 * value, and slowly drifting image statistics with per-frame noise, like a camera watching a wall.
 */
import type { TelemetryRecord } from '@edgeloop/protocol';

export function featuresAt(i: number): Record<string, number> {
  const noise = (k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.01;
  const b = 0.4 + 0.1 * Math.sin(i / 200);
  return {
    mean_r: b * 1.03 + noise(1),
    mean_g: b + noise(2),
    mean_b: b * 0.9 + noise(3),
    brightness: b,
    saturation: 0.12 + noise(4),
    contrast: 0.2 + noise(5),
  };
}

/** Record number `i` (its seq is i + 1). */
export function benchRecord(i: number): TelemetryRecord {
  return {
    seq: i + 1,
    ts: 1_795_000_000_000 + i,
    model: 'distance',
    version: 1,
    output: [150 + (i % 100)],
    prediction: 150 + (i % 100),
    latencyMs: 2.5,
    reference: 148 + (i % 97),
    features: featuresAt(i),
  };
}
