/**
 * MosquittoSync over a real SQLite store and identity service, without a broker: what lands in
 * the password file and the ACL file on issue / disable / enable / revoke, what the store holds,
 * which sessions a reload closes, how changes made elsewhere (another server) are picked up, and
 * how reloads are asked for. That a real Mosquitto accepts these files is
 * test/security/mosquitto-acl.test.ts; two servers on one Mosquitto, test/fault/mosquitto-cluster.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES } from '@edgeloop/protocol';
import { IdentityService } from '../identity/identity-service.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { devicePatternLines, formatAclFile } from './mosquitto-acl.js';
import { hashMosquittoPassword, parsePasswordFile, verifyMosquittoPassword } from './mosquitto-passwd.js';
import { MosquittoSync, type MosquittoSyncOptions } from './mosquitto-sync.js';
import type { MosquittoSettings } from './mosquitto-settings.js';

const silent = pino({ level: 'silent' });
const SERVER = { username: 'edgeloop-server', password: 'server-secret' };

async function setup(t: { after(fn: () => Promise<void>): void }, extra: Partial<MosquittoSettings> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-mosq-sync-'));
  const settings: MosquittoSettings = {
    passwordFile: join(dir, 'etc', 'passwd'),
    aclFile: join(dir, 'etc', 'acl'),
    fileMode: 0o640,
    ...extra,
  };
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  const identity = new IdentityService(store, () => ({ mqttUrl: '', httpUrl: '', trustedKeys: [] }), {
    brokerPasswordHash: (pw) => hashMosquittoPassword(pw),
  });
  const syncs: MosquittoSync[] = [];
  const closed: string[] = [];
  const make = (more: Partial<MosquittoSettings> = {}, opts: MosquittoSyncOptions = {}) => {
    const sync = new MosquittoSync({ ...settings, ...more }, SERVER, store, silent, {
      onSessionClosed: (id) => closed.push(id),
      ...opts,
    });
    syncs.push(sync);
    return sync;
  };
  t.after(async () => {
    for (const s of syncs) await s.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const users = () => parsePasswordFile(readFileSync(settings.passwordFile, 'utf8'));
  return { dir, settings, store, identity, make, users, closed };
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
  const h = await setup(t);
  const sync = h.make();
  sync.attach(h.identity);
  await sync.start();
  assert.deepEqual([...h.users().keys()], ['edgeloop-server']);
  assert.ok(verifyMosquittoPassword('server-secret', h.users().get('edgeloop-server')!));
  assert.equal(statSync(h.settings.passwordFile).mode & 0o777, 0o640);

  // The files are written before identity answers: no waiting here.
  const one = await h.identity.issueCredential('pi-1');
  await h.identity.issueCredential('pi-2');
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-1', 'pi-2']);
  assert.ok(verifyMosquittoPassword(one, h.users().get('pi-1')!));
  assert.ok(verifyMosquittoPassword(one, (await h.store.brokerUsers.list())[0]!.passwordHash), 'the hash is stored');
  assert.ok(!readFileSync(h.settings.passwordFile, 'utf8').includes(one), 'no plaintext password in the file');

  await h.identity.setDisabled('pi-1', true);
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-2']);
  await h.identity.setDisabled('pi-1', false);
  assert.ok(verifyMosquittoPassword(one, h.users().get('pi-1')!), 'enabled again with the same credential');
  await h.identity.revokeCredential('pi-1');
  await h.identity.setDisabled('pi-1', true);
  await h.identity.setDisabled('pi-1', false);
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-2'], 'a revoked credential does not come back');
  assert.deepEqual(
    (await h.store.brokerUsers.list()).map((u) => u.deviceId),
    ['pi-2'],
    'revoking removes the stored hash',
  );
  const rotated = await h.identity.issueCredential('pi-2');
  assert.ok(verifyMosquittoPassword(rotated, h.users().get('pi-2')!));
  assert.deepEqual(h.closed, [], 'no reload configured: no session is reported closed');
  assert.deepEqual(readdirSync(join(h.dir, 'etc')).sort(), ['acl', 'passwd'], 'no temp files left behind');
  assert.deepEqual(sync.status(), { writer: true, devices: 1, enabled: 1, writes: 7, reloads: 0, lastError: null });
});

test('sessions to close come from the diff: disabled, revoked and rotated devices, once each', async (t) => {
  const h = await setup(t, { reload: { command: 'true' } });
  const sync = h.make();
  sync.attach(h.identity);
  await sync.start();
  for (const id of ['pi-1', 'pi-2', 'pi-3', 'pi-4']) await h.identity.issueCredential(id);
  await sync.settled();
  assert.deepEqual(h.closed, [], 'a new device closes nothing');
  await h.identity.setDisabled('pi-1', true);
  await h.identity.revokeCredential('pi-2');
  await h.identity.issueCredential('pi-3');
  await sync.settled();
  assert.deepEqual(h.closed.sort(), ['pi-1', 'pi-2', 'pi-3']);
  const writes = sync.status().writes;
  await sync.sync('nothing changed');
  assert.equal(sync.status().writes, writes, 'unchanged content is neither rewritten nor reloaded');
});

test('changes made by another server reach the files at the next poll; only the writer writes', async (t) => {
  const h = await setup(t);
  // "Another server": the same store, no writer attached to its identity.
  const elsewhere = new IdentityService(h.store, () => ({ mqttUrl: '', httpUrl: '', trustedKeys: [] }), {
    brokerPasswordHash: (pw) => hashMosquittoPassword(pw),
  });
  const follower = h.make({}, { pollMs: 20 });
  follower.attach(h.identity);
  await h.identity.issueCredential('pi-0');
  assert.ok(!existsSync(h.settings.passwordFile), 'a server that does not lead writes nothing');
  assert.equal(follower.status().writer, false);

  const leader = h.make({}, { pollMs: 20 });
  await leader.start();
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-0'], 'the first pass rebuilds from the store');
  const pw = await elsewhere.issueCredential('pi-5');
  await waitUntil(() => h.users().has('pi-5'));
  assert.ok(verifyMosquittoPassword(pw, h.users().get('pi-5')!));
  await elsewhere.setDisabled('pi-5', true);
  await waitUntil(() => !h.users().has('pi-5'));

  // Lost the lead: a change is no longer written; the next writer's first pass catches up.
  await leader.stop();
  await elsewhere.setDisabled('pi-5', false);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!h.users().has('pi-5'));
  await follower.start();
  assert.ok(h.users().has('pi-5'));
});

test('a start from an older version imports mosquitto-users.json once and keeps the server line', async (t) => {
  const h = await setup(t);
  const first = h.make();
  await first.start();
  const serverLine = h.users().get('edgeloop-server');
  await first.stop();
  await h.identity.issueCredential('pi-1');
  await h.identity.issueCredential('pi-2');
  await h.store.brokerUsers.remove('pi-1'); // as stored before hashes lived in the store
  await h.store.brokerUsers.remove('pi-2');
  const legacy = join(h.dir, 'mosquitto-users.json');
  const hash = hashMosquittoPassword('from-the-old-file');
  writeFileSync(
    legacy,
    JSON.stringify({
      v: 1,
      devices: { 'pi-1': { hash, enabled: true }, 'pi-gone': { hash, enabled: true } },
    }),
  );
  const second = h.make();
  assert.equal(second.serverUserWritten(), true);
  assert.equal(await second.importLegacy(legacy), 1, 'only devices that still hold a credential');
  assert.ok(!existsSync(legacy) && existsSync(`${legacy}.imported`));
  assert.equal(await second.importLegacy(legacy), 0, 'read once');
  await second.start();
  assert.equal(h.users().get('edgeloop-server'), serverLine, 'unchanged password, unchanged line');
  assert.deepEqual([...h.users().keys()], ['edgeloop-server', 'pi-1']);
  assert.equal(h.users().get('pi-1'), hash);
});

test('include files are merged, existing mode and group are kept, and a reload command runs once per burst', async (t) => {
  const h = await setup(t);
  const includePasswords = join(h.dir, 'others.passwd');
  const includeAcl = join(h.dir, 'others.acl');
  writeFileSync(
    includePasswords,
    `# other apps\nsensors:${hashMosquittoPassword('s')}\npi-1:${hashMosquittoPassword('stolen')}\n`,
  );
  writeFileSync(includeAcl, 'user sensors\ntopic write site/#\n');
  const marker = join(h.dir, 'reloads');
  const sync = h.make({
    includePasswordFile: includePasswords,
    includeAclFile: includeAcl,
    reload: { command: `echo x >> ${marker}` },
  });
  sync.attach(h.identity);
  await sync.start();
  const real = await h.identity.issueCredential('pi-1');
  await sync.settled();
  assert.ok(verifyMosquittoPassword(real, h.users().get('pi-1')!), 'an include line cannot override a managed device');
  assert.ok(h.users().has('sensors'));
  assert.match(readFileSync(h.settings.aclFile, 'utf8'), /user sensors\ntopic write site\/#/);

  const { chmodSync } = await import('node:fs');
  chmodSync(h.settings.passwordFile, 0o600);
  await Promise.all(['pi-2', 'pi-3', 'pi-4'].map((id) => h.identity.issueCredential(id)));
  await sync.settled();
  assert.equal(statSync(h.settings.passwordFile).mode & 0o777, 0o600, "the operator's mode survives a rewrite");
  const reloads = readFileSync(marker, 'utf8').trim().split('\n').length;
  assert.ok(reloads >= 2 && reloads < 5, `reloads coalesced: ${reloads} for 4 changes`);
});

test('a reload that cannot be done is reported with what to check, and the files are still written', async (t) => {
  const h = await setup(t, { reload: { pidFile: '/nonexistent/mosquitto.pid' } });
  const sync = h.make();
  await sync.start();
  assert.match(sync.status().lastError ?? '', /cannot signal Mosquitto to reload.*pid_file/);
  assert.ok(h.users().has('edgeloop-server'));
});

test('a failed reload is tried again at the next poll until Mosquitto has loaded the files', async (t) => {
  const h = await setup(t);
  const broken = join(h.dir, 'broken');
  const marker = join(h.dir, 'reloads');
  writeFileSync(broken, '');
  // Fails while the "broken" file exists (systemctl refusing, a pid file briefly stale).
  const sync = h.make({ reload: { command: `test ! -e ${broken} && echo x >> ${marker}` } }, { pollMs: 20 });
  sync.attach(h.identity);
  await sync.start();
  await h.identity.issueCredential('pi-1');
  await sync.settled();
  assert.match(sync.status().lastError ?? '', /reload command failed/);
  assert.ok(h.users().has('pi-1'), 'the files are written');
  rmSync(broken);
  await waitUntil(() => existsSync(marker));
  await sync.settled();
  assert.equal(sync.status().lastError, null, 'the error clears once a reload succeeded');
});

test(
  'a stale pid file naming another process is not signalled',
  { skip: process.platform !== 'linux' && 'needs /proc' },
  async (t) => {
    const h = await setup(t);
    const pidFile = join(h.dir, 'stale.pid');
    writeFileSync(pidFile, `${process.pid}\n`); // this test runner: SIGHUP would kill it
    const sync = h.make({ reload: { pidFile } });
    await sync.start();
    assert.match(sync.status().lastError ?? '', /not mosquitto \(a stale pid file\?\)/);
    assert.equal(sync.status().reloads, 0);
  },
);

async function waitUntil(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
