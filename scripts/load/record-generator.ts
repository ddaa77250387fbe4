/**
 * @module load/record-generator
 * What a simulated device puts in its records. The harness only needs seq and ts (the creation
 * time ingest lag is measured from); everything else is the generator's. A fleet simulator with
 * realistic data registers its own generator here and selects it with `--generator NAME`.
 */
import type { TelemetryRecord } from '@edgeloop/protocol';
import { benchRecord } from '../bench/bench-records.js';

export interface RecordGenerator {
  /** The record with this seq, made at `ts` (ms since epoch). */
  next(seq: number, ts: number): TelemetryRecord;
}

/** One generator per device, so a generator may keep per-device state (drift, faults, ...). */
export type GeneratorFactory = (deviceId: string, deviceIndex: number) => RecordGenerator;

export const GENERATORS: Readonly<Record<string, GeneratorFactory>> = {
  /** The distance model of the ingest benches: scalar output, reference value, six image features. */
  distance: (_id, index) => ({
    next: (seq, ts) => ({ ...benchRecord(index * 7919 + seq), seq, ts }),
  }),
};

export function generatorNamed(name: string): GeneratorFactory {
  const g = GENERATORS[name];
  if (!g) throw new Error(`no record generator "${name}"; known: ${Object.keys(GENERATORS).join(', ')}`);
  return g;
}
