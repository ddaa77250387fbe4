import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openAgentDb } from '../store/agent-db.js';
import { bufferWriteProbe, checkReadiness } from './readiness.js';

test('the buffer probe passes on a writable database and leaves nothing behind', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ready-'));
  const db = openAgentDb(join(dir, 'agent.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(bufferWriteProbe(db)(), undefined);
  assert.deepEqual(db.prepare("SELECT count(*) AS n FROM kv WHERE key = 'ready-probe'").get(), { n: 0 }, 'rolled back');
  assert.equal(db.inTransaction, false);
});

test('a read-only or closed database fails the probe with the reason', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ready-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  openAgentDb(join(dir, 'agent.db')).close();
  const readonly = new Database(join(dir, 'agent.db'), { readonly: true });
  assert.match(bufferWriteProbe(readonly)() ?? '', /readonly/i);
  assert.equal(readonly.inTransaction, false);
  readonly.close();
  assert.match(bufferWriteProbe(readonly)() ?? '', /not open/);
});

test('ready needs an active model and a writable buffer; each missing piece says what to do', () => {
  assert.deepEqual(
    checkReadiness(1, () => undefined),
    { ready: true, reasons: [] },
  );
  const neither = checkReadiness(0, () => 'disk I/O error');
  assert.equal(neither.ready, false);
  assert.match(neither.reasons[0]!, /no model is active yet; deploy one/);
  assert.match(neither.reasons[1]!, /not writable \(disk I\/O error\); check the data directory/);
});
