/**
 * @module store/store-suite/console-sessions-contract
 * The store contract for the console's sessions: kept by the digest of their id, ended one by
 * one, all at once for a revoked token, or by expiry.
 */
import assert from 'node:assert/strict';
import type { WithStore } from './fixtures.js';

export function consoleSessionsContract(withStore: WithStore): void {
  withStore('console sessions: insert, get by id digest, remove, remove a token’s, sweep the expired', async (s) => {
    const session = (idHash: string, tokenId: string, expiresAt: number) => ({
      idHash,
      tokenId,
      createdAt: 1,
      expiresAt,
    });
    await s.consoleSessions.insert(session('h1', 'adm-1', 100));
    await s.consoleSessions.insert(session('h2', 'adm-1', 200));
    await s.consoleSessions.insert(session('h3', 'adm-2', 300));
    await s.consoleSessions.insert(session('h4', 'adm-2', 400));
    await assert.rejects(s.consoleSessions.insert(session('h1', 'adm-2', 500)), 'a session id digest is unique');
    assert.deepEqual(await s.consoleSessions.get('h3'), session('h3', 'adm-2', 300));
    assert.equal(await s.consoleSessions.get('nope'), undefined);

    await s.consoleSessions.remove('h4');
    assert.equal(await s.consoleSessions.get('h4'), undefined);
    await s.consoleSessions.remove('h4'); // removing a gone session is no error

    assert.equal(await s.consoleSessions.removeExpired(200), 2, 'expiresAt at or before now is expired');
    assert.equal(await s.consoleSessions.get('h2'), undefined);
    assert.deepEqual(await s.consoleSessions.get('h3'), session('h3', 'adm-2', 300));

    await s.consoleSessions.insert(session('h5', 'adm-2', 900));
    assert.equal(await s.consoleSessions.removeForToken('adm-2'), 2);
    assert.equal(await s.consoleSessions.get('h5'), undefined);
    assert.equal(await s.consoleSessions.removeForToken('adm-2'), 0);
  });

  withStore('admin tokens: each keeps its role; active tokens count by role', async (s) => {
    for (const role of ['viewer', 'operator', 'admin'] as const)
      await s.adminTokens.insert({
        id: `adm-${role}`,
        name: role,
        role,
        tokenHash: `h-${role}`,
        createdAt: 1,
        createdBy: 't',
      });
    assert.deepEqual(
      (await s.adminTokens.list()).map((t) => [t.name, t.role]),
      [
        ['admin', 'admin'],
        ['operator', 'operator'],
        ['viewer', 'viewer'],
      ],
    );
    assert.equal((await s.adminTokens.byHash('h-viewer'))?.role, 'viewer');
    assert.equal(await s.adminTokens.activeCount('operator'), 1);
  });
}
