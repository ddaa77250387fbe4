/**
 * @module bench/buffer
 * agent.buffer_rate: records/s made durable by the agent's buffer under concurrent appends
 * (group commit), against one-commit-per-record on the same database settings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentDb, RecordBuffer, type NewRecord } from '@edgeloop/agent/testing';
import type { Bench } from './figure.js';

const record = (i: number): NewRecord => ({
  ts: Date.now(),
  model: 'distance',
  version: 1,
  requestId: `r${i}`,
  output: [123.4],
  prediction: 123.4,
  latencyMs: 2.1,
  features: { mean_r: 0.4, mean_g: 0.41, mean_b: 0.38, brightness: 0.4, saturation: 0.1, contrast: 0.2 },
});

export const bufferBench: Bench = {
  name: 'agent.buffer_rate',
  async run(progress) {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-buffer-'));
    try {
      progress('baseline: one transaction per record');
      const baseDb = openAgentDb(join(dir, 'base.db'));
      const baseBuffer = new RecordBuffer(baseDb);
      const nBase = 2000;
      let t0 = performance.now();
      for (let i = 0; i < nBase; i++) await baseBuffer.append(record(i)); // sequential: each append is its own group
      const baseRate = nBase / ((performance.now() - t0) / 1000);
      baseDb.close();

      progress('agent buffer: 64 concurrent writers');
      const db = openAgentDb(join(dir, 'agent.db'));
      const buffer = new RecordBuffer(db);
      const total = 100_000;
      const writers = 64;
      let next = 0;
      t0 = performance.now();
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (next < total) await buffer.append(record(next++));
        }),
      );
      const rate = total / ((performance.now() - t0) / 1000);
      db.close();
      return [
        {
          name: 'agent.buffer_rate',
          value: rate,
          unit: 'records/s',
          baseline: baseRate,
          note: 'fsynced (WAL, synchronous=FULL); baseline = one commit per record',
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
