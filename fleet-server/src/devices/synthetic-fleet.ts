/**
 * @module devices/synthetic-fleet
 * A large fleet written straight into a store, for tests and benchmarks of the device list: no
 * broker, no agents, one unit of work. Every property is a function of the device's index, so a
 * test can compute what a filter or sort must return without reading the store back.
 */
import type { FleetStore } from '../store/fleet-store.js';

export const SYNTHETIC_HARDWARE = ['pi4', 'pi5', 'jetson-orin', 'pi4-8g'] as const;
export const SYNTHETIC_AGENT_VERSIONS = ['0.1.0', '0.2.0'] as const;

/** What device number `i` is given. */
export function syntheticDevice(i: number, now: number) {
  return {
    id: `dev-${String(i).padStart(5, '0')}`,
    hardware: SYNTHETIC_HARDWARE[i % SYNTHETIC_HARDWARE.length]!,
    agentVersion: SYNTHETIC_AGENT_VERSIONS[i % SYNTHETIC_AGENT_VERSIONS.length]!,
    group: `site-${i % 20}`,
    /** The version of model "distance" it runs: 1, 2 or 3. */
    running: 1 + (i % 3),
    /** Every fifth device was assigned version 3. */
    assigned: i % 5 === 0 ? 3 : null,
    online: i % 7 !== 0,
    backlog: i % 50,
    dropped: i % 13 === 0 ? i % 100 : 0,
    lastSeen: now - i * 1_000,
  };
}

/** Registers devices 0 … count-1 as syntheticDevice describes them. */
export async function registerSyntheticFleet(store: FleetStore, count: number, now = Date.now()): Promise<void> {
  await store.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const d = syntheticDevice(i, now);
      await tx.devices.recordBirth(
        {
          ...{ v: 1, type: 'birth', deviceId: d.id, session: 1, ts: d.lastSeen },
          ...{ agentVersion: d.agentVersion, arch: 'arm64', platform: 'linux', hardware: d.hardware },
          ...{ cpus: 4, memTotalMb: 4096, runtime: { name: 'onnxruntime-node', version: '1.22.0' } },
          ...{ models: [{ name: 'distance', version: d.running, sha256: 'f'.repeat(64) }], stream: 's1' },
          ...{ backlog: d.backlog, dropped: d.dropped },
        },
        d.lastSeen,
      );
      await tx.devices.setLabels(d.id, { group: d.group, tags: { hw: d.hardware } });
      if (d.assigned !== null) await tx.assignments.set(d.id, 'distance', d.assigned, now);
      if (!d.online) await tx.devices.recordDeath(d.id, 1);
    }
  });
}
