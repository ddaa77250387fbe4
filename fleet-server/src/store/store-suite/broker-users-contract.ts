/**
 * @module store/store-suite/broker-users-contract
 * Contract tests of the broker users (Mosquitto hashes): what the leader builds the password
 * file from, and the revision every relevant change bumps.
 */
import assert from 'node:assert/strict';
import type { WithStore } from './fixtures.js';

const HASH_A = '$7$101$c2FsdA==$aGFzaEE=';
const HASH_B = '$7$101$c2FsdA==$aGFzaEI=';

export function brokerUsersContract(withStore: WithStore): void {
  withStore('broker users: put, replace, remove, each bumping the revision', async (s) => {
    const r0 = await s.brokerUsers.revision();
    await s.devices.registerEnrolled('pi-1', { group: null, tags: {} });
    await s.devices.registerEnrolled('pi-2', { group: null, tags: {} });
    await s.brokerUsers.put('pi-2', HASH_B, 5);
    await s.brokerUsers.put('pi-1', HASH_A, 5);
    const r1 = await s.brokerUsers.revision();
    assert.ok(r1 > r0);
    assert.deepEqual(await s.brokerUsers.list(), [
      { deviceId: 'pi-1', passwordHash: HASH_A, disabled: false },
      { deviceId: 'pi-2', passwordHash: HASH_B, disabled: false },
    ]);
    await s.brokerUsers.put('pi-1', HASH_B, 6);
    const r2 = await s.brokerUsers.revision();
    assert.ok(r2 > r1, 'a rotated hash bumps the revision');
    assert.equal((await s.brokerUsers.list())[0]!.passwordHash, HASH_B);

    assert.equal(await s.brokerUsers.putIfAbsent('pi-1', HASH_A), false, 'an existing hash is kept');
    assert.equal(await s.brokerUsers.revision(), r2, 'nothing stored, nothing bumped');
    assert.equal(await s.brokerUsers.remove('pi-1'), true);
    assert.equal(await s.brokerUsers.remove('pi-1'), false);
    const r3 = await s.brokerUsers.revision();
    assert.ok(r3 > r2);
    assert.equal(await s.brokerUsers.putIfAbsent('pi-1', HASH_A), true);
    assert.ok((await s.brokerUsers.revision()) > r3);
    assert.equal(typeof (await s.brokerUsers.revision()), 'number');
  });

  withStore('broker users: disabled comes from the device row; touch bumps; a rollback keeps neither', async (s) => {
    await s.devices.registerEnrolled('pi-1', { group: null, tags: {} });
    await s.brokerUsers.put('pi-1', HASH_A);
    await s.brokerUsers.put('ghost', HASH_B); // no device row: cannot log in
    await s.devices.setDisabled('pi-1', true);
    assert.deepEqual(
      (await s.brokerUsers.list()).map((u) => [u.deviceId, u.disabled]),
      [
        ['ghost', true],
        ['pi-1', true],
      ],
    );
    const before = await s.brokerUsers.revision();
    await s.brokerUsers.touch();
    assert.equal(await s.brokerUsers.revision(), before + 1);

    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.brokerUsers.put('pi-2', HASH_A);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.equal(await s.brokerUsers.revision(), before + 1);
    assert.deepEqual(
      (await s.brokerUsers.list()).map((u) => u.deviceId),
      ['ghost', 'pi-1'],
    );
  });
}
