/**
 * @module load/worker
 * A device worker process: thousands of LoadDevices on one event loop, driven by one scheduler
 * timer (not one timer per device), reporting counters and histogram deltas to the orchestrator
 * every second. Started with child_process.fork; talks only over IPC (load/ipc.ts).
 */
import { Histogram } from './histogram.js';
import type { FromWorker, ToWorker, WorkerCounters } from './ipc.js';
import { LoadDevice, type DeviceContext } from './load-device.js';
import { generatorNamed } from './record-generator.js';

const TICK_MS = 25;
const send = (m: FromWorker) => process.send!(m);

function semaphore(limit: number): () => Promise<() => void> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return async () => {
    while (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    return release;
  };
}

let devices: LoadDevice[] = [];
let ctx: DeviceContext | undefined;
let timers: NodeJS.Timeout[] = [];

function counters(): WorkerCounters {
  let online = 0;
  let pending = 0;
  let oldest: number | null = null;
  for (const d of devices) {
    if (d.online) online++;
    pending += d.pendingCount;
    const o = d.oldestPendingTs;
    if (o !== null && (oldest === null || o < oldest)) oldest = o;
  }
  return { ...ctx!.counters, online, pending, oldestPendingTs: oldest };
}

function report(): void {
  if (!ctx) return;
  send({
    type: 'stats',
    ...counters(),
    ackMs: ctx.ackMs.drain(),
    lagMs: ctx.lagMs.drain(),
    connectMs: ctx.connectMs.drain(),
  });
}

function start(m: Extract<ToWorker, { type: 'start' }>): void {
  const url = new URL(m.mqttUrl);
  const context: DeviceContext = {
    behaviour: m.behaviour,
    mqtt: { host: url.hostname, port: Number(url.port || 1883) },
    counters: {
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
    },
    ackMs: new Histogram(),
    lagMs: new Histogram(),
    connectMs: new Histogram(),
    acquireConnectSlot: semaphore(m.connectConcurrency),
  };
  ctx = context;
  const factory = generatorNamed(m.behaviour.generator);
  devices = m.devices.map((d) => new LoadDevice(d.id, d.password, d.index, factory(d.id, d.index), context));
  for (const d of devices) void d.connect();
  // Devices are spread over the ticks of one flush interval, so batches leave evenly, not in bursts.
  const slots = Math.max(1, Math.round(m.behaviour.flushMs / TICK_MS));
  let slot = 0;
  timers.push(
    setInterval(() => {
      const now = Date.now();
      for (let i = slot; i < devices.length; i += slots) devices[i]!.tick(now);
      slot = (slot + 1) % slots;
    }, TICK_MS),
    setInterval(report, 1000),
  );
}

process.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'start') start(m);
    else if (m.type === 'stop-making') {
      const now = Date.now();
      for (const d of devices) d.stopMaking(now);
    } else if (m.type === 'shutdown') {
      for (const t of timers) clearInterval(t);
      timers = [];
      report();
      void Promise.all(devices.map((d) => d.stop())).then(() => {
        process.send!({ type: 'final', made: devices.map((d) => [d.id, d.made]) } satisfies FromWorker, () =>
          process.disconnect(),
        );
      });
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
