/**
 * @module bench/scale-connect
 * The embedded broker with a fleet's worth of devices (SQLite store), devices in a child process
 * (bench/scale-devices.ts) on raw MQTT sockets with enrolled credentials:
 * - scale.connect_10k_s: 10,000 devices connect at once, as after a server restart (will,
 *   subscriptions, birth); seconds until every one is logged in and its birth recorded. Target
 *   ≤ 30 s (the issue measured 105 s).
 * - scale.ack_batch_p50_ms / scale.ack_batch_p99_ms: 1,000 devices each send a 10-record batch once a
 *   second for 20 s; time from publish to the batch's ack, on raw sockets (no agent window or
 *   flush interval, unlike scale.ack_p50_ms from the load harness). The acceptance bound is p99 < 100 ms.
 * No baseline: the targets are absolute, from the issue.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestFleet } from '@edgeloop/test/support/in-process-fleet';
import { percentile, type Bench, type Figure } from './figure.js';

const CONNECT_DEVICES = Number(process.env.EDGELOOP_BENCH_SCALE_DEVICES ?? 10_000);
const ACK_DEVICES = 1000;
const ACK_SECONDS = 20;

async function fleetOf(n: number) {
  const h = await startTestFleet();
  const devices: Array<{ id: string; password: string }> = [];
  for (let i = 0; i < n; i += 200) {
    const ids = Array.from({ length: Math.min(200, n - i) }, (_, k) => `scale-${i + k}`);
    const passwords = await Promise.all(ids.map((id) => h.server.identity.issueCredential(id)));
    ids.forEach((id, k) => devices.push({ id, password: passwords[k]! }));
  }
  return { h, devices };
}

/** Starts the device process; `exited` resolves when it is done (or killed). */
function runDevices(plan: object, onLine: (line: Record<string, unknown>) => void) {
  const script = fileURLToPath(new URL('./scale-devices.ts', import.meta.url));
  // 10,000 passwords are more than one argument may hold.
  const planFile = join(mkdtempSync(join(tmpdir(), 'edgeloop-scale-')), 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const child = spawn(process.execPath, ['--import', 'tsx', script, planFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let rest = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line) onLine(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<void>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      rmSync(dirname(planFile), { recursive: true, force: true });
      if (code === 0 || signal) resolve();
      else reject(new Error(`scale devices exited with ${code}`));
    }),
  );
  return { exited, kill: () => child.kill('SIGKILL') };
}

export const scaleConnectBench: Bench = {
  name: 'scale.connect',
  async run(progress) {
    const figures: Figure[] = [];
    {
      progress(`issuing credentials for ${CONNECT_DEVICES} devices`);
      const { h, devices } = await fleetOf(CONNECT_DEVICES);
      try {
        progress(`${CONNECT_DEVICES} devices connect at once`);
        const t0 = performance.now();
        let loggedIn = 0;
        const child = runDevices({ mqttUrl: h.server.mqttUrl, devices, mode: 'connect' }, (l) => {
          if (typeof l.connected === 'number') loggedIn = l.connected / 1000;
        });
        // Gives up after 300 s and says how many made it.
        let online = 0;
        while (online < CONNECT_DEVICES && performance.now() - t0 < 300_000) {
          await new Promise((r) => setTimeout(r, 500));
          online = (await h.server.devices.list()).filter((d) => d.online).length;
        }
        const seconds = (performance.now() - t0) / 1000;
        child.kill();
        await child.exited;
        figures.push({
          name: 'scale.connect_10k_s',
          value: seconds,
          unit: 's',
          baseline: null,
          note:
            online < CONNECT_DEVICES
              ? `only ${online} of ${CONNECT_DEVICES} devices online after 300 s; target ≤ 30 s`
              : `${CONNECT_DEVICES} devices at once until every birth is recorded (all logged in after ${loggedIn.toFixed(1)} s); target ≤ 30 s`,
        });
      } finally {
        await h.close();
      }
    }
    {
      progress(`${ACK_DEVICES} devices each send a batch a second for ${ACK_SECONDS} s`);
      const { h, devices } = await fleetOf(ACK_DEVICES);
      try {
        let acks: number[] = [];
        await runDevices({ mqttUrl: h.server.mqttUrl, devices, mode: 'ack', seconds: ACK_SECONDS }, (l) => {
          if (Array.isArray(l.acks)) acks = l.acks as number[];
        }).exited;
        const note = `${ACK_DEVICES} devices, one 10-record batch per device per second, ${acks.length} acks; publish to ack`;
        figures.push(
          {
            name: 'scale.ack_batch_p50_ms',
            value: percentile(acks, 50),
            unit: 'ms',
            baseline: null,
            note,
          },
          {
            name: 'scale.ack_batch_p99_ms',
            value: percentile(acks, 99),
            unit: 'ms',
            baseline: null,
            note: `${note}; acceptance p99 < 100 ms`,
          },
        );
      } finally {
        await h.close();
      }
    }
    return figures;
  },
};
