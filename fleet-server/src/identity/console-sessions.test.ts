import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_LIFETIME_MS } from '@edgeloop/protocol/rest';
import { openFleetStore } from '../store/open-fleet-store.js';
import { startTestPostgres, testPostgresSkip } from '../testing.js';
import { AdminTokens } from './admin-tokens.js';
import { ConsoleSessions, csrfTokenOf } from './console-sessions.js';

async function scratch(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-sessions-'));
  const path = join(dir, 'fleet.db');
  const store = await openFleetStore({ sqlitePath: path });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const tokens = new AdminTokens(store);
  return { path, store, tokens, sessions: new ConsoleSessions(store, tokens) };
}

test('a session acts as its token for 12 hours; its CSRF token is derived from the id; only a digest is stored', async (t) => {
  const { path, store, tokens, sessions } = await scratch(t);
  const { token, adminToken } = await tokens.create('alice', 'admin', { role: 'operator' });
  const now = 1_000_000;
  const made = await sessions.create(token, now);
  assert.ok(made.ok);
  assert.equal(made.admin.id, adminToken.id);
  assert.equal(made.expiresAt, now + SESSION_LIFETIME_MS);
  assert.equal(made.expiresAt - now, 12 * 3_600_000);
  assert.match(made.sessionId, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(made.csrfToken, createHash('sha256').update(`csrf:${made.sessionId}`).digest('hex'));

  const resolved = await sessions.resolve(made.sessionId, now + 1000);
  assert.deepEqual(resolved && [resolved.admin.name, resolved.admin.role, resolved.csrfToken, resolved.expiresAt], [
    'alice',
    'operator',
    made.csrfToken,
    made.expiresAt,
  ]);
  assert.equal(await sessions.resolve(made.sessionId, made.expiresAt), undefined, 'ends at expiresAt');
  assert.equal((await sessions.resolve(made.sessionId, made.expiresAt - 1)) !== undefined, true);
  assert.equal(await sessions.resolve('not-a-session'), undefined);
  assert.equal(await sessions.resolve(''), undefined);
  assert.equal(await sessions.resolve('x'.repeat(10_000)), undefined);

  await store.close();
  const bytes = readFileSync(path);
  const db = await openFleetStore({ sqlitePath: path });
  t.after(() => db.close());
  assert.ok(!bytes.includes(Buffer.from(made.sessionId)), 'the session id is not at rest');
  assert.ok(!bytes.includes(Buffer.from(made.csrfToken)), 'nor its CSRF token');
  assert.ok(await db.consoleSessions.get(createHash('sha256').update(made.sessionId).digest('hex')));
});

test('a bad or revoked token opens no session; revoking a token ends its sessions; logout ends one', async (t) => {
  const { tokens, sessions, store } = await scratch(t);
  const unknown = await sessions.create('ela_nope');
  assert.ok(!unknown.ok);
  assert.match(unknown.reason, /not recognised/);
  const { token, adminToken } = await tokens.create('bob', 'admin', { role: 'viewer' });
  const a = await sessions.create(token);
  const b = await sessions.create(token);
  assert.ok(a.ok && b.ok);
  assert.notEqual(a.sessionId, b.sessionId);
  assert.notEqual(a.csrfToken, b.csrfToken, 'a CSRF token per session');
  await sessions.destroy(a.sessionId);
  assert.equal(await sessions.resolve(a.sessionId), undefined, 'logged out');
  assert.ok(await sessions.resolve(b.sessionId), 'the other session lives on');
  await sessions.destroy(a.sessionId); // twice is no error

  await tokens.revoke(adminToken.id);
  assert.equal(await sessions.resolve(b.sessionId), undefined, 'the token was revoked');
  assert.equal(await store.consoleSessions.get(createHash('sha256').update(b.sessionId).digest('hex')), undefined);
  const again = await sessions.create(token);
  assert.ok(!again.ok);
  assert.match(again.reason, /revoked/);
});

test('logging in sweeps expired sessions away', async (t) => {
  const { tokens, sessions, store } = await scratch(t);
  const { token } = await tokens.create('carol', 'admin');
  const old = await sessions.create(token, 0);
  assert.ok(old.ok);
  const oldHash = createHash('sha256').update(old.sessionId).digest('hex');
  assert.ok(await store.consoleSessions.get(oldHash));
  const fresh = await sessions.create(token, SESSION_LIFETIME_MS + 1);
  assert.ok(fresh.ok);
  assert.equal(await store.consoleSessions.get(oldHash), undefined);
  assert.equal(await sessions.sweep(Number.MAX_SAFE_INTEGER), 1);
  assert.equal(csrfTokenOf('a'), csrfTokenOf('a'));
});

test(
  'servers sharing one PostgreSQL share sessions: opened on one, used and ended on the other',
  { skip: await testPostgresSkip() },
  async (t) => {
    const db = await startTestPostgres();
    if ('skip' in db) throw new Error(db.skip);
    t.after(() => db.stop());
    const [a, b] = [await openFleetStore({ url: db.url }), await openFleetStore({ url: db.url })];
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const onA = new ConsoleSessions(a, new AdminTokens(a));
    const tokensB = new AdminTokens(b);
    const onB = new ConsoleSessions(b, tokensB);
    const { token, adminToken } = await new AdminTokens(a).create('dora', 'admin', { role: 'viewer' });
    const made = await onA.create(token);
    assert.ok(made.ok);
    const seen = await onB.resolve(made.sessionId);
    assert.deepEqual(seen && [seen.admin.name, seen.admin.role, seen.csrfToken], ['dora', 'viewer', made.csrfToken]);
    await tokensB.revoke(adminToken.id);
    assert.equal(await onA.resolve(made.sessionId), undefined, 'revoked through the other server');
  },
);
