/**
 * @module probe/connect-phases
 * Diagnostic: one fleet server process on a copy of the load harness's fleet cache; N devices
 * connect with `inFlight` at once on raw sockets, each waiting for CONNACK, then SUBACK, then the
 * birth's PUBACK, then the desired state, as the load harness does. Prints per-phase percentiles
 * and the server's CPU seconds per connect. A phase that waits while the server's CPU is idle
 * points at something blocking its event loop (it found the per-birth fsync).
 * usage: tsx scripts/probe/connect-phases.ts CACHE_DIR N IN_FLIGHT
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { birthPacket, connectPacket, packet, packets, subscribePacket } from '../bench/raw-mqtt.js';
import { portOf, startServerProcess } from '@edgeloop/test/support/processes';
import { cachedDevices, restoreCache } from '../load/fleet-cache.js';

const [cacheDir = '/tmp/fleet-10k', nArg = '1000', inFlightArg = '64'] = process.argv.slice(2);
const N = Number(nArg);
const IN_FLIGHT = Number(inFlightArg);

const devices = cachedDevices(cacheDir, N)!;
const dir = mkdtempSync(join(tmpdir(), 'edgeloop-probe-'));
restoreCache(cacheDir, dir, 'fleet-0');
const server = await startServerProcess(join(dir, 'fleet-0'), ['--db', join(dir, 'fleet.db'), '--log-level', 'warn']);
const port = portOf(server.ready.mqttUrl);

type Phase = 'tcp' | 'connack' | 'suback' | 'puback' | 'desired';
const phases: Record<Phase, number[]> = { tcp: [], connack: [], suback: [], puback: [], desired: [] };

function one(d: { id: string; password: string; index: number }): Promise<void> {
  return new Promise((resolve) => {
    const i = d.index + 1;
    const localAddress = `127.${1 + ((i >> 16) & 0x7f)}.${(i >> 8) & 255}.${i & 255}`;
    let t = performance.now();
    const mark = (p: Phase) => {
      const now = performance.now();
      phases[p].push(now - t);
      t = now;
    };
    const s = connect({ port, host: '127.0.0.1', localAddress, noDelay: true });
    s.on('error', () => resolve());
    let pubacked = false;
    s.on('connect', () => {
      mark('tcp');
      s.write(connectPacket(d.id, d.password, 60));
    });
    s.on(
      'data',
      packets((first, body) => {
        const type = first >> 4;
        if (type === 2) {
          mark('connack');
          s.write(subscribePacket(d.id));
        } else if (type === 9) {
          mark('suback');
          s.write(birthPacket(d.id, 'probe'));
        } else if (type === 4) {
          mark('puback');
          pubacked = true;
        } else if (type === 3) {
          const topicLength = body.readUInt16BE(0);
          const topic = body.subarray(2, 2 + topicLength).toString();
          if (topic.endsWith('/desired') && pubacked) {
            mark('desired');
            s.write(packet(0x40, body.subarray(2 + topicLength, 4 + topicLength)));
            resolve();
          }
        }
      }),
    );
  });
}

const cpuSeconds = () => {
  const f = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpu0 = cpuSeconds();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next < devices.length) await one(devices[next++]!);
  }),
);
const total = (performance.now() - t0) / 1000;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1) : '-';
};
const cpu = cpuSeconds() - cpu0;
console.log(
  `${N} devices, ${IN_FLIGHT} in flight: ${total.toFixed(1)} s, ${(N / total).toFixed(0)} connects/s; server CPU ${cpu.toFixed(1)} s (${((cpu / N) * 1000).toFixed(2)} ms per connect, ${((100 * cpu) / total).toFixed(0)} % of a core)`,
);
for (const [p, xs] of Object.entries(phases))
  console.log(`${p.padEnd(8)} n=${xs.length} p50 ${pct(xs, 50)} ms p90 ${pct(xs, 90)} ms p99 ${pct(xs, 99)} ms`);
await server.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
process.exit(0);
