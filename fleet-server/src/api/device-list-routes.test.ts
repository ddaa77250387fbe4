import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DeviceDetail, DeviceFacets, DeviceListResponse } from '@edgeloop/protocol';
import { startFleetServer } from '../server.js';
import { registerSyntheticFleet, syntheticDevice } from '../devices/synthetic-fleet.js';

test('GET /api/v1/devices: filters, sorts and pages by cursor; facets; bad queries say what to send', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-device-routes-'));
  const s = await startFleetServer(
    { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 }, validateResponses: true },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async <T>(path: string) => {
    const res = await fetch(`${s.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    return { status: res.status, body: (await res.json()) as T & { error?: string } };
  };
  const now = Date.now();
  await registerSyntheticFleet(s.store, 120, now);
  const all = Array.from({ length: 120 }, (_, i) => syntheticDevice(i, now));
  await s.store.monitoring.putAlert({
    ...{ id: 'al-1', rule: 'r', metric: 'output.psi', severity: 'warning', source: 'device', model: 'distance' },
    ...{ version: 1, scope: 'device:dev-00003', deviceId: 'dev-00003', devices: ['dev-00003'], state: 'firing' },
    ...{ since: 1, firedAt: 1, resolvedAt: null, updatedAt: 1, value: 1, threshold: 0.5, samples: 10 },
    ...{ incidentId: null, reason: null, history: [] },
  });

  // Without limit: every device, as before, now with the total.
  const whole = await get<DeviceListResponse>('/devices');
  assert.equal(whole.status, 200);
  assert.equal(whole.body.devices.length, 120);
  assert.deepEqual([whole.body.total, whole.body.nextCursor], [120, null]);
  assert.equal(whole.body.devices.find((d) => d.id === 'dev-00003')?.openAlerts, 1);
  assert.equal(whole.body.devices.find((d) => d.id === 'dev-00004')?.openAlerts, 0);

  // Pages of a filtered, sorted list, walked by cursor, cover the matches exactly once.
  const expected = all
    .filter((d) => d.running === 2 && d.hardware !== 'pi5')
    .filter((d) => d.agentVersion === '0.1.0')
    .sort((a, b) => b.lastSeen - a.lastSeen || (a.id < b.id ? -1 : 1))
    .map((d) => d.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string =
      '/devices?model=distance&version=2&versionOf=running&agentVersion=0.1.0&sort=lastSeen&order=desc&limit=4' +
      (cursor ? `&cursor=${cursor}` : '');
    const page = await get<DeviceListResponse>(query);
    assert.equal(page.status, 200, page.body.error);
    assert.equal(page.body.total, all.filter((d) => d.running === 2 && d.agentVersion === '0.1.0').length);
    seen.push(...page.body.devices.filter((d) => d.hardware !== 'pi5').map((d) => d.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, expected);

  const search = await get<DeviceListResponse>('/devices?q=0011&online=true&limit=50');
  assert.deepEqual(
    search.body.devices.map((d) => d.id),
    all.filter((d) => d.id.includes('0011') && d.online).map((d) => d.id),
  );
  const tagged = await get<DeviceListResponse>('/devices?tag=hw=jetson-orin&group=site-2&limit=500');
  assert.deepEqual(
    tagged.body.devices.map((d) => d.id),
    all.filter((d) => d.hardware === 'jetson-orin' && d.group === 'site-2').map((d) => d.id),
  );

  const facets = await get<DeviceFacets>('/devices/facets');
  assert.equal(facets.status, 200);
  assert.equal(facets.body.total, 120);
  assert.deepEqual(
    facets.body.hardware.map((h) => h.value),
    ['jetson-orin', 'pi4', 'pi4-8g', 'pi5'],
  );
  assert.deepEqual(
    facets.body.models.map((m) => [m.model, m.version, m.running, m.assigned]),
    [
      ['distance', 1, 40, 0],
      ['distance', 2, 40, 0],
      ['distance', 3, 40, 24],
    ],
  );

  const detail = await get<DeviceDetail>('/devices/dev-00003');
  assert.equal(detail.status, 200);
  assert.equal(detail.body.device.openAlerts, 1);

  for (const [query, message] of [
    ['limit=0', /limit/],
    ['limit=501', /limit/],
    ['version=2', /version needs model/],
    ['model=distance&versionOf=latest', /versionOf/],
    ['sort=colour', /sort/],
    ['cursor=abc', /cursor needs limit/],
    ['limit=5&cursor=not-a-cursor', /cursor is not one this server made/],
    [`limit=5&sort=backlog&cursor=${whole.body.nextCursor ?? ''}`, /cursor/],
  ] as const) {
    const res = await get<DeviceListResponse>(`/devices?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(res.body.error ?? '', message, query);
  }
  const idCursor = (await get<DeviceListResponse>('/devices?limit=5')).body.nextCursor!;
  const mismatched = await get<DeviceListResponse>(`/devices?limit=5&sort=backlog&cursor=${idCursor}`);
  assert.equal(mismatched.status, 400);
  assert.match(mismatched.body.error!, /sorted by id asc, not backlog asc; leave cursor out/);
});
