/**
 * @module bench/sync
 * agent.sync_rate: records/s from a full agent buffer into the fleet server's store over MQTT on
 * loopback, against inserting the same records straight into the server store. The agent is the
 * bundle in its own process, with the systemd unit's node flags.
 * agent.wire_bytes_per_record: MQTT payload bytes per record for a typical batch.
 */
import { join } from 'node:path';
import { encodeMessage, encodeTelemetryBatch, type TelemetryRecord } from '@edgeloop/protocol';
import { openAgentDb, RecordBuffer, type NewRecord } from '@edgeloop/agent/testing';
import { openFleetStore } from '@edgeloop/fleet-server/testing';
import type { Bench } from './figure.js';
import { benchRecord } from './bench-records.js';
import { buildAgentBundle } from './agent-bundle.js';
import { startTestFleet, until } from '@edgeloop/test/support/in-process-fleet';
import { startAgentProcess, writeAgentConfig } from '@edgeloop/test/support/processes';

const N = 100_000;
/** A buffer record: the bench record without the seq the buffer gives it. */
const newRecord = (i: number): NewRecord => {
  const { seq: _seq, ...record } = benchRecord(i);
  return record;
};

export const syncBench: Bench = {
  name: 'agent.sync_rate',
  async run(progress) {
    buildAgentBundle(progress);
    const h = await startTestFleet();
    try {
      progress(`filling an agent buffer with ${N} records`);
      const deviceId = 'bench-sync';
      const db = openAgentDb(join(h.dir, deviceId, 'agent.db'));
      const buffer = new RecordBuffer(db);
      for (let i = 0; i < N; i += 1000)
        await Promise.all(Array.from({ length: 1000 }, (_, j) => buffer.append(newRecord(i + j))));
      const sample = buffer.readAfter(0, 500);
      db.close();

      progress('baseline: direct inserts into the server store');
      const store = await openFleetStore({ sqlitePath: join(h.dir, 'baseline.db') });
      const all: TelemetryRecord[] = Array.from({ length: N }, (_, i) => benchRecord(i));
      let t0 = performance.now();
      for (let i = 0; i < N; i += 500) await store.telemetry.insertBatch('base', 's', all.slice(i, i + 500));
      const baseRate = N / ((performance.now() - t0) / 1000);
      await store.close();

      progress('agent process → MQTT → fleet store (this process)');
      // The agent runs in its own process as on a device (the bundle, with the unit's node flags):
      // agent and server each get a core.
      const agent = await startAgentProcess(
        await writeAgentConfig(
          {
            httpUrl: h.server.httpUrl,
            mqttUrl: h.server.mqttUrl,
            publicKey: h.server.publicKey,
            adminToken: h.adminToken,
          },
          h.dir,
          deviceId,
          { log: { level: 'warn' } },
        ),
        { bundle: true },
      );
      let seconds: number;
      try {
        // Steady state: the clock starts once the first tenth is stored, so agent start-up and a
        // cold JIT are not counted as sync time; it stops at the last record stored (the agent's
        // shutdown is not sync time either).
        await until('first tenth stored', () => h.server.stats.stored >= N / 10, 120_000);
        t0 = performance.now();
        await until('all records stored', () => h.server.stats.stored >= N, 300_000);
        seconds = (performance.now() - t0) / 1000;
      } finally {
        await agent.kill('SIGTERM');
      }
      const rate = (0.9 * N) / seconds;

      const wire =
        encodeTelemetryBatch({ v: 1, stream: 's0123456789abcdef', records: sample, backlog: 0 }).length / sample.length;
      const wireJson =
        encodeMessage({ v: 1, stream: 's0123456789abcdef', records: sample, backlog: 0 }).length / sample.length;
      return [
        {
          name: 'agent.sync_rate',
          value: rate,
          unit: 'records/s',
          baseline: baseRate,
          note: 'steady state (after the first 10 %), agent in its own process; baseline = direct batched inserts into the server store',
        },
        {
          name: 'agent.wire_bytes_per_record',
          value: wire,
          unit: 'bytes',
          baseline: wireJson,
          note: 'compact batches of 500 (scalar output, reference, 6 varying features); baseline = the same as JSON',
        },
      ];
    } finally {
      await h.close();
    }
  },
};
