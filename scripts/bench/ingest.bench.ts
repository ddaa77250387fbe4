/**
 * @module bench/ingest
 * fleet.ingest_rate: records/s the fleet server decodes, validates, stores (SQLite) and
 * acknowledges when many devices send telemetry at once over loopback MQTT through the embedded
 * broker. The devices run in a child process (bench/ingest-devices.ts). Baseline: multi-row
 * inserts of the same records straight into the same kind of store, in the same run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFleetStore } from '@edgeloop/fleet-server/testing';
import { startTestFleet, until } from '@edgeloop/test/support/in-process-fleet';
import type { Bench } from './figure.js';
import { benchRecord } from './bench-records.js';

const DEVICES = 50;
const RECORDS_PER_BATCH = 500;
const BATCHES = Number(process.env.EDGELOOP_BENCH_INGEST_BATCHES ?? 10);
const WINDOW = 8;

export const ingestBench: Bench = {
  name: 'fleet.ingest_rate',
  async run(progress) {
    const total = DEVICES * BATCHES * RECORDS_PER_BATCH;
    const h = await startTestFleet();
    try {
      progress(`baseline: multi-row inserts of ${total} records straight into a fleet store`);
      const store = await openFleetStore({ sqlitePath: join(h.dir, 'baseline.db') });
      const batches = Array.from({ length: BATCHES }, (_, b) =>
        Array.from({ length: RECORDS_PER_BATCH }, (_, i) => benchRecord(b * RECORDS_PER_BATCH + i)),
      );
      let t0 = performance.now();
      for (let d = 0; d < DEVICES; d++)
        for (const batch of batches) await store.telemetry.insertBatch(`dev-${d}`, 's', batch);
      const baseRate = total / ((performance.now() - t0) / 1000);
      await store.close();

      progress(
        `enrolling ${DEVICES} devices; each sends ${BATCHES} batches of ${RECORDS_PER_BATCH} (window ${WINDOW}) from a child process`,
      );
      const devices: Array<{ id: string; password: string }> = [];
      for (let d = 0; d < DEVICES; d++)
        devices.push({ id: `ingest-${d}`, password: (await h.enroll(`ingest-${d}`)).password });
      const plan = {
        mqttUrl: h.server.mqttUrl,
        devices,
        batches: BATCHES,
        recordsPerBatch: RECORDS_PER_BATCH,
        window: WINDOW,
      };
      const script = fileURLToPath(new URL('./ingest-devices.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(plan)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let seconds: number;
      try {
        // Steady state: from the first tenth stored (connections up, JIT warm) to the last record.
        await until('first tenth stored', () => h.server.stats.stored >= total / 10, 120_000);
        t0 = performance.now();
        await until('all records stored', () => h.server.stats.stored >= total, 300_000);
        seconds = (performance.now() - t0) / 1000;
      } finally {
        if ((await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000, 'timeout'))])) === 'timeout')
          child.kill('SIGKILL');
      }
      const rate = (0.9 * total) / seconds;
      return [
        {
          name: 'fleet.ingest_rate',
          value: rate,
          unit: 'records/s',
          baseline: baseRate,
          note: `${DEVICES} devices over loopback MQTT (embedded broker), compact batches of ${RECORDS_PER_BATCH}, SQLite store, steady state; baseline = multi-row inserts straight into the store`,
        },
      ];
    } finally {
      await h.close();
    }
  },
};
