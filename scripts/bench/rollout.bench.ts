/**
 * @module bench/rollout
 * fleet.rollout_1000: a 1 MB model rolled out to 1,000 simulated devices on loopback — seconds
 * from the assignment until the fleet server has all 1,000 reported active (target ≤ 60 s).
 * fleet.rollout_1000_bytes_per_device: artifact bytes the server sent per device (its own
 * accounting, the device view's bytesSent) as a ratio to the model size (target ≤ 1.1).
 *
 * The server runs in this process with its embedded broker; the devices (simulated-device.ts:
 * real MQTT clients with enrolled credentials that verify the root-signed keyset and the signed
 * manifest, download, check sha256 and report like an agent) run in one child process. The
 * assignment is a rollout (engine rollouts/, strategy direct: one wave of all devices); the
 * server's download cap (transfer.maxConcurrentDownloads) queues the devices beyond it.
 *
 * Env: EDGELOOP_BENCH_DEVICES (default 1000), EDGELOOP_BENCH_TRANSPORT http|mqtt (default http,
 * the normal transport when the artifact URL is reachable), EDGELOOP_BENCH_VERIFY shared|each
 * (default shared: devices of the process share the verdict on byte-identical envelopes, since
 * tweetnacl's ~30 ms per signature is CPU a real fleet spends on 1,000 devices — see
 * simulated-device.ts VerifyCache), EDGELOOP_BENCH_CHILD_FLAGS (node flags for the device process).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildReferenceModel } from '@edgeloop/models';
import type { Bench } from './figure.js';
import { startTestFleet, until } from '@edgeloop/test/support/in-process-fleet';
import { REPO } from '@edgeloop/test/support/processes';
import { sample } from '@edgeloop/test/support/fixtures';
import { parseCreateRollout } from '@edgeloop/fleet-server';

const DEVICES = Number(process.env.EDGELOOP_BENCH_DEVICES ?? 1000);
const TRANSPORT = process.env.EDGELOOP_BENCH_TRANSPORT === 'mqtt' ? 'mqtt' : 'http';

export const rolloutBench: Bench = {
  name: 'fleet.rollout_1000',
  async run(progress) {
    const h = await startTestFleet();
    let child: ReturnType<typeof spawn> | undefined;
    try {
      // ~1 MiB: the reference model with a wider hidden layer (same input, same preprocessing).
      const bytes = buildReferenceModel({ seed: 1000, hidden: 453 });
      const model = await h.server.registry.register({ name: 'bench', bytes, metadata: sample.metadata });
      progress(`enrolling ${DEVICES} devices`);
      const devices: Array<{ deviceId: string; username: string; password: string }> = [];
      for (let i = 0; i < DEVICES; i++) {
        const deviceId = `sim-${String(i).padStart(4, '0')}`;
        devices.push({ deviceId, ...(await h.enroll(deviceId)) });
      }
      const configPath = join(h.dir, 'simulated-fleet.json');
      writeFileSync(
        configPath,
        JSON.stringify({ mqttUrl: h.server.mqttUrl, trustedKeys: [h.server.publicKey], transport: TRANSPORT, devices }),
      );

      progress(`starting ${DEVICES} simulated devices in a child process (${TRANSPORT})`);
      child = spawn(
        process.execPath,
        [
          ...(process.env.EDGELOOP_BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? []),
          '--import',
          'tsx',
          join(REPO, 'scripts/bench/simulated-fleet.ts'),
          configPath,
        ],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const errors: string[] = [];
      let ready = false;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { event?: string; deviceId?: string; reason?: string };
          if (msg.event === 'ready') ready = true;
          if (msg.event === 'error') errors.push(`${msg.deviceId}: ${msg.reason}`);
        } catch {
          // not ours
        }
      });
      await until('simulated devices connected', () => ready || child!.exitCode !== null, 120_000);
      if (!ready) throw new Error('the simulated fleet exited before it was ready');
      const ids = devices.map((d) => d.deviceId);
      await until(
        'every device announced',
        async () => (await h.server.devices.list()).filter((d) => d.online).length >= DEVICES,
        60_000,
      );

      progress(`assigning ${model.name} v${model.version} (${bytes.length} bytes) to ${DEVICES} devices`);
      const t0 = Date.now();
      // The rollout engine's direct strategy: one wave, every device assigned at once.
      const request = parseCreateRollout({
        model: model.name,
        version: model.version,
        strategy: 'direct',
        target: { devices: ids },
        reason: 'fleet.rollout_1000 benchmark',
      });
      if (!request.ok) throw new Error(request.reason);
      const rollout = await h.server.rollouts.create(request.value, 'bench');
      const activeAt = async () => {
        let last = 0;
        let n = 0;
        for (const d of await h.server.devices.list()) {
          const a = d.assignments.find(
            (x) => x.model === model.name && x.version === model.version && x.state === 'active',
          );
          if (a) {
            n++;
            last = Math.max(last, a.updatedAt);
          }
        }
        return { n, last };
      };
      await until(
        `all ${DEVICES} devices active`,
        async () => {
          if (errors.length) throw new Error(`simulated devices failed: ${errors.slice(0, 3).join('; ')}`);
          await new Promise((r) => setTimeout(r, 250));
          return (await activeAt()).n >= DEVICES;
        },
        300_000,
      );
      const seconds = ((await activeAt()).last - t0) / 1000;
      await h.server.transfer.counters.flush();
      const perDevice = (await h.server.devices.list())
        .filter((d) => ids.includes(d.id))
        .map((d) => d.bytesSent / bytes.length);
      const mean = perDevice.reduce((a, b) => a + b, 0) / perDevice.length;
      const max = Math.max(...perDevice);
      const slots = h.server.transfer.slots.stats();
      progress(
        `rollout ${rollout.id}: all active after ${seconds.toFixed(1)} s; bytes/device ${mean.toFixed(3)}× the model (max ${max.toFixed(3)}×)`,
      );
      return [
        {
          name: 'fleet.rollout_1000',
          value: seconds,
          unit: 's',
          baseline: null,
          note: `${DEVICES} simulated devices (real MQTT clients, verified manifests${process.env.EDGELOOP_BENCH_VERIFY === 'each' ? ' each' : ' shared per process'}, ${TRANSPORT} download, ${slots.maxConcurrent} concurrent), assignment → all reported active; target ≤ 60 s`,
        },
        {
          name: 'fleet.rollout_1000_bytes_per_device',
          value: mean,
          unit: 'ratio',
          baseline: null,
          note: `server-side bytesSent per device / model size (${bytes.length} B), mean over ${perDevice.length} devices, max ${max.toFixed(3)}; target ≤ 1.1`,
        },
      ];
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      await h.close();
    }
  },
};
