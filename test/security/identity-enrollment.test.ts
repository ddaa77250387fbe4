/**
 * Security: enrollment tokens are limited-use, expiring and revocable; a device's
 * secret is stored hashed, a token cannot take over an enrolled device; groups and tags from the token
 * land on the device. End to end: `edgeloop-agent enroll` writes a config with which the real
 * agent connects and downloads its model.
 * Each once on each store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main as agentCli } from '@edgeloop/agent/cli';
import { loadAgentConfig, startAgent, type RunningAgent } from '@edgeloop/agent';
import type { CreatedEnrollmentToken, DeviceSummary, EnrollResponse, EnrollmentTokenSummary } from '@edgeloop/protocol';
import pino from 'pino';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { STORES, storeSkip } from '../support/stores.js';
import { connectOnce } from '../support/mosquitto.js';

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

async function enroll(
  url: string,
  token: string,
  deviceId: string,
): Promise<{ status: number; body: EnrollResponse & { error?: string } }> {
  const res = await fetch(`${url}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, deviceId }),
  });
  return { status: res.status, body: (await res.json()) as EnrollResponse & { error?: string } };
}

for (const store of STORES) {
  const skip = await storeSkip(store);
  test(
    `enrollment tokens: limited uses, expiry and revocation are enforced (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const url = h.server.httpUrl;
      const create = async (body: unknown) => {
        const res = await fetch(`${url}/api/v1/enrollment-tokens`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 201);
        return (await res.json()) as CreatedEnrollmentToken;
      };

      const twice = await create({ uses: 2, group: 'plant-1', tags: { hw: 'pi4', site: 'north' } });
      const first = await enroll(url, twice.token, 'tok-1');
      assert.equal(first.status, 200);
      assert.deepEqual(Object.keys(first.body).sort(), [
        'deviceId',
        'httpUrl',
        'mqttUrl',
        'password',
        'trustedKeys',
        'username',
      ]);
      assert.equal(first.body.username, 'tok-1');
      assert.deepEqual(first.body.trustedKeys, [h.server.publicKey]);
      assert.equal(first.body.mqttUrl, h.server.mqttUrl);
      assert.equal((await enroll(url, twice.token, 'tok-2')).status, 200);
      const third = await enroll(url, twice.token, 'tok-3');
      assert.equal(third.status, 401, 'a third device cannot use a 2-use token');
      assert.match(third.body.error!, /used up \(2 uses\).*edgeloop tokens create/);
      assert.equal(await h.server.devices.get('tok-3'), undefined, 'nothing was created for the refused device');

      // Concurrent last use: exactly one of several simultaneous enrollments gets it.
      const once = await create({});
      const racers = await Promise.all(
        ['race-1', 'race-2', 'race-3', 'race-4'].map((id) => enroll(url, once.token, id)),
      );
      assert.deepEqual(racers.map((r) => r.status).sort(), [200, 401, 401, 401]);

      // Expired: made 25 h ago with the default 24 h lifetime.
      const old = await h.server.identity.enrollmentTokens.create({}, 'test', Date.now() - 25 * 3_600_000);
      const expired = await enroll(url, old.token, 'late-1');
      assert.equal(expired.status, 401);
      assert.match(expired.body.error!, /expired at .*edgeloop tokens create/);

      const revocable = await create({ uses: 5 });
      const revoked = await fetch(`${url}/api/v1/enrollment-tokens/${revocable.enrollmentToken.id}/revoke`, {
        method: 'POST',
        headers: admin,
      });
      assert.equal(revoked.status, 200);
      const afterRevoke = await enroll(url, revocable.token, 'rev-1');
      assert.equal(afterRevoke.status, 401);
      assert.match(afterRevoke.body.error!, /revoked/);

      const list = (await (await fetch(`${url}/api/v1/enrollment-tokens`, { headers: admin })).json()) as {
        enrollmentTokens: EnrollmentTokenSummary[];
      };
      assert.deepEqual(list.enrollmentTokens.map((e) => e.status).sort(), ['expired', 'revoked', 'used-up', 'used-up']);
      assert.ok(!JSON.stringify(list).includes(twice.token), 'the listing never shows a token');

      // The token's group and tags are on the devices; the list filters by them.
      const byGroup = (await (
        await fetch(`${url}/api/v1/devices?group=plant-1&tag=hw=pi4`, { headers: admin })
      ).json()) as { devices: DeviceSummary[] };
      assert.deepEqual(
        byGroup.devices.map((d) => [d.id, d.group, d.tags]),
        [
          ['tok-1', 'plant-1', { hw: 'pi4', site: 'north' }],
          ['tok-2', 'plant-1', { hw: 'pi4', site: 'north' }],
        ],
      );
      const relabel = await fetch(`${url}/api/v1/devices/tok-2`, {
        method: 'PUT',
        headers: admin,
        body: JSON.stringify({ group: 'plant-2', tags: { hw: 'pi5' } }),
      });
      assert.equal(relabel.status, 200);
      assert.deepEqual(await h.server.devices.selectDevices({ group: 'plant-2' }), ['tok-2']);
      assert.deepEqual(await h.server.devices.selectDevices({ tags: { site: 'north' } }), ['tok-1']);

      const actions = (await h.server.audit.list({ action: 'device' })).map(
        (e) => `${e.actor} ${e.action} ${e.target}`,
      );
      assert.ok(
        actions.includes('device:tok-1 device.enroll tok-1') && actions.includes('admin device.label tok-2'),
        actions.join('\n'),
      );
    },
  );

  test(
    `a token cannot take over an enrolled device; after a revoke it enrolls again with a new secret (${store})`,
    { timeout: 60_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      t.after(() => h.close());
      const token = async () => (await h.server.identity.enrollmentTokens.create({}, 'test')).token;
      const first = await enroll(h.server.httpUrl, await token(), 'rotate-pi');
      const connect = (password: string) =>
        connectOnce(h.server.mqttUrl, { clientId: 'rotate-pi', username: 'rotate-pi', password });
      const session = await connect(first.body.password);
      assert.ok(session.ok);

      // Someone holding any other token tries to enroll as the device: refused, nothing changes.
      const spare = await token();
      const takeover = await enroll(h.server.httpUrl, spare, 'rotate-pi');
      assert.equal(takeover.status, 409);
      assert.match(takeover.body.error ?? '', /already enrolled.*edgeloop devices revoke rotate-pi/);
      assert.ok(session.client.connected, 'the real device keeps its session');
      const stillValid = await connect(first.body.password);
      assert.ok(stillValid.ok, 'the real device keeps its password');
      stillValid.client.end(true);

      // The operator revokes the old credential (the device is re-installed): it is shut out at once…
      const kicked = new Promise<void>((resolve) => session.client.once('close', () => resolve()));
      const revoke = await fetch(`${h.server.httpUrl}/api/v1/devices/rotate-pi/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      assert.equal(revoke.status, 200);
      await kicked;
      // …and enrolls again; the refused attempt did not spend the spare token's only use.
      const second = await enroll(h.server.httpUrl, spare, 'rotate-pi');
      assert.equal(second.status, 200);
      assert.notEqual(second.body.password, first.body.password);
      const old = await connect(first.body.password);
      assert.ok(!old.ok && /bad username or password/i.test(old.reason), JSON.stringify(old));
      const fresh = await connect(second.body.password);
      assert.ok(fresh.ok);
      fresh.client.end(true);
      assert.deepEqual(
        (await h.server.audit.list({ target: 'rotate-pi' })).map((e) => e.action),
        ['device.reenroll', 'device.revoke', 'device.enroll'],
      );
      const db = await h.bytesAtRest();
      assert.ok(db.includes(Buffer.from('rotate-pi')), 'the store holds the device');
      assert.ok(!db.includes(Buffer.from(second.body.password)), 'device passwords are stored hashed');
    },
  );

  test(
    `edgeloop-agent enroll writes a 0600 config with which the agent connects and downloads its model (${store})`,
    { timeout: 90_000, skip },
    async (t) => {
      const h = await startTestFleet({ store });
      const started: { agent?: RunningAgent } = {};
      // The agent first, while its broker is still there.
      t.after(async () => {
        await started.agent?.close();
        await h.close();
      });
      const { token } = await h.server.identity.enrollmentTokens.create({ tags: { line: '3' } }, 'test');
      const configPath = join(h.dir, 'enrolled-pi.json');
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
      const argv = [
        'enroll',
        '--fleet',
        h.server.httpUrl,
        '--token',
        token,
        '--device-id',
        'enrolled-pi',
        '--config',
        configPath,
        '--data',
        join(h.dir, 'enrolled-pi'),
        '--api-port',
        '0',
      ];

      assert.equal(await agentCli(argv, io), 0, err.join('\n'));
      assert.match(
        out.join('\n'),
        /enrolling device enrolled-pi with http.*\nenrolled: broker mqtt:.* as enrolled-pi.*\nwrote .*enrolled-pi\.json \(0600/,
      );
      assert.equal(statSync(configPath).mode & 0o777, 0o600);
      assert.doesNotMatch(
        out.join('\n'),
        new RegExp(loadAgentConfig(configPath).fleet.password!),
        'the password is not printed',
      );

      // Refuses to overwrite without --force; with --force, but the one-use token is spent: refused, file kept.
      const before = readFileSync(configPath, 'utf8');
      assert.equal(await agentCli(argv, io), 2);
      assert.match(err.join('\n'), /exists; pass --force/);
      assert.equal(await agentCli([...argv, '--force'], io), 2);
      assert.match(err.join('\n'), /refused the enrollment: this enrollment token has been used up/);
      assert.equal(readFileSync(configPath, 'utf8'), before);

      const config = loadAgentConfig(configPath);
      started.agent = await startAgent(
        { ...config, sync: { ...config.sync, flushIntervalMs: 10 } },
        pino({ level: 'silent' }),
      );
      await h.deploySample('enrolled-pi'); // birth over MQTT with its credentials, artifact over HTTP Basic
      assert.deepEqual((await h.server.devices.get('enrolled-pi'))?.tags, { line: '3' });
    },
  );
}
