/**
 * @module store/store-suite/device-list-contract
 * The store contract for the console's device list: every filter, every sort in both orders
 * with ties broken by id, keyset pages that cover each device exactly once, the total, the
 * facets, and the batch reads (assignments, shadows, open alerts) a page is completed with.
 */
import assert from 'node:assert/strict';
import type { DeviceRecord, DeviceSortKey, FleetStore } from '../fleet-store.js';
import { birth, type WithStore } from './fixtures.js';
import { alertRecord } from './monitoring-contract.js';

const SORTS: DeviceSortKey[] = ['id', 'lastSeen', 'backlog', 'dropped', 'group', 'hardware', 'agentVersion', 'version'];

/**
 * Twelve devices with repeated values in every sort column (ties), unknown values (never seen,
 * no group, no hardware, nothing running), two models, assignments, a disabled and offline ones.
 */
async function seed(s: FleetStore): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const id = `dev-${String.fromCharCode(106 - i)}${i % 3}`; // ids not in insertion order
    await s.devices.recordBirth(
      birth(id, 1, {
        agentVersion: i % 2 ? '0.2.0' : '0.1.0',
        hardware: i % 4 === 3 ? undefined : i % 2 ? 'pi5' : 'pi4',
        backlog: i % 3,
        dropped: i % 2 ? 7 : 0,
        models: [
          ...(i % 5 === 4 ? [] : [{ name: 'distance', version: 1 + (i % 3), sha256: 'x' }]),
          ...(i % 4 === 0 ? [{ name: 'other', version: 9, sha256: 'y' }] : []),
        ],
      }),
      1_000 + (i % 4) * 10,
    );
    if (i % 3 !== 2) await s.devices.setLabels(id, { group: i % 2 ? 'site-b' : 'site-a', tags: { hw: `h${i % 2}` } });
    if (i % 3 === 0) await s.assignments.set(id, 'distance', 3, 5);
    if (i === 5) await s.devices.recordDeath(id, 1);
  }
  // Enrolled, never connected: no last seen, no info, nothing running.
  await s.devices.registerEnrolled('new-1', { group: null, tags: {} });
  await s.devices.registerEnrolled('new-0', { group: 'site-a', tags: {} });
  await s.devices.setDisabled('new-0', true);
}

/** The order the store must produce, computed from the records: unknown first, ties by id ascending. */
function expectedOrder(all: DeviceRecord[], sort: DeviceSortKey, desc: boolean, model?: string): string[] {
  const key = (d: DeviceRecord): string | number => {
    const versions = d.running.filter((m) => model === undefined || m.name === model).map((m) => m.version);
    switch (sort) {
      case 'id':
        return d.id;
      case 'lastSeen':
        return d.lastSeen ?? -1;
      case 'backlog':
        return d.backlog;
      case 'dropped':
        return d.dropped;
      case 'group':
        return d.group ?? '';
      case 'hardware':
        return d.info.hardware ?? '';
      case 'agentVersion':
        return d.info.agentVersion ?? '';
      case 'version':
        return versions.length ? Math.max(...versions) : -1;
    }
  };
  return [...all]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const c = ka === kb ? 0 : ka < kb ? -1 : 1;
      return (desc ? -c : c) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    })
    .map((d) => d.id);
}

