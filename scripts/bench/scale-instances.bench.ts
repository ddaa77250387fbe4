/**
 * @module bench/scale-instances
 * scale.ingest_rate_2x: stored records/s of two fleet server instances behind one Mosquitto on
 * one PostgreSQL database, divided by one instance's on the same setup, both measured here with
 * the load harness (200 devices at 100 records/s each, well above what one instance stores, so
 * each run measures the servers' ceiling). Target ≥ 1.6. No baseline: the value is already the
 * ratio of two same-run measurements (both rates are in the note).
 */
import { testPostgresSkip } from '@edgeloop/fleet-server/testing';
import type { Bench } from './figure.js';
import { benchRun, scaleOptions } from './scale.bench.js';

const OFFERED = { devices: 200, rate: 100 };

export const scaleInstancesBench: Bench = {
  name: 'scale.ingest_rate_2x',
  async run(progress) {
    const skip = await testPostgresSkip();
    if (skip) throw new Error(`scale.ingest_rate_2x needs PostgreSQL: ${skip}`);
    const rates: number[] = [];
    for (const instances of [1, 2]) {
      progress(
        `${instances} instance(s) on Mosquitto + PostgreSQL, ${OFFERED.devices} devices × ${OFFERED.rate} records/s`,
      );
      const r = await benchRun(
        scaleOptions(OFFERED.devices, 20, {
          rate: OFFERED.rate,
          instances,
          broker: 'mosquitto',
          db: 'postgres',
          fleetCache: null,
        }),
        progress,
      );
      if (!r.ok) progress(`warning: the ${instances}-instance run's store check failed (missing ${r.store.missing})`);
      rates.push(r.records.steadyPerS);
    }
    return [
      {
        name: 'scale.ingest_rate_2x',
        value: rates[1]! / rates[0]!,
        unit: '×',
        baseline: null,
        note: `stored records/s, two instances ${Math.round(rates[1]!)} ÷ one ${Math.round(rates[0]!)}, Mosquitto + PostgreSQL, ${OFFERED.devices} devices offering ${OFFERED.devices * OFFERED.rate} records/s; target ≥ 1.6`,
      },
    ];
  },
};
