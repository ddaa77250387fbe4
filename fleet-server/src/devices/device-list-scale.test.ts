import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFleetStore } from '../store/open-fleet-store.js';
import { DeviceDirectory } from './device-directory.js';
import { registerSyntheticFleet, syntheticDevice } from './synthetic-fleet.js';

const COUNT = 10_000;

test('10,000 devices: the first page, a version filter, a sort and the full list are exact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-device-scale-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const now = 1_800_000_000_000;
  await registerSyntheticFleet(store, COUNT, now);
  const all = Array.from({ length: COUNT }, (_, i) => syntheticDevice(i, now));
  const directory = new DeviceDirectory(store);

  const first = await directory.page({ limit: 50 });
  assert.equal(first.total, COUNT);
  assert.deepEqual(
    first.devices.map((d) => d.id),
    all.slice(0, 50).map((d) => d.id),
  );
  const d7 = first.devices[7]!;
  assert.deepEqual(
    [d7.online, d7.hardware, d7.agentVersion, d7.group, d7.backlog, d7.models[0]?.version, d7.assignments],
    [false, 'pi4-8g', '0.2.0', 'site-7', 7, 2, []],
  );
  assert.deepEqual(
    first.devices[5]!.assignments.map((a) => [a.model, a.version, a.state]),
    [['distance', 3, 'assigned']],
  );
  assert.ok(first.nextCursor);

  const v2 = await directory.page({ limit: 50, model: { name: 'distance', version: 2, of: 'running' } });
  const expectedV2 = all.filter((d) => d.running === 2);
  assert.equal(v2.total, expectedV2.length);
  assert.deepEqual(
    v2.devices.map((d) => d.id),
    expectedV2.slice(0, 50).map((d) => d.id),
  );
  const either3 = await directory.page({ limit: 50, model: { name: 'distance', version: 3 } });
  assert.equal(either3.total, all.filter((d) => d.running === 3 || d.assigned === 3).length);

  const second = await directory.page({ limit: 50, cursor: first.nextCursor! });
  assert.deepEqual(
    second.devices.map((d) => d.id),
    all.slice(50, 100).map((d) => d.id),
  );

  const busiest = await directory.page({ limit: 10, sort: 'backlog', order: 'desc', hardware: 'pi5', online: true });
  const expectedBusiest = all
    .filter((d) => d.hardware === 'pi5' && d.online)
    .sort((a, b) => b.backlog - a.backlog || (a.id < b.id ? -1 : 1));
  assert.equal(busiest.total, expectedBusiest.length);
  assert.deepEqual(
    busiest.devices.map((d) => d.id),
    expectedBusiest.slice(0, 10).map((d) => d.id),
  );

  const everything = await directory.list();
  assert.equal(everything.length, COUNT, 'without a limit: every device, each with its assignments');
  assert.equal(everything.filter((d) => d.assignments.length > 0).length, all.filter((d) => d.assigned).length);

  const facets = await directory.facets();
  assert.equal(facets.total, COUNT);
  assert.equal(facets.groups.length, 20);
  assert.deepEqual(
    facets.models.map((m) => [m.version, m.running, m.assigned]),
    [1, 2, 3].map((v) => [v, all.filter((d) => d.running === v).length, all.filter((d) => d.assigned === v).length]),
  );
});
