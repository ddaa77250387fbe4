/**
 * @module load/orchestrator
 * One load run: start the fleet (load/infra.ts), enroll the devices, fork the device workers,
 * sample every second (worker counters, server /proc), restart the server when asked, stop
 * making records after the duration, wait until everything made is acknowledged, stop the
 * servers and check the store against what every device made.
 */
import { fork, type ChildProcess, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.js';
import { enrollFleet } from './enroll.js';
import { startLoadFleet, type LoadFleet } from './infra.js';
import type { DeviceCredentials, FromWorker, ToWorker, WorkerCounters } from './ipc.js';
import type { LoadOptions } from './options.js';
import { cpuPercent, sampleProc, type ProcSample } from './proc-stats.js';
import type { LoadReport, TimelinePoint } from './report.js';
import { checkStore } from './verify-store.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

interface Worker {
  child: ChildProcess;
  counters: WorkerCounters | null;
  final: Promise<Array<[string, number]>>;
  ready: Promise<void>;
  start: ToWorker;
}

const pct = (h: Histogram) => ({ p50: h.percentile(50), p99: h.percentile(99) });
const mean = (xs: Array<number | null>) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function startWorkers(o: LoadOptions, fleet: LoadFleet, devices: DeviceCredentials[], h: RunHistograms): Worker[] {
  const n = Math.max(1, Math.min(o.workers, devices.length));
  return Array.from({ length: n }, (_, w) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let ready!: () => void;
    const worker: Worker = {
      child,
      counters: null,
      final: Promise.resolve([]),
      ready: new Promise<void>((r) => (ready = r)),
      start: { type: 'shutdown' },
    };
    worker.final = new Promise((resolve, reject) => {
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') ready();
        else if (m.type === 'stats') {
          const { ackMs, lagMs, connectMs, type: _type, ...counters } = m;
          worker.counters = counters;
          h.interval.ack.merge(ackMs);
          h.interval.lag.merge(lagMs);
          h.connect.merge(connectMs);
        } else if (m.type === 'final') resolve(m.made);
        else reject(new Error(`device worker ${w}: ${m.message}`));
      });
      child.once('exit', (code) => reject(new Error(`device worker ${w} exited (${code}) before its final report`)));
    });
    worker.final.catch(() => undefined);
    const mine = devices.filter((_d, i) => i % n === w);
    worker.start = {
      type: 'start',
      mqttUrl: fleet.mqttUrl,
      devices: mine,
      behaviour: o,
      connectConcurrency: Math.max(1, Math.floor(o.connectConcurrency / n)),
    };
    return worker;
  });
}

interface RestartTrack {
  killedAt: number;
  readyAt: number | null;
  allBackAt: number | null;
  drainedAt: number | null;
}

interface RunHistograms {
  interval: { ack: Histogram; lag: Histogram };
  connect: Histogram;
  all: { ack: Histogram; lag: Histogram };
  steady: { ack: Histogram; lag: Histogram };
}

function sum(workers: Worker[]): WorkerCounters {
  const t: WorkerCounters = {
    online: 0,
    made: 0,
    acked: 0,
    rejected: 0,
    sent: 0,
    resent: 0,
    batches: 0,
    ackTimeouts: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    pending: 0,
    oldestPendingTs: null,
  };
  for (const w of workers) {
    const c = w.counters;
    if (!c) continue;
    for (const k of Object.keys(t) as Array<keyof WorkerCounters>)
      if (k !== 'oldestPendingTs') (t[k] as number) += c[k] as number;
    if (c.oldestPendingTs !== null && (t.oldestPendingTs === null || c.oldestPendingTs < t.oldestPendingTs))
      t.oldestPendingTs = c.oldestPendingTs;
  }
  return t;
}

