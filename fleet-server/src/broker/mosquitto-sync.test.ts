/**
 * MosquittoSync without a broker: what lands in the password file, the ACL file and the
 * credential store on issue / disable / enable / revoke / reconcile, and how reloads are asked
 * for. That a real Mosquitto accepts these files is test/security/mosquitto-acl.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES } from '@edgeloop/protocol';
import { devicePatternLines, formatAclFile } from './mosquitto-acl.js';
import { hashMosquittoPassword, parsePasswordFile, verifyMosquittoPassword } from './mosquitto-passwd.js';
import { MosquittoSync } from './mosquitto-sync.js';
import type { MosquittoSettings } from './mosquitto-settings.js';

const silent = pino({ level: 'silent' });

function setup(extra: Partial<MosquittoSettings> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-mosq-sync-'));
  const settings: MosquittoSettings = {
    passwordFile: join(dir, 'etc', 'passwd'),
    aclFile: join(dir, 'etc', 'acl'),
    fileMode: 0o640,
    ...extra,
  };
  const make = () =>
    new MosquittoSync(
      settings,
      { username: 'edgeloop-server', password: 'server-secret' },
      join(dir, 'state', 'mosquitto-users.json'),
      silent,
    );
  const users = () => parsePasswordFile(readFileSync(settings.passwordFile, 'utf8'));
  return { dir, settings, make, users, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('$7$ hashes verify with the right password only, and every hash has its own salt', () => {
  const a = hashMosquittoPassword('pw-1');
  assert.match(a, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  assert.ok(verifyMosquittoPassword('pw-1', a));
  assert.ok(!verifyMosquittoPassword('pw-2', a));
  assert.notEqual(hashMosquittoPassword('pw-1'), a);
  assert.throws(() => hashMosquittoPassword(''), /empty/);
});

test('the ACL is derived from the protocol lists: every channel once, writes for publishes, reads for subscribes', () => {
  const lines = devicePatternLines();
  assert.equal(lines.length, new Set([...DEVICE_PUBLISHES, ...DEVICE_SUBSCRIBES]).size);
  for (const c of DEVICE_PUBLISHES)
    assert.ok(
      lines.some((l) => /^pattern (write|readwrite) edgeloop\/v1\/devices\/%u\//.test(l) && l.endsWith(`/${c}`)),
      c,
    );
  for (const c of DEVICE_SUBSCRIBES)
    assert.ok(
      lines.some((l) => /^pattern (read|readwrite) edgeloop\/v1\/devices\/%u\//.test(l) && l.endsWith(`/${c}`)),
      c,
    );
  const acl = formatAclFile({ serverUsername: 'edgeloop-server', extra: 'user sensors\ntopic read site/#' });
  // Operator lines first; the server's block last so it cannot swallow them.
  assert.ok(acl.indexOf('user sensors') < acl.indexOf('pattern '));
  assert.ok(acl.trimEnd().endsWith('user edgeloop-server\ntopic readwrite edgeloop/v1/#'));
  assert.throws(() => formatAclFile({ serverUsername: 'bad user' }), /cannot be a Mosquitto username/);
});

test('issue, disable, enable, revoke: the password file follows; the plaintext is never written', async (t) => {
  const h = setup();
  t.after(h.cleanup);
  const sync = h.make();
  await sync.start();
  assert.deepEqual([...h.users().keys()], ['edgeloop-server']);
  assert.ok(verifyMosquittoPassword('server-secret', h.users().get('edgeloop-server')!));
  assert.equal(statSync(h.settings.passwordFile).mode & 0o777, 0o640);
  assert.equal(statSync(join(h.dir, 'state', 'mosquitto-users.json')).mode & 0o777, 0o600);

  const identity = new EventEmitter();
  sync.attach(identity);
  identity.emit('credential-issued', { deviceId: 'pi-1', password: 'device-one-password' });
  identity.emit('credential-issued', { deviceId: 'pi-2', password: 'device-two-password' });
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-1', 'pi-2']);
  assert.ok(verifyMosquittoPassword('device-one-password', h.users().get('pi-1')!));
  for (const f of [h.settings.passwordFile, join(h.dir, 'state', 'mosquitto-users.json')]) {
    assert.ok(!readFileSync(f, 'utf8').includes('device-one-password'), `${f} holds a plaintext password`);
  }

  identity.emit('device-disabled', { deviceId: 'pi-1' });
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-2']);
  identity.emit('device-enabled', { deviceId: 'pi-1' });
  assert.ok(
    verifyMosquittoPassword('device-one-password', h.users().get('pi-1')!),
    'enabled again with the same credential',
  );
  identity.emit('credential-revoked', { deviceId: 'pi-1' });
  identity.emit('device-enabled', { deviceId: 'pi-1' });
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-2'], 'a revoked credential does not come back');
  assert.throws(() => sync.issue('edgeloop-server', 'x'), /fleet server's own MQTT username/);
  assert.deepEqual(readdirSync(join(h.dir, 'etc')).sort(), ['acl', 'passwd'], 'no temp files left behind');
  assert.equal(sync.status().lastError, null);
});

test('a restart keeps credentials and the server line; reconcile drops devices identity no longer knows', async (t) => {
  const h = setup();
  t.after(h.cleanup);
  const first = h.make();
  await first.start();
  first.issue('pi-1', 'one');
  first.issue('pi-2', 'two');
  first.issue('pi-3', 'three');
  const serverLine = h.users().get('edgeloop-server');

  const second = h.make();
  await second.start();
  assert.equal(h.users().get('edgeloop-server'), serverLine, 'unchanged password, unchanged line');
  second.reconcile([
    { deviceId: 'pi-1', enabled: true },
    { deviceId: 'pi-2', enabled: false },
    { deviceId: 'pi-4', enabled: true },
  ]);
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-1']);
  assert.deepEqual(second.status(), { devices: 2, enabled: 1, writes: 2, reloads: 0, lastError: null });
});

test('include files are merged, existing mode and group are kept, and a reload command runs once per burst', async (t) => {
  const h = setup();
  t.after(h.cleanup);
  const includePasswords = join(h.dir, 'others.passwd');
  const includeAcl = join(h.dir, 'others.acl');
  writeFileSync(
    includePasswords,
    `# other apps\nsensors:${hashMosquittoPassword('s')}\npi-1:${hashMosquittoPassword('stolen')}\n`,
  );
  writeFileSync(includeAcl, 'user sensors\ntopic write site/#\n');
  const marker = join(h.dir, 'reloads');
  const sync = new MosquittoSync(
    {
      ...h.settings,
      includePasswordFile: includePasswords,
      includeAclFile: includeAcl,
      reload: { command: `echo x >> ${marker}` },
    },
    { username: 'edgeloop-server', password: 'server-secret' },
    join(h.dir, 'state.json'),
    silent,
  );
  await sync.start();
  sync.issue('pi-1', 'real');
  await sync.settled();
  assert.ok(
    verifyMosquittoPassword('real', h.users().get('pi-1')!),
    'an include line cannot override a managed device',
  );
  assert.ok(h.users().has('sensors'));
  assert.match(readFileSync(h.settings.aclFile, 'utf8'), /user sensors\ntopic write site\/#/);

  const { chmodSync } = await import('node:fs');
  chmodSync(h.settings.passwordFile, 0o600);
  sync.issue('pi-2', 'two');
  sync.issue('pi-3', 'three');
  sync.issue('pi-4', 'four');
  await sync.settled();
  assert.equal(statSync(h.settings.passwordFile).mode & 0o777, 0o600, "the operator's mode survives a rewrite");
  const reloads = readFileSync(marker, 'utf8').trim().split('\n').length;
  assert.ok(reloads >= 3 && reloads < 6, `reloads coalesced: ${reloads} for 5 changes`);
});

test('a reload that cannot be done is reported with what to check, and the files are still written', async (t) => {
  const h = setup({ reload: { pidFile: '/nonexistent/mosquitto.pid' } });
  t.after(h.cleanup);
  const sync = h.make();
  await sync.start();
  assert.match(sync.status().lastError ?? '', /cannot signal Mosquitto to reload.*pid_file/);
  assert.ok(h.users().has('edgeloop-server'));
});

test(
  'a stale pid file naming another process is not signalled',
  { skip: process.platform !== 'linux' && 'needs /proc' },
  async (t) => {
    const h = setup();
    t.after(h.cleanup);
    const pidFile = join(h.dir, 'stale.pid');
    writeFileSync(pidFile, `${process.pid}\n`); // this test runner: SIGHUP would kill it
    const sync = new MosquittoSync(
      { ...h.settings, reload: { pidFile } },
      { username: 'edgeloop-server', password: 'server-secret' },
      join(h.dir, 'state.json'),
      silent,
    );
    await sync.start();
    assert.match(sync.status().lastError ?? '', /not mosquitto \(a stale pid file\?\)/);
    assert.equal(sync.status().reloads, 0);
  },
);
