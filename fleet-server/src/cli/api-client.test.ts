import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveToken } from './api-client.js';

test('resolveToken: --token, then EDGELOOP_TOKEN, then server.json / admin.token only for the server they describe', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'edgeloop-token-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const url = 'http://127.0.0.1:8460';
  assert.equal(resolveToken({}, {}, cwd, url), undefined);
  mkdirSync(join(cwd, '.edgeloop', 'fleet'), { recursive: true });
  writeFileSync(join(cwd, '.edgeloop', 'fleet', 'admin.token'), 'from-file\n');
  writeFileSync(join(cwd, '.edgeloop', 'server.json'), JSON.stringify({ httpUrl: `${url}/` }));
  assert.equal(resolveToken({}, {}, cwd, url), 'from-file');
  writeFileSync(join(cwd, '.edgeloop', 'server.json'), JSON.stringify({ httpUrl: url, token: 'from-server-json' }));
  assert.equal(resolveToken({}, {}, cwd, url), 'from-server-json');
  assert.equal(
    resolveToken({}, {}, cwd, 'http://other.example:8460'),
    undefined,
    'a local token never goes to another server',
  );
  assert.equal(resolveToken({}, { EDGELOOP_TOKEN: 'from-env' }, cwd, url), 'from-env');
  assert.equal(resolveToken({ token: 'from-flag' }, { EDGELOOP_TOKEN: 'from-env' }, cwd, url), 'from-flag');
});
