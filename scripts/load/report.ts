/**
 * @module load/report
 * The harness's output: the final report (one JSON object with --json), the summary table and
 * the progress line printed while running.
 */
import type { StoreCheck } from './verify-store.js';

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface TimelinePoint {
  /** Seconds since the devices were started. */
  t: number;
  online: number;
  ackedPerS: number;
  /** Batches published per second, all devices (re-sends included). */
  batchesPerS: number;
  ackMs: Percentiles;
  pending: number;
  /** Per server instance. */
  rssMb: Array<number | null>;
  cpuPct: Array<number | null>;
  /** All device workers together, percent of one core: near 100 × cores, the harness is the bottleneck. */
  workersCpuPct: number | null;
}

export interface LoadReport {
  options: Record<string, unknown>;
  /** The commit the harness ran from, so figures can be tied to code. */
  commit: string;
  /** seconds and perSecond are null when the devices came from the fleet cache. */
  enroll: { devices: number; seconds: number | null; perSecond: number | null; fromCache: boolean };
  connect: { allOnlineS: number | null; ms: Percentiles; failures: number };
  /** Batch first sent → an ack covering it, over the whole run and over steady sending only. */
  ackMs: Percentiles & { steady: Percentiles };
  /** Record made → its ack received (the ack follows the commit, so it bounds stored − made). */
  ingestLagMs: Percentiles & { steady: Percentiles };
  records: {
    made: number;
    acked: number;
    rejected: number;
    /** Records sent more than once (after an ack timeout or a reconnect). */
    resent: number;
    /** Stored records per second while every device was online and sending. */
    steadyPerS: number;
  };
  batches: number;
  /** Batches published per second while every device was online and sending. */
  steadyBatchesPerS: number;
  ackTimeouts: number;
  disconnects: number;
  /** Records still unacknowledged when the drain timed out (0 after a clean drain). */
  undrained: number;
  /** rssMbAtStart: server 0 with every device enrolled and none connected. */
  server: {
    rssMbAtStart: number | null;
    rssMbMax: number | null;
    rssMbLast: number | null;
    cpuPctMean: number | null;
    cpuPctMax: number | null;
  };
  workers: { count: number; cpuPctMean: number | null };
  restart: null | { signal: string; atS: number; downS: number; allBackS: number | null; drainedS: number | null };
  store: StoreCheck;
  /** stored = made for every device, no duplicates, nothing unexpected, nothing rejected. */
  ok: boolean;
  timeline: TimelinePoint[];
}

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '—' : v.toFixed(digits));

export function progressLine(p: TimelinePoint, devices: number): string {
  const rss = p.rssMb.map((r) => fmt(r)).join('/');
  const cpu = p.cpuPct.map((c) => fmt(c)).join('/');
  return (
    `[load ${String(Math.round(p.t)).padStart(4)}s] online ${p.online}/${devices}  acks ${fmt(p.ackedPerS)} rec/s  ` +
    `batches ${fmt(p.batchesPerS)}/s  ` +
    `ack p50 ${fmt(p.ackMs.p50)} ms p99 ${fmt(p.ackMs.p99)} ms  pending ${p.pending}  server RSS ${rss} MB CPU ${cpu} %  workers CPU ${fmt(p.workersCpuPct)} %`
  );
}

export function summaryTable(r: LoadReport): string {
  const rows: Array<[string, string]> = [
    [
      'devices enrolled',
      r.enroll.fromCache
        ? `${r.enroll.devices} (from the fleet cache)`
        : `${r.enroll.devices} in ${fmt(r.enroll.seconds, 1)} s (${fmt(r.enroll.perSecond)}/s)`,
    ],
    [
      'connect',
      `all online after ${fmt(r.connect.allOnlineS, 1)} s; p50 ${fmt(r.connect.ms.p50)} ms p99 ${fmt(r.connect.ms.p99)} ms; ${r.connect.failures} failed attempts`,
    ],
    [
      'ack latency',
      `p50 ${fmt(r.ackMs.p50)} ms p99 ${fmt(r.ackMs.p99)} ms (steady: p50 ${fmt(r.ackMs.steady.p50)} p99 ${fmt(r.ackMs.steady.p99)})`,
    ],
    [
      'ingest lag',
      `p50 ${fmt(r.ingestLagMs.p50)} ms p99 ${fmt(r.ingestLagMs.p99)} ms (steady: p50 ${fmt(r.ingestLagMs.steady.p50)} p99 ${fmt(r.ingestLagMs.steady.p99)})`,
    ],
    [
      'records',
      `made ${r.records.made}, acked ${r.records.acked}, rejected ${r.records.rejected}, stored ${r.store.stored}; steady ${fmt(r.records.steadyPerS)} rec/s`,
    ],
    ['re-sends', `${r.records.resent} records sent again; ${r.ackTimeouts} ack timeouts; ${r.disconnects} disconnects`],
    [
      'batches',
      `${r.batches} (steady ${fmt(r.steadyBatchesPerS)}/s, ${fmt(r.records.steadyPerS / r.steadyBatchesPerS || null, 1)} records per batch)`,
    ],
    [
      'store check',
      `${r.ok ? 'OK' : 'FAILED'}: missing ${r.store.missing}, duplicates ${r.store.duplicates}, unexpected ${r.store.unexpected}, undrained ${r.undrained}`,
    ],
    [
      'server',
      `RSS ${fmt(r.server.rssMbAtStart)} MB before devices connect, max ${fmt(r.server.rssMbMax)} MB (last ${fmt(r.server.rssMbLast)}); CPU mean ${fmt(r.server.cpuPctMean)} % max ${fmt(r.server.cpuPctMax)} % of one core`,
    ],
    [
      'device workers',
      `${r.workers.count} processes, CPU mean ${fmt(r.workers.cpuPctMean)} % of one core (all together)`,
    ],
  ];
  if (r.restart)
    rows.push([
      'restart',
      `${r.restart.signal} at ${fmt(r.restart.atS, 1)} s; down ${fmt(r.restart.downS, 1)} s; all back ${fmt(r.restart.allBackS, 1)} s and backlog drained ${fmt(r.restart.drainedS, 1)} s after the kill`,
    ]);
  for (const m of r.store.mismatches)
    rows.push(['mismatch', `${m.deviceId}: made ${m.made}, stored ${m.stored} (${m.distinct} distinct)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