/** Enrolls `o.devices` into `o.fleetCache` (see load/fleet-cache.ts) without running them; nothing when it already holds enough. */
export async function enrollIntoCache(o: LoadOptions, log: (msg: string) => void): Promise<void> {
  const fleet = await startLoadFleet(o, log);
  try {
    if (fleet.cached) return;
    const t0 = performance.now();
    const creds = await enrollFleet(fleet.api, o.devices, (done) => log(`enrolled ${done}/${o.devices}`));
    log(`enrolled ${o.devices} devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await fleet.saveToCache(creds);
  } finally {
    await fleet.close();
  }
}

export async function runLoad(
  o: LoadOptions,
  out: { log(msg: string): void; progress(p: TimelinePoint): void },
): Promise<LoadReport> {
  const fleet = await startLoadFleet(o, out.log);
  const workers: Worker[] = [];
  // Ctrl-C must not leave servers, brokers and thousands of connections behind.
  const interrupted = (signal: NodeJS.Signals) => {
    out.log(`${signal}: stopping devices and servers`);
    for (const w of workers) w.child.kill('SIGKILL');
    void fleet.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    let creds = fleet.cached;
    let enrollS: number | null = null;
    if (!creds) {
      out.log(`enrolling ${o.devices} devices through the REST API`);
      const t0 = performance.now();
      creds = await enrollFleet(fleet.api, o.devices, (done) => out.log(`enrolled ${done}/${o.devices}`));
      enrollS = (performance.now() - t0) / 1000;
      out.log(`enrolled ${o.devices} devices in ${enrollS.toFixed(1)} s`);
      await fleet.saveToCache(creds);
    }
    const rssAtStartMb = sampleProc(fleet.servers[0]!.child.pid!)?.rssMb ?? null;
    out.log(`starting ${o.workers} device workers`);

    const h: RunHistograms = {
      interval: { ack: new Histogram(), lag: new Histogram() },
      connect: new Histogram(),
      all: { ack: new Histogram(), lag: new Histogram() },
      steady: { ack: new Histogram(), lag: new Histogram() },
    };
    workers.push(...startWorkers(o, fleet, creds, h));
    await Promise.race([
      Promise.all(workers.map((w) => w.ready)),
      Promise.all(workers.map((w) => w.final)), // rejects when a worker dies while loading
    ]);
    const startedAt = Date.now();
    for (const w of workers) w.child.send(w.start);

    const timeline: TimelinePoint[] = [];
    let prevProc: Array<ProcSample | null> = fleet.servers.map((s) => sampleProc(s.child.pid!));
    const workerProc = () => workers.map((w) => sampleProc(w.child.pid!));
    let prevWorkerProc = workerProc();
    let prevAcked = 0;
    let prevBatches = 0;
    let prevAt = Date.now();
    let allOnlineAt: number | null = null;
    let stopMakingAt: number | null = null;
    let drainDeadline = Infinity;
    let steadyAcked = 0;
    let steadyBatches = 0;
    let steadyS = 0;
    let lastProgress = 0;
    let restart: RestartTrack | null = null;
    let restartError: Error | undefined;
    const connectDeadline = startedAt + o.connectTimeoutS * 1000;

    for (;;) {
      await sleep(1000);
      const now = Date.now();
      const c = sum(workers);
      const dt = (now - prevAt) / 1000;
      const proc = fleet.servers.map((s) => sampleProc(s.child.pid!));
      const wproc = workerProc();
      const wcpu = wproc.map((p, i) => cpuPercent(prevWorkerProc[i] ?? null, p, dt));
      const point: TimelinePoint = {
        t: (now - startedAt) / 1000,
        online: c.online,
        ackedPerS: (c.acked - prevAcked) / dt,
        batchesPerS: (c.batches - prevBatches) / dt,
        ackMs: pct(h.interval.ack),
        pending: c.pending,
        rssMb: proc.map((p) => (p ? Math.round(p.rssMb * 10) / 10 : null)),
        cpuPct: proc.map((p, i) => {
          const v = cpuPercent(prevProc[i] ?? null, p, dt);
          return v === null ? null : Math.round(v);
        }),
        workersCpuPct: null,
      };
      point.workersCpuPct = wcpu.includes(null) ? null : Math.round(wcpu.reduce((a, b) => a! + b!, 0)!);
      timeline.push(point);
      prevWorkerProc = wproc;
      const inRestart = restart !== null && restart.drainedAt === null;
      const steady = allOnlineAt !== null && stopMakingAt === null && !inRestart && c.online === o.devices;
      for (const [all, interval, st] of [
        [h.all.ack, h.interval.ack, h.steady.ack],
        [h.all.lag, h.interval.lag, h.steady.lag],
      ] as const) {
        all.mergeHistogram(interval);
        if (steady) st.mergeHistogram(interval);
        interval.drain();
      }
      if (steady) {
        steadyAcked += c.acked - prevAcked;
        steadyBatches += c.batches - prevBatches;
        steadyS += dt;
      }
      prevProc = proc;
      prevAcked = c.acked;
      prevBatches = c.batches;
      prevAt = now;
      if (o.progressEvery > 0 && now - lastProgress >= o.progressEvery * 1000 - 500) {
        out.progress(point);
        lastProgress = now;
      }

      if (allOnlineAt === null) {
        if (c.online === o.devices) {
          allOnlineAt = now;
          out.log(`all ${o.devices} devices online after ${((now - startedAt) / 1000).toFixed(1)} s`);
        } else if (now > connectDeadline) {
          out.log(`only ${c.online}/${o.devices} devices online after ${o.connectTimeoutS} s; sending anyway`);
          allOnlineAt = now;
        }
        continue;
      }
      if (o.restartAt !== null && restart === null && now >= allOnlineAt + o.restartAt * 1000) {
        const r: RestartTrack = { killedAt: now, readyAt: null, allBackAt: null, drainedAt: null };
        restart = r;
        out.log(`restart: ${o.restartSignal} to server 0`);
        fleet.restart(0, o.restartSignal).then(
          (t) => {
            r.killedAt = t.killedAt;
            r.readyAt = t.readyAt;
            prevProc = fleet.servers.map((s) => sampleProc(s.child.pid!));
            out.log(`restart: server 0 ready again after ${((t.readyAt - t.killedAt) / 1000).toFixed(1)} s`);
          },
          (err: Error) => (restartError = err),
        );
      }
      if (restartError) throw restartError;
      if (restart?.readyAt) {
        if (restart.allBackAt === null && c.online === o.devices && now > restart.readyAt + 1000)
          restart.allBackAt = now;
        if (restart.drainedAt === null && (c.oldestPendingTs === null || c.oldestPendingTs > restart.readyAt))
          restart.drainedAt = now;
      }
      const restartPending = restart !== null && (restart.readyAt === null || restart.drainedAt === null);
      if (stopMakingAt === null && now >= allOnlineAt + o.duration * 1000 && !restartPending) {
        stopMakingAt = now;
        drainDeadline = now + o.drainTimeoutS * 1000;
        for (const w of workers) w.child.send({ type: 'stop-making' } satisfies ToWorker);
        out.log('duration over: devices stop making records; waiting for every record to be acknowledged');
        continue;
      }
      if (stopMakingAt !== null && now > stopMakingAt + 1500 && (c.pending === 0 || now > drainDeadline)) break;
      if (restartPending && now > allOnlineAt + (o.restartAt! + o.duration + o.drainTimeoutS) * 1000)
        throw new Error('the restarted server did not get every device back and drained within the time allowed');
    }

    for (const w of workers) w.child.send({ type: 'shutdown' } satisfies ToWorker);
    const made = new Map((await Promise.all(workers.map((w) => w.final))).flat());
    const c = sum(workers);
    await fleet.stopServers();
    const store = await checkStore(fleet.store, made);
    const rss = timeline.flatMap((p) => p.rssMb.filter((v): v is number => v !== null));
    const cpu = timeline.flatMap((p) => p.cpuPct.filter((v): v is number => v !== null));
    const since = (t: number | null, from: number) => (t === null ? null : (t - from) / 1000);
    return {
      options: { ...o },
      commit: commitOf(),
      enroll: {
        devices: o.devices,
        seconds: enrollS,
        perSecond: enrollS === null ? null : o.devices / enrollS,
        fromCache: enrollS === null,
      },
      connect: { allOnlineS: since(allOnlineAt, startedAt), ms: pct(h.connect), failures: c.connectFailures },
      ackMs: { ...pct(h.all.ack), steady: pct(h.steady.ack) },
      ingestLagMs: { ...pct(h.all.lag), steady: pct(h.steady.lag) },
      records: {
        made: c.made,
        acked: c.acked,
        rejected: c.rejected,
        resent: c.resent,
        steadyPerS: steadyS > 0 ? steadyAcked / steadyS : 0,
      },
      batches: c.batches,
      steadyBatchesPerS: steadyS > 0 ? steadyBatches / steadyS : 0,
      ackTimeouts: c.ackTimeouts,
      disconnects: c.disconnects,
      undrained: c.pending,
      server: {
        rssMbAtStart: rssAtStartMb,
        rssMbMax: rss.length ? Math.max(...rss) : null,
        rssMbLast: timeline.at(-1)?.rssMb[0] ?? null,
        cpuPctMean: cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : null,
        cpuPctMax: cpu.length ? Math.max(...cpu) : null,
      },
      workers: { count: workers.length, cpuPctMean: mean(timeline.map((p) => p.workersCpuPct)) },
      restart: restart && {
        signal: o.restartSignal,
        atS: (restart.killedAt - startedAt) / 1000,
        downS: restart.readyAt === null ? -1 : (restart.readyAt - restart.killedAt) / 1000,
        allBackS: since(restart.allBackAt, restart.killedAt),
        drainedS: since(restart.drainedAt, restart.killedAt),
      },
      store,
      ok:
        store.missing === 0 &&
        store.duplicates === 0 &&
        store.unexpected === 0 &&
        c.pending === 0 &&
        c.rejected === 0 &&
        store.stored === c.made,
      timeline,
    };
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await fleet.close();
  }
}
