import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Birth } from '@edgeloop/protocol';
import { openFleetStore } from '../store/open-fleet-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import { presenceWriter } from './presence-writer.js';

async function setup(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-presence-writer-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let transactions = 0;
  // The real store, counting its transactions (each is one commit).
  const counted: Pick<FleetStore, 'devices' | 'transaction'> = {
    devices: store.devices,
    transaction: (fn) => {
      transactions++;
      return store.transaction(fn);
    },
  };
  return { store, writer: presenceWriter(counted), transactions: () => transactions };
}

function birth(deviceId: string, session: number): Birth {
  return {
    v: 1,
    type: 'birth',
    deviceId,
    session,
    ts: 1,
    agentVersion: '0.1.0',
    arch: 'arm64',
    platform: 'linux',
    cpus: 4,
    memTotalMb: 4096,
    runtime: { name: 'onnxruntime', version: '1.20.0' },
    models: [],
    stream: 's',
    backlog: 0,
  };
}

test('births arriving together are committed in one transaction, and each resolves once stored', async (t) => {
  const { store, writer, transactions } = await setup(t);
  await Promise.all(Array.from({ length: 50 }, (_, i) => writer.birth(birth(`pi-${i}`, 1))));
  assert.equal(transactions(), 1);
  const online = (await store.devices.list()).filter((d) => d.online);
  assert.equal(online.length, 50);
});

test('a death after its birth marks the device offline; a stale one does not', async (t) => {
  const { store, writer } = await setup(t);
  await writer.birth(birth('pi-1', 2));
  assert.equal(await writer.death('pi-1', 1), false, 'an older session ending leaves the device online');
  assert.equal((await store.devices.get('pi-1'))?.online, true);
  assert.equal(await writer.death('pi-1', 2), true);
  assert.equal((await store.devices.get('pi-1'))?.online, false);
});

test('one failing message fails alone; the rest of its group is stored', async (t) => {
  const { store, writer } = await setup(t);
  // A BigInt cannot be serialised: recordBirth throws for this one.
  const bad = { ...birth('pi-bad', 1), models: [{ name: 'm', version: 1n }] } as unknown as Birth;
  const results = await Promise.allSettled([
    writer.birth(birth('pi-1', 1)),
    writer.birth(bad),
    writer.birth(birth('pi-2', 1)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const online = (await store.devices.list()).filter((d) => d.online).map((d) => d.id);
  assert.deepEqual(online.sort(), ['pi-1', 'pi-2']);
});