export function deviceListContract(withStore: WithStore): void {
  withStore('device list: each filter alone and combined, with the total of the matches', async (s) => {
    await seed(s);
    const ids = async (q: Parameters<FleetStore['devices']['page']>[0]) => {
      const page = await s.devices.page(q);
      assert.equal(page.total, page.devices.length, 'without limit the page is every match');
      assert.equal(page.next, null);
      return page.devices.map((d) => d.id);
    };
    const all = await s.devices.list();
    const where = (f: (d: DeviceRecord) => boolean) => all.filter(f).map((d) => d.id);
    assert.equal(all.length, 12);
    assert.deepEqual(
      await ids({}),
      where(() => true),
    );
    assert.deepEqual(
      await ids({ online: false }),
      where((d) => !d.online),
    );
    assert.equal((await ids({ online: false })).length, 3);
    assert.deepEqual(
      await ids({ online: true, disabled: false }),
      where((d) => d.online && !d.disabled),
    );
    assert.deepEqual(await ids({ disabled: true }), ['new-0']);
    assert.deepEqual(
      await ids({ group: 'site-b' }),
      where((d) => d.group === 'site-b'),
    );
    assert.deepEqual(
      await ids({ tags: { hw: 'h0' } }),
      where((d) => d.tags.hw === 'h0'),
    );
    assert.deepEqual(
      await ids({ hardware: 'pi5' }),
      where((d) => d.info.hardware === 'pi5'),
    );
    assert.deepEqual(
      await ids({ agentVersion: '0.2.0' }),
      where((d) => d.info.agentVersion === '0.2.0'),
    );
    assert.deepEqual(await ids({ idContains: 'new' }), ['new-0', 'new-1']);
    assert.deepEqual(await ids({ idContains: 'NEW' }), [], 'id search is case-sensitive');
    assert.deepEqual(await ids({ idContains: '%' }), [], 'no wildcards: % is a character');
    assert.deepEqual(await ids({ idContains: '_' }), []);
    const runs = (d: DeviceRecord, v: number) => d.running.some((m) => m.name === 'distance' && m.version === v);
    assert.deepEqual(
      await ids({ model: { name: 'distance', version: 2, of: 'running' } }),
      where((d) => runs(d, 2)),
    );
    assert.ok((await ids({ model: { name: 'distance', version: 2, of: 'running' } })).length > 0);
    const assignedIds = (await s.assignments.devicesWith('distance', 3)).sort();
    assert.deepEqual(await ids({ model: { name: 'distance', version: 3, of: 'assigned' } }), assignedIds);
    assert.deepEqual(
      await ids({ model: { name: 'distance', version: 3, of: 'running' } }),
      where((d) => runs(d, 3)),
    );
    assert.deepEqual(
      await ids({ model: { name: 'distance', version: 3 } }),
      where((d) => runs(d, 3) || assignedIds.includes(d.id)),
      'without "of": running or assigned',
    );
    assert.deepEqual(
      await ids({ model: { name: 'other' } }),
      where((d) => d.running.some((m) => m.name === 'other')),
    );
    const combined = { group: 'site-a', online: true, model: { name: 'distance', of: 'running' as const } };
    const page = await s.devices.page({ ...combined, limit: 1 });
    const expected = where((d) => d.group === 'site-a' && d.online && d.running.some((m) => m.name === 'distance'));
    assert.ok(expected.length > 1);
    assert.equal(page.total, expected.length, 'total counts every match, not the page');
    assert.deepEqual(
      page.devices.map((d) => d.id),
      expected.slice(0, 1),
    );
    assert.deepEqual((await s.devices.page({ idContains: 'nobody', limit: 5 })).total, 0);
  });

  withStore('device list: every sort, both orders, ties by id; pages cover each device exactly once', async (s) => {
    await seed(s);
    const all = await s.devices.list();
    for (const sort of SORTS)
      for (const order of ['asc', 'desc'] as const) {
        const expected = expectedOrder(all, sort, order === 'desc');
        const whole = await s.devices.page({ sort, order });
        assert.deepEqual(
          whole.devices.map((d) => d.id),
          expected,
          `${sort} ${order}`,
        );
        const seen: string[] = [];
        let after: Parameters<FleetStore['devices']['page']>[0]['after'];
        for (let n = 0; n < 20; n++) {
          const page = await s.devices.page({ sort, order, limit: 5, ...(after ? { after } : {}) });
          assert.equal(page.total, 12);
          assert.ok(page.devices.length <= 5);
          seen.push(...page.devices.map((d) => d.id));
          if (!page.next) break;
          after = page.next;
        }
        assert.deepEqual(seen, expected, `pages of ${sort} ${order}`);
      }
    const byVersion = await s.devices.page({ sort: 'version', model: { name: 'other' } });
    assert.deepEqual(
      byVersion.devices.map((d) => d.id),
      expectedOrder(
        all.filter((d) => d.running.some((m) => m.name === 'other')),
        'version',
        false,
        'other',
      ),
    );
    const exact = await s.devices.page({ limit: 12 });
    assert.equal(exact.devices.length, 12);
    assert.equal(exact.next, null, 'a page that ends at the last device says so');
  });

  withStore('device list: a page after new devices arrive continues where it stopped', async (s) => {
    await seed(s);
    const first = await s.devices.page({ sort: 'id', limit: 4 });
    await s.devices.ensure('aaa-before-everything');
    await s.devices.ensure('zzz-after-everything');
    const rest = await s.devices.page({ sort: 'id', limit: 100, after: first.next! });
    const all = (await s.devices.list()).map((d) => d.id);
    assert.deepEqual(
      [...first.devices, ...rest.devices].map((d) => d.id),
      all.filter((id) => id !== 'aaa-before-everything'),
    );
    assert.equal(rest.total, 14);
  });

  withStore('what a device runs follows births and single-model updates, for filters and sorts', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 1, { models: [{ name: 'm', version: 1, sha256: 'a' }] }));
    await s.devices.recordBirth(birth('pi-2', 1, { models: [{ name: 'm', version: 2, sha256: 'b' }] }));
    const running = async (version: number) =>
      (await s.devices.page({ model: { name: 'm', version, of: 'running' } })).devices.map((d) => d.id);
    assert.deepEqual(await running(1), ['pi-1']);
    await s.devices.setRunningModel('pi-1', { name: 'm', version: 2, sha256: 'c' });
    assert.deepEqual(await running(1), []);
    assert.deepEqual(await running(2), ['pi-1', 'pi-2']);
    await s.devices.recordBirth(birth('pi-2', 2, { models: [{ name: 'n', version: 4, sha256: 'd' }] }));
    assert.deepEqual(await running(2), ['pi-1'], 'a birth replaces what the device runs');
    assert.deepEqual(
      (await s.devices.page({ model: { name: 'n', version: 4 } })).devices.map((d) => d.id),
      ['pi-2'],
    );
    await s.devices.setRunningModel('ghost', { name: 'm', version: 1, sha256: 'e' });
    assert.deepEqual(await running(1), [], 'an unknown device stays unknown');
    assert.deepEqual((await s.devices.facets()).running, [
      { model: 'm', version: 2, count: 1 },
      { model: 'n', version: 4, count: 1 },
    ]);
  });

  withStore('facets: distinct groups, hardware, agent versions and running versions with counts', async (s) => {
    assert.deepEqual(await s.devices.facets(), {
      ...{ total: 0, online: 0, disabled: 0, groups: [], hardware: [], agentVersions: [], running: [] },
    });
    await seed(s);
    const all = await s.devices.list();
    const f = await s.devices.facets();
    const tally = (values: Array<string | null>) =>
      [...new Set(values)]
        .sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1))
        .map((value) => ({ value, count: values.filter((v) => v === value).length }));
    assert.equal(f.total, 12);
    assert.equal(f.online, all.filter((d) => d.online).length);
    assert.equal(f.disabled, 1);
    assert.deepEqual(f.groups, tally(all.map((d) => d.group)));
    assert.deepEqual(f.hardware, tally(all.map((d) => d.info.hardware ?? null)));
    assert.deepEqual(f.agentVersions, tally(all.map((d) => d.info.agentVersion ?? null)));
    const running = all.flatMap((d) => d.running.map((m) => `${m.name}@${m.version}`));
    assert.deepEqual(
      f.running.map((r) => [`${r.model}@${r.version}`, r.count]),
      [...new Set(running)].sort().map((k) => [k, running.filter((r) => r === k).length]),
    );
    assert.deepEqual(await s.assignments.versionCounts(), [{ model: 'distance', version: 3, count: 4 }]);
  });

  withStore('batch reads: assignments and shadows of many devices, open alerts per device', async (s) => {
    await s.assignments.set('a', 'm', 1, 10);
    await s.assignments.set('a', 'n', 2, 11);
    await s.assignments.set('b', 'm', 3, 12);
    await s.shadows.set('b', 'm', 4, 13);
    const serve = await s.assignments.listForDevices(['b', 'a', 'zz']);
    assert.deepEqual([...serve.keys()].sort(), ['a', 'b']);
    assert.deepEqual(
      serve.get('a')!.map((x) => [x.model, x.version, x.state]),
      [
        ['m', 1, 'assigned'],
        ['n', 2, 'assigned'],
      ],
    );
    assert.deepEqual(
      [...(await s.shadows.listForDevices(['a', 'b'])).entries()].map(([id, l]) => [id, l.map((x) => x.version)]),
      [['b', [4]]],
    );
    const many = Array.from({ length: 1_200 }, (_, i) => `d${i}`);
    assert.equal((await s.assignments.listForDevices([...many, 'a'])).get('a')!.length, 2, 'past one IN list');
    assert.equal((await s.assignments.listForDevices([])).size, 0);

    const m = s.monitoring;
    await m.putAlert(alertRecord('al-1'));
    await m.putAlert(alertRecord('al-2', { rule: 'other', state: 'pending', firedAt: null }));
    await m.putAlert(alertRecord('al-3', { rule: 'gone', state: 'resolved', resolvedAt: 30 }));
    await m.putAlert(alertRecord('al-4', { scope: 'device:d2', deviceId: 'd2', devices: ['d2'] }));
    await m.putAlert(alertRecord('al-5', { scope: 'fleet', deviceId: null, devices: [] }));
    assert.deepEqual([...(await m.openDeviceAlertCounts(['d1', 'd3'])).entries()], [['d1', 2]]);
    assert.deepEqual([...(await m.openDeviceAlertCounts()).entries()].sort(), [
      ['d1', 2],
      ['d2', 1],
    ]);
    assert.equal((await m.openDeviceAlertCounts([])).size, 0);
  });
}
