import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openFleetStore } from '../store/open-fleet-store.js';
import { AdminTokens } from './admin-tokens.js';

const log = pino({ level: 'silent' });

async function scratch(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-admin-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, tokens: new AdminTokens(store) };
}

test('the first start writes a bootstrap token 0600 and later starts read it back', async (t) => {
  const { dir, tokens } = await scratch(t);
  const first = await tokens.bootstrap({ dataDir: dir, log });
  assert.ok(first.token?.startsWith('ela_'));
  assert.equal(statSync(first.file).mode & 0o777, 0o600);
  assert.equal(readFileSync(first.file, 'utf8').trim(), first.token);
  assert.equal((await tokens.verify(first.token!))?.name, 'admin');
  const again = await tokens.bootstrap({ dataDir: dir, log });
  assert.equal(again.token, first.token, 'no second token; the file still names the active one');
  assert.equal((await tokens.list()).length, 1);
});

test('a configured token is accepted as "admin"; once revoked it stays revoked', async (t) => {
  const { dir, tokens } = await scratch(t);
  const configured = 'a-long-configured-admin-token';
  assert.equal((await tokens.bootstrap({ dataDir: dir, configured, log })).token, configured);
  const row = (await tokens.verify(configured))!;
  assert.equal(row.name, 'admin');
  await tokens.bootstrap({ dataDir: dir, configured, log });
  assert.equal((await tokens.list()).length, 1, 'idempotent across restarts');
  await tokens.create('other', 'admin');
  await tokens.revoke(row.id);
  assert.equal((await tokens.bootstrap({ dataDir: dir, configured, log })).token, undefined);
  assert.equal(await tokens.verify(configured), undefined);
  assert.equal(await tokens.isRevoked(configured), true);
});
