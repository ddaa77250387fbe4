/**
 * @module store/store-suite/changes-contract
 * The console's change marks: a topic's mark moves when what it covers changes, and only then.
 */
import assert from 'node:assert/strict';
import { birth, type WithStore } from './fixtures.js';

export function changesContract(withStore: WithStore): void {
  withStore('change marks move with devices and their presence, and stay put otherwise', async (s) => {
    const empty = await s.changes.marks();
    assert.deepEqual(await s.changes.marks(), empty, 'reading twice changes nothing');
    await s.devices.recordBirth(birth('pi-1', 1), 5_000);
    const born = await s.changes.marks();
    assert.notEqual(born.devices, empty.devices);
    for (const topic of ['models', 'rollouts', 'incidents', 'loop', 'training'] as const)
      assert.equal(born[topic], empty[topic], `${topic} did not change`);
    await s.devices.recordDeath('pi-1', 1);
    assert.notEqual((await s.changes.marks()).devices, born.devices, 'going offline shows');
  });
}
