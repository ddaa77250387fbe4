import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCa } from './api-client.js';

test('resolveCa: --ca, then EDGELOOP_CA, then the CA server.json names, only for the server it describes', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'edgeloop-ca-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const url = 'https://127.0.0.1:8460';
  const file = (name: string) => {
    writeFileSync(join(cwd, name), `${name}-pem`);
    return join(cwd, name);
  };
  assert.equal(resolveCa({}, {}, cwd, url), undefined, 'nothing configured: the system trust store');
  mkdirSync(join(cwd, '.edgeloop'));
  writeFileSync(join(cwd, '.edgeloop', 'server.json'), JSON.stringify({ httpUrl: url, ca: file('lab.crt') }));
  assert.equal(resolveCa({}, {}, cwd, url), 'lab.crt-pem');
  assert.equal(
    resolveCa({}, {}, cwd, 'https://fleet.example:8460'),
    undefined,
    'the local CA is not trusted for another server',
  );
  assert.equal(resolveCa({}, { EDGELOOP_CA: file('env.crt') }, cwd, url), 'env.crt-pem');
  assert.equal(resolveCa({ ca: file('flag.crt') }, { EDGELOOP_CA: file('env.crt') }, cwd, url), 'flag.crt-pem');
  assert.throws(
    () => resolveCa({ ca: join(cwd, 'missing.crt') }, {}, cwd, url),
    /cannot read the CA certificate .*missing\.crt \(--ca\).*pass the fleet's CA with --ca FILE/,
  );
});
