import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openFleetDb } from '../store/fleet-db.js';
import { AdminTokens } from './admin-tokens.js';

const log = pino({ level: 'silent' });

function scratch(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-admin-'));
  const db = openFleetDb(join(dir, 'fleet.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, tokens: new AdminTokens(db) };
}

test('the first start writes a bootstrap token 0600 and later starts read it back', (t) => {
  const { dir, tokens } = scratch(t);
  const first = tokens.bootstrap({ dataDir: dir, log });
  assert.ok(first.token?.startsWith('ela_'));
  assert.equal(statSync(first.file).mode & 0o777, 0o600);
  assert.equal(readFileSync(first.file, 'utf8').trim(), first.token);
  assert.equal(tokens.verify(first.token!)?.name, 'admin');
  const again = tokens.bootstrap({ dataDir: dir, log });
  assert.equal(again.token, first.token, 'no second token; the file still names the active one');
  assert.equal(tokens.list().length, 1);
});

test('a configured token is accepted as "admin"; once revoked it stays revoked', (t) => {
  const { dir, tokens } = scratch(t);
  const configured = 'a-long-configured-admin-token';
  assert.equal(tokens.bootstrap({ dataDir: dir, configured, log }).token, configured);
  const row = tokens.verify(configured)!;
  assert.equal(row.name, 'admin');
  tokens.bootstrap({ dataDir: dir, configured, log });
  assert.equal(tokens.list().length, 1, 'idempotent across restarts');
  tokens.create('other', 'admin');
  tokens.revoke(row.id);
  assert.equal(tokens.bootstrap({ dataDir: dir, configured, log }).token, undefined);
  assert.equal(tokens.verify(configured), undefined);
  assert.equal(tokens.isRevoked(configured), true);
});
