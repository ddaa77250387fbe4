/**
 * @module store/store-suite/registry-contract
 * The store contract for model versions, samples, audit, identity, keys, rollouts and transfer counters.
 */
import assert from 'node:assert/strict';
import { modelVersion, rollout, rolloutDevice, type WithStore } from './fixtures.js';

export function registryContract(withStore: WithStore): void {
  withStore('model versions: (name, version) is unique; status, envelope and artifact lookups', async (s) => {
    assert.equal(await s.models.latestVersion('m'), 0);
    assert.equal(await s.models.insert(modelVersion('m', 1)), true);
    assert.equal(await s.models.insert(modelVersion('m', 2, 'same'.padEnd(64, '0'))), true);
    assert.equal(await s.models.insert(modelVersion('m', 2)), false, 'a second push of v2 is refused');
    assert.equal(await s.models.insert(modelVersion('n', 1, 'same'.padEnd(64, '0'))), true);
    assert.equal(await s.models.latestVersion('m'), 2);
    assert.deepEqual(
      (await s.models.list()).map((m) => `${m.name}@${m.version}`),
      ['m@2', 'm@1', 'n@1'],
    );
    assert.deepEqual(
      (await s.models.versionsOf('m')).map((m) => m.version),
      [2, 1],
    );
    assert.deepEqual(await s.models.withArtifact('same'.padEnd(64, '0')), [
      { name: 'm', version: 2, size: 20 },
      { name: 'n', version: 1, size: 10 },
    ]);
    const v1 = await s.models.get('m', 1);
    assert.deepEqual(
      [v1?.status, v1?.labels, v1?.metrics, v1?.lineage, v1?.resignedAt],
      ['registered', { team: 'a' }, { mae: 1.5 }, {}, null],
    );
    await s.models.setStatus('m', 1, 'revoked', 'bad', 50);
    await s.models.replaceEnvelope(
      'm',
      1,
      { payloadType: 't', payload: 'new', signatures: [] },
      v1!.manifest,
      'k2',
      60,
    );
    const after = await s.models.get('m', 1);
    assert.deepEqual(
      [after?.status, after?.statusReason, after?.statusAt, after?.envelope.payload, after?.keyId, after?.resignedAt],
      ['revoked', 'bad', 50, 'new', 'k2', 60],
    );
  });

  withStore('samples are unique per (device, stream, seq)', async (s) => {
    const sample = {
      deviceId: 'pi-1',
      stream: 's',
      seq: 1,
      model: 'm',
      version: 1,
      ts: 1,
      reason: 'capture',
      prediction: 1,
      reference: null,
      contentType: 'image/jpeg',
      sha256: 'x'.repeat(64),
      bytes: 3,
      receivedAt: 9,
    };
    assert.equal(await s.samples.insert(sample), true);
    assert.equal(await s.samples.insert(sample), false);
    assert.equal(await s.samples.insert({ ...sample, seq: 2, model: 'n' }), true);
    const listed = await s.samples.list({ model: 'm' });
    assert.deepEqual(
      listed.map((x) => [x.seq, x.model]),
      [[1, 'm']],
    );
    assert.deepEqual(await s.samples.get(listed[0]!.id), listed[0]);
    assert.equal(await s.samples.get(999), undefined);
  });

  withStore('audit entries filter by actor, action area and target, newest first, paged', async (s) => {
    const add = (actor: string, action: string, target: string | null) =>
      s.audit.append({ ts: 1, actor, action, target, details: { actor } });
    await add('op', 'device.disable', 'a');
    await add('op', 'device.enable', 'a');
    await add('system', 'rollout.pause', 'r1');
    await add('op', 'devices', null);
    assert.deepEqual(
      (await s.audit.list({ action: 'device' })).map((e) => e.action),
      ['device.enable', 'device.disable'],
    );
    assert.deepEqual(
      (await s.audit.list({ actor: 'system' })).map((e) => e.details),
      [{ actor: 'system' }],
    );
    const all = await s.audit.list({ target: 'a' });
    assert.equal(all.length, 2);
    assert.deepEqual(
      (await s.audit.list({ before: all[0]!.id, limit: 1 })).map((e) => e.action),
      ['device.disable'],
    );
  });

  withStore('identity: credentials replace, tokens are taken atomically, revocations count once', async (s) => {
    await s.credentials.put('pi-1', 'h1', 1, 'enr-1');
    await s.credentials.put('pi-1', 'h2', 2, null);
    assert.deepEqual(await s.credentials.get('pi-1'), { secretHash: 'h2', issuedAt: 2, enrolledWith: null });
    assert.equal(await s.credentials.remove('pi-1'), true);
    assert.equal(await s.credentials.remove('pi-1'), false);
    const token = {
      id: 'enr-1',
      uses: 2,
      usesLeft: 2,
      expiresAt: 99,
      group: 'g',
      tags: { a: 'b' },
      createdAt: 1,
      createdBy: 'op',
      revokedAt: null,
    };
    await s.enrollmentTokens.insert({ ...token, tokenHash: 'th' });
    await assert.rejects(
      s.enrollmentTokens.insert({ ...token, id: 'enr-2', tokenHash: 'th' }),
      'token hashes are unique',
    );
    assert.deepEqual(await s.enrollmentTokens.byHash('th'), token);
    const takes = await Promise.all([1, 2, 3].map(() => s.enrollmentTokens.takeUse('enr-1')));
    assert.deepEqual(takes.filter(Boolean).length, 2, 'two uses, three takers: one goes without');
    assert.equal((await s.enrollmentTokens.get('enr-1'))?.usesLeft, 0);
    assert.equal(await s.enrollmentTokens.revoke('enr-1', 5), true);
    assert.equal(await s.enrollmentTokens.revoke('enr-1', 6), false);
    assert.equal((await s.enrollmentTokens.list())[0]?.revokedAt, 5);
    await s.adminTokens.insert({
      id: 'adm-1',
      name: 'admin',
      role: 'admin',
      tokenHash: 'a1',
      createdAt: 1,
      createdBy: 'system',
    });
    await s.adminTokens.insert({
      id: 'adm-2',
      name: 'ci',
      role: 'operator',
      tokenHash: 'a2',
      createdAt: 2,
      createdBy: 'admin',
    });
    await s.adminTokens.setLastUsed('adm-2', 7);
    assert.deepEqual(await s.adminTokens.byHash('a2'), {
      id: 'adm-2',
      name: 'ci',
      role: 'operator',
      createdAt: 2,
      createdBy: 'admin',
      lastUsedAt: 7,
      revokedAt: null,
    });
    assert.equal(await s.adminTokens.activeCount(), 2);
    assert.equal(await s.adminTokens.activeCount('admin'), 1);
    assert.equal(await s.adminTokens.activeCount('viewer'), 0);
    assert.equal(await s.adminTokens.revoke('adm-1', 8), true);
    assert.equal(await s.adminTokens.revoke('adm-1', 9), false);
    assert.equal(await s.adminTokens.activeCount(), 1);
    assert.deepEqual(
      (await s.adminTokens.list()).map((t) => t.id),
      ['adm-1', 'adm-2'],
    );
  });

  withStore('keys: activating a pending key stores the keyset and retires every other key', async (s) => {
    await s.keys.addPending('k1', 'pub1', 'payload1', 1);
    assert.deepEqual(await s.keys.activate('k1', 1, { payloadType: 't', payload: 'ks1', signatures: [] }, 2), []);
    await s.keys.addPending('k2', 'pub2', 'payload2', 3);
    await s.keys.addPending('k3', 'pub3', 'payload3', 4);
    await s.keys.setPendingKeyset('k3', 'payload3b');
    assert.equal((await s.keys.keys('pending')).at(-1)?.pendingKeyset, 'payload3b');
    assert.deepEqual((await s.keys.activate('k3', 2, { payloadType: 't', payload: 'ks2', signatures: [] }, 5)).sort(), [
      'k1',
      'k2',
    ]);
    assert.deepEqual(
      (await s.keys.keys()).map((k) => [k.keyId, k.state]),
      [
        ['k1', 'retired'],
        ['k2', 'retired'],
        ['k3', 'active'],
      ],
    );
    assert.equal((await s.keys.keys('active'))[0]?.pendingKeyset, null);
    assert.deepEqual(
      [(await s.keys.latestKeyset())?.version, (await s.keys.latestKeyset())?.envelope.payload],
      [2, 'ks2'],
    );
    await assert.rejects(
      s.keys.activate('k3', 2, { payloadType: 't', payload: 'again', signatures: [] }),
      'a keyset version is stored once',
    );
    assert.equal((await s.keys.keys('active'))[0]?.keyId, 'k3', 'the failed activation changed nothing');
  });

  withStore('rollouts: one active per model, updates, devices and the work list', async (s) => {
    assert.equal(
      await s.rollouts.insert(rollout('r1', 'm'), [rolloutDevice('r1', 'a', 0), rolloutDevice('r1', 'b', 1)]),
      true,
    );
    assert.equal(
      await s.rollouts.insert(rollout('r2', 'm'), [rolloutDevice('r2', 'a', 0)]),
      false,
      'a second active rollout of m is refused',
    );
    assert.deepEqual(await s.rollouts.devices('r2'), [], 'and leaves no devices behind');
    assert.equal(await s.rollouts.insert(rollout('r3', 'n', 'completed'), []), true);
    const r1 = (await s.rollouts.get('r1'))!;
    assert.deepEqual(
      [r1.target, r1.params, r1.waves, r1.holding],
      [{ all: true }, { waitMs: 1 }, [{ size: 1 }], false],
    );
    await s.rollouts.update({ ...r1, state: 'rolled-back', holding: true, rollbackVersions: { 1: 4 }, updatedAt: 20 });
    const back = (await s.rollouts.get('r1'))!;
    assert.deepEqual(
      [back.state, back.holding, back.rollbackVersions, back.updatedAt],
      ['rolled-back', true, { 1: 4 }, 20],
    );
    assert.equal(await s.rollouts.activeFor('m'), undefined);
    assert.deepEqual(
      (await s.rollouts.workList(['assigned'])).map((r) => r.id),
      [],
      'rolled back with nothing to return',
    );
    await s.rollouts.updateDevice(
      rolloutDevice('r1', 'b', 1, {
        state: 'assigned',
        assignedAt: 15,
        times: { pending: 10, assigned: 15 },
        acknowledged: true,
      }),
    );
    assert.deepEqual(
      (await s.rollouts.workList(['assigned'])).map((r) => r.id),
      ['r1'],
    );
    const devs = await s.rollouts.devices('r1');
    assert.deepEqual(
      devs.map((d) => [d.deviceId, d.state, d.assignedAt, d.acknowledged]),
      [
        ['a', 'pending', null, false],
        ['b', 'assigned', 15, true],
      ],
    );
    assert.equal(
      await s.rollouts.insert(rollout('r4', 'm'), [rolloutDevice('r4', 'a', 0)]),
      true,
      'a new rollout once the old one finished',
    );
    assert.deepEqual((await s.rollouts.list({ model: 'm' })).map((r) => r.id).sort(), ['r1', 'r4']);
    assert.deepEqual(
      (await s.rollouts.list({ state: 'completed' })).map((r) => r.id),
      ['r3'],
    );
  });

  withStore('transfer counters add up per device, artifact and transport', async (s) => {
    await s.transfers.add(
      [
        { deviceId: 'a', sha256: 'x', transport: 'http', bytes: 10, requests: 1 },
        { deviceId: 'a', sha256: 'x', transport: 'mqtt', bytes: 5, requests: 1 },
      ],
      1,
    );
    await s.transfers.add([{ deviceId: 'a', sha256: 'x', transport: 'http', bytes: 7, requests: 0 }], 2);
    assert.deepEqual(await s.transfers.detail('a'), [
      { sha256: 'x', transport: 'http', bytes: 17, requests: 1, updatedAt: 2 },
      { sha256: 'x', transport: 'mqtt', bytes: 5, requests: 1, updatedAt: 1 },
    ]);
  });
}
