/**
 * @module store/store-suite/devices-contract
 * The store contract for the unit of work, devices and their counters, assignments and update events.
 */
import assert from 'node:assert/strict';
import { birth, record, type WithStore } from './fixtures.js';

export function devicesContract(withStore: WithStore): void {
  withStore('a unit of work commits together or not at all, and nested calls join it', async (s) => {
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.telemetry.insertBatch('pi-1', 's1', [record(1), record(2)]);
        await tx.devices.ensure('pi-1');
        await s.transaction(async (inner) =>
          inner.audit.append({ ts: 1, actor: 'a', action: 'x', target: null, details: {} }),
        );
        throw new Error('the second batch failed');
      }),
      /second batch failed/,
    );
    assert.equal(await s.telemetry.count(), 0, 'nothing of a failed unit is stored');
    assert.equal(await s.devices.exists('pi-1'), false);
    assert.deepEqual(await s.audit.list(), []);
    assert.deepEqual(
      await s.transaction(async (tx) => [
        await tx.telemetry.insertBatch('pi-1', 's1', [record(1)]),
        await s.telemetry.insertBatch('pi-2', 's1', [record(1)]),
      ]),
      [1, 1],
    );
    assert.equal(await s.telemetry.count(), 2);
  });

  withStore('work outside a unit of work waits for it instead of joining it', async (s) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const unit = s.transaction(async (tx) => {
      await tx.devices.ensure('pi-1');
      await gate;
      throw new Error('rolled back');
    });
    const outside = s.devices.ensure('pi-2');
    release();
    await assert.rejects(unit, /rolled back/);
    await outside;
    assert.deepEqual(
      (await s.devices.list()).map((d) => d.id),
      ['pi-2'],
    );
  });

  withStore('births, deaths and touches: a late death does not mark a reconnected device offline', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 1, { dropped: 5 }), 100);
    await s.devices.recordBirth(
      birth('pi-1', 2, { dropped: 2, models: [{ name: 'm', version: 1, sha256: 'x' }] }),
      200,
    );
    assert.equal(await s.devices.recordDeath('pi-1', 1), false);
    let d = await s.devices.get('pi-1');
    assert.deepEqual(
      [d?.online, d?.session, d?.firstSeen, d?.lastSeen, d?.dropped, d?.running.length, d?.info.arch],
      [true, 2, 100, 200, 5, 1, 'arm64'],
    );
    assert.equal(await s.devices.recordDeath('pi-1', 2), true);
    assert.equal((await s.devices.get('pi-1'))?.online, false);
    await s.devices.touch('pi-1', 7, 30, 9, 300);
    await s.devices.touch('pi-1', undefined, 5, 1, 400);
    d = await s.devices.get('pi-1');
    assert.deepEqual([d?.backlog, d?.records, d?.dropped, d?.lastSeen], [7, 35, 9, 400]);
    assert.equal(await s.devices.ensure('pi-1'), false);
    assert.equal((await s.devices.get('pi-1'))?.records, 35, 'ensure leaves a known device alone');
    assert.equal(await s.devices.ensure('pi-2', 500), true);
    assert.deepEqual([(await s.devices.get('pi-2'))?.firstSeen, (await s.devices.get('pi-2'))?.online], [500, false]);
    await s.devices.setRunningModel('pi-1', { name: 'm', version: 2, sha256: 'y' });
    await s.devices.setRunningModel('pi-1', { name: 'n', version: 1, sha256: 'z' });
    assert.deepEqual(
      (await s.devices.get('pi-1'))?.running.map((m) => `${m.name}@${m.version}`),
      ['m@2', 'n@1'],
    );
  });

  withStore('device selection by group, tags and ids; disabled devices left out unless asked', async (s) => {
    await s.devices.registerEnrolled('a', { group: 'site-1', tags: { hw: 'pi4', loc: 'x' } });
    await s.devices.registerEnrolled('b', { group: 'site-1', tags: { hw: 'pi5' } });
    await s.devices.registerEnrolled('c', { group: 'site-2', tags: { hw: 'pi4' } }, { arch: 'arm64' });
    await s.devices.registerEnrolled('d', { group: null, tags: {} });
    assert.equal(await s.devices.setDisabled('b', true), true);
    assert.equal(await s.devices.setDisabled('nobody', true), false);
    assert.deepEqual(await s.devices.select({}), [], 'no criteria select nothing');
    assert.deepEqual(await s.devices.select({ all: true }), ['a', 'c', 'd']);
    assert.deepEqual(await s.devices.select({ all: true, includeDisabled: true }), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await s.devices.select({ group: 'site-1', includeDisabled: true }), ['a', 'b']);
    assert.deepEqual(await s.devices.select({ tags: { hw: 'pi4' } }), ['a', 'c']);
    assert.deepEqual(await s.devices.select({ tags: { hw: 'pi4', loc: 'x' } }), ['a']);
    assert.deepEqual(
      await s.devices.select({ tags: { "hw') OR 1=1 --": 'pi4' } }),
      [],
      'tag keys are data, not SQL or JSON paths',
    );
    assert.deepEqual(await s.devices.select({ devices: ['c', 'b', 'zz'] }), ['c']);
    assert.deepEqual(
      (await s.devices.list({ group: 'site-1' })).map((d) => d.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      (await s.devices.list({ disabled: true })).map((d) => d.id),
      ['b'],
    );
    assert.deepEqual(
      (await s.devices.list({ tags: { hw: 'pi5' } })).map((d) => [d.id, d.disabled]),
      [['b', true]],
    );
    assert.equal((await s.devices.get('c'))?.info.arch, 'arm64');
    await s.devices.registerEnrolled('a', { group: null, tags: { loc: 'y', new: '1' } });
    const a = await s.devices.get('a');
    assert.deepEqual(
      [a?.group, a?.tags],
      ['site-1', { hw: 'pi4', loc: 'y', new: '1' }],
      're-enrollment keeps the group and merges tags',
    );
    assert.equal(await s.devices.setLabels('a', { group: null, tags: { only: 'this' } }), true);
    assert.deepEqual([(await s.devices.get('a'))?.group, (await s.devices.get('a'))?.tags], [null, { only: 'this' }]);
    assert.equal(await s.devices.setLabels('nobody', { group: 'g' }), false);
    assert.deepEqual([...(await s.devices.getMany(['a', 'zz', 'c'])).keys()].sort(), ['a', 'c']);
  });

  withStore('per-device counters: desired counter, report cursor, bytes sent, sample requests', async (s) => {
    await s.devices.recordBirth(birth('pi-1', 3));
    assert.equal(await s.devices.desiredCounter('pi-1'), 0);
    assert.equal(await s.devices.nextDesiredCounter('pi-1', 1000), 1000);
    assert.equal(
      await s.devices.nextDesiredCounter('pi-1', 1000),
      1001,
      'the same millisecond still gets a higher counter',
    );
    assert.equal(await s.devices.nextDesiredCounter('pi-1', 900), 1002, 'a clock that stepped back does not lower it');
    assert.equal(await s.devices.desiredCounter('pi-1'), 1002);
    await assert.rejects(s.devices.nextDesiredCounter('nobody'), /unknown device/);
    assert.deepEqual(await s.devices.reportCursor('pi-1'), { session: 3, reportSession: null, reportSeq: 0 });
    await s.devices.setReportCursor('pi-1', 3, 4);
    assert.deepEqual(await s.devices.reportCursor('pi-1'), { session: 3, reportSession: 3, reportSeq: 4 });
    assert.deepEqual(
      await s.transaction((tx) => tx.devices.lockReportCursor('pi-1')),
      { session: 3, reportSession: 3, reportSeq: 4 },
      'locking reads the cursor and changes nothing',
    );
    assert.equal(await s.devices.lockReportCursor('nobody'), undefined);
    await s.devices.addBytesSent('pi-1', 100);
    await s.devices.addBytesSent('pi-1', 23);
    assert.equal((await s.devices.get('pi-1'))?.bytesSent, 123);
    assert.deepEqual(await s.devices.sampleRequests('pi-1'), { uploadUntil: null, capture: null });
    await s.devices.setSampleUploadUntil('pi-1', 77);
    await s.devices.setSampleCapture('pi-1', { until: 5, everyN: 2 });
    assert.deepEqual(await s.devices.sampleRequests('pi-1'), { uploadUntil: 77, capture: { until: 5, everyN: 2 } });
    await s.devices.setSampleCapture('pi-1', null);
    assert.equal((await s.devices.sampleRequests('pi-1')).capture, null);
  });

  withStore('assignments: serve and shadow tables kept apart; reports move only the named version', async (s) => {
    await s.assignments.set('a', 'm', 1, 10);
    await s.assignments.set('a', 'm', 2, 11);
    await s.assignments.set('b', 'm', 2, 12);
    await s.shadows.set('a', 'm', 3, 13);
    assert.deepEqual(await s.assignments.get('a', 'm'), {
      model: 'm',
      version: 2,
      state: 'assigned',
      code: null,
      reason: null,
      updatedAt: 11,
    });
    assert.equal(
      await s.assignments.setReportedState('a', 'm', 1, { state: 'active', code: null, reason: null }),
      false,
      'an older version is not the row',
    );
    assert.equal(
      await s.assignments.setReportedState('a', 'm', 2, { state: 'failed', code: 'E', reason: 'r' }, 20),
      true,
    );
    assert.deepEqual(await s.assignments.get('a', 'm'), {
      model: 'm',
      version: 2,
      state: 'failed',
      code: 'E',
      reason: 'r',
      updatedAt: 20,
    });
    await s.assignments.set('a', 'm', 2, 21);
    assert.equal((await s.assignments.get('a', 'm'))?.code, null, 'assigning again clears the report');
    assert.deepEqual(
      (await s.shadows.listForDevice('a')).map((x) => x.version),
      [3],
    );
    assert.deepEqual(await s.assignments.versions(), [{ name: 'm', version: 2 }]);
    assert.deepEqual(await s.assignments.devicesWith('m', 2), ['a', 'b']);
    assert.deepEqual([...(await s.assignments.forDevices('m', ['b', 'c'])).keys()], ['b']);
    assert.deepEqual(await s.assignments.devices(), ['a', 'b']);
    assert.equal(await s.assignments.remove('b', 'm', 1), false);
    assert.equal(await s.assignments.remove('b', 'm', 2), true);
    assert.deepEqual(await s.assignments.removeVersion('m', 2), ['a']);
    assert.deepEqual(await s.shadows.devices(), ['a'], 'the shadow table is separate');
    assert.equal(await s.shadows.remove('a', 'm'), true);
    assert.equal(await s.shadows.remove('a', 'm'), false);
  });

  withStore('update events are listed newest first', async (s) => {
    for (let i = 1; i <= 3; i++)
      await s.updateEvents.append('pi-1', {
        model: 'm',
        version: i,
        state: 'active',
        code: null,
        reason: null,
        session: 1,
        reportSeq: i,
        ts: i,
        receivedAt: 10 + i,
      });
    assert.deepEqual(
      (await s.updateEvents.list('pi-1', 2)).map((e) => e.reportSeq),
      [3, 2],
    );
    assert.deepEqual(await s.updateEvents.list('other'), []);
  });

  withStore(
    'an update event is stored once per (device, outbox stream, outbox id); events without one always',
    async (s) => {
      const event = (session: number, reportSeq: number) => ({
        model: 'm',
        version: 2,
        state: 'downloading',
        code: null,
        reason: null,
        session,
        reportSeq,
        ts: 1,
        receivedAt: 10,
      });
      const at = { stream: 's1', id: 7 };
      assert.equal(await s.updateEvents.hasOutboxReport('pi-1', at), false);
      assert.equal(await s.updateEvents.append('pi-1', event(1, 3), at), true);
      assert.equal(await s.updateEvents.hasOutboxReport('pi-1', at), true);
      assert.equal(await s.updateEvents.append('pi-1', event(2, 1), at), false, 'same position, new session');
      assert.equal(await s.updateEvents.append('pi-1', event(2, 2), { stream: 's1', id: 8 }), true, 'next id');
      assert.equal(await s.updateEvents.append('pi-1', event(2, 3), { stream: 's2', id: 7 }), true, 'other stream');
      assert.equal(await s.updateEvents.append('pi-2', event(1, 1), at), true, 'other device');
      assert.equal(await s.updateEvents.hasOutboxReport('pi-2', { stream: 's1', id: 8 }), false);
      assert.equal(await s.updateEvents.append('pi-1', event(3, 1)), true, 'no position');
      assert.equal(await s.updateEvents.append('pi-1', event(3, 1)), true, 'no position, again');
      assert.deepEqual(
        (await s.updateEvents.list('pi-1')).map((e) => [e.session, e.reportSeq]),
        [
          [3, 1],
          [3, 1],
          [2, 3],
          [2, 2],
          [1, 3],
        ],
      );
    },
  );

  withStore('a duplicate appended inside a transaction leaves the transaction usable', async (s) => {
    const event = {
      model: 'm',
      version: 1,
      state: 'active',
      code: null,
      reason: null,
      session: 1,
      reportSeq: 1,
      ts: 1,
      receivedAt: 1,
    };
    await s.updateEvents.append('pi-1', event, { stream: 's1', id: 1 });
    await s.transaction(async (tx) => {
      assert.equal(await tx.updateEvents.append('pi-1', event, { stream: 's1', id: 1 }), false);
      assert.equal(await tx.updateEvents.append('pi-1', event, { stream: 's1', id: 2 }), true);
    });
    assert.equal((await s.updateEvents.list('pi-1')).length, 2);
  });
}
