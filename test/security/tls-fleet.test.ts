/**
 * Security: every link between device and fleet is encrypted and authenticated. An agent
 * enrolled over HTTPS with the CA fingerprint `edgeloop tokens create` prints runs predictions,
 * syncs them over MQTT-over-TLS and takes a signed update downloaded over HTTPS. A wrong
 * fingerprint is refused before anything is sent; a server that comes back with a certificate
 * from another CA is refused by the enrolled agent, with a clear log line. Certificates are
 * made at run time in the test's temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main as agentCli } from '@edgeloop/agent/cli';
import { loadAgentConfig, parseAgentConfig, startAgent, type RunningAgent } from '@edgeloop/agent';
import { fetchWithCa } from '@edgeloop/protocol';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { TEST_ADMIN_TOKEN } from '../support/fleet-client.js';
import { runCli, startServerProcess } from '../support/processes.js';
import { memoryLogger, startTlsFleet } from '../support/tls.js';

const DEVICE = 'tls-pi';

async function agentEnroll(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await agentCli(['enroll', ...args], {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
  });
  return { code, out, err };
}

test(
  'an agent enrolled over HTTPS with the pinned CA predicts, syncs over mqtts and takes a signed update over HTTPS',
  { timeout: 120_000 },
  async (t) => {
    const tmp = tempDir('tls-fleet');
    const server = await startTlsFleet(join(tmp.dir, 'fleet'));
    const running: { agent?: RunningAgent } = {};
    t.after(async () => {
      await running.agent?.close();
      await server.close();
      tmp.cleanup();
    });
    assert.match(server.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.mqttUrl, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const keyDir = join(tmp.dir, 'fleet', 'tls');
    assert.equal(statSync(keyDir).mode & 0o777, 0o700);
    for (const f of ['ca.key', 'server.key', 'ca.crt', 'server.crt'])
      assert.equal(statSync(join(keyDir, f)).mode & 0o777, 0o600, f);

    // Plain HTTP to the HTTPS port gets nothing; the CLI without the CA refuses the server's certificate.
    await assert.rejects(fetch(server.httpUrl.replace('https:', 'http:') + '/api/v1/health'));
    const untrusted = await runCli(['tokens', 'create'], server.httpUrl);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /presented a certificate the CLI does not trust .*--ca FILE/);

    // The operator makes a token; the CLI prints the ready-to-paste enroll command with the fingerprint.
    const created = await runCli(['tokens', 'create', '--ca', server.tls.caFile], server.httpUrl);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const command = /edgeloop-agent enroll --fleet (\S+) --token <token> --ca-fingerprint (sha256:[0-9a-f]{64})/.exec(
      created.stderr,
    );
    assert.ok(command, created.stderr);
    assert.equal(command[1], server.httpUrl);
    assert.equal(command[2], server.tls.caFingerprint);

    const configPath = join(tmp.dir, 'device', 'edgeloop-agent.json');
    const enrolled = await agentEnroll([
      '--fleet',
      server.httpUrl,
      '--token',
      token,
      '--ca-fingerprint',
      command[2],
      '--device-id',
      DEVICE,
      '--config',
      configPath,
      '--data',
      join(tmp.dir, 'device', 'data'),
      '--api-port',
      '0',
    ]);
    assert.equal(enrolled.code, 0, enrolled.err);
    assert.match(enrolled.out, /trusting only it/);
    const config = loadAgentConfig(configPath);
    assert.equal(config.fleet.mqttUrl, server.mqttUrl);
    assert.equal(config.fleet.ca, join(tmp.dir, 'device', 'fleet-ca.pem'));
    assert.equal(statSync(config.fleet.ca).mode & 0o777, 0o600);
    assert.equal(
      readFileSync(config.fleet.ca, 'utf8').trim(),
      readFileSync(server.tls.caFile, 'utf8').trim(),
      "the pinned CA is the fleet's CA",
    );

    // A sensor on the fleet broker: the agent's second connection (sensor link) also uses the pinned CA.
    const sensors = {
      brokers: {},
      bindings: [
        {
          name: 'labels',
          broker: 'fleet',
          topic: 'site/labels',
          payload: { format: 'json', valuePath: 'mm', correlationPath: 'request' },
          model: 'distance',
          join: { by: 'correlation' },
          holdMs: 0,
        },
      ],
    };
    const agent = (running.agent = await startAgent(
      parseAgentConfig({ ...config, sync: { ...config.sync, flushIntervalMs: 10 }, sensors }),
      memoryLogger('silent').log,
    ));
    await waitFor(
      'the agent online over mqtts',
      async () => (await server.devices.get(DEVICE))?.online === true || undefined,
    );
    await server.deployments.assign('distance', 1, [DEVICE]);
    await waitFor(
      'v1 active',
      async () => (await server.devices.get(DEVICE))?.models.some((m) => m.version === 1) || undefined,
    );

    const answer = await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'over-tls'));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const synced = await waitFor('the record synced over mqtts', async () =>
      (await server.telemetry.query({ device: DEVICE, limit: 10 })).find((r) => r.requestId === 'over-tls'),
    );
    assert.equal(synced.version, 1);
    await server.publish('site/labels', Buffer.from(JSON.stringify({ request: 'over-tls', mm: 123 })), true);
    await waitFor("the sensor value joined over the sensor link's mqtts connection", async () =>
      (await server.telemetry.query({ device: DEVICE, limit: 10 })).find(
        (r) => r.requestId === 'over-tls' && r.reference === 123,
      ),
    );

    // A signed v2, downloaded over HTTPS (bytes served by the HTTPS listener) and activated.
    const servedBefore = await artifactBytesServed(server.httpUrl, server.tls.caFile);
    await server.registry.register({ name: 'distance', bytes: sample.v2, metadata: sample.metadata as never });
    await server.deployments.assign('distance', 2, [DEVICE]);
    await waitFor(
      'v2 active',
      async () => (await server.devices.get(DEVICE))?.models.some((m) => m.version === 2) || undefined,
      60_000,
    );
    assert.ok(
      (await artifactBytesServed(server.httpUrl, server.tls.caFile)) - servedBefore >= sample.v2.length,
      'v2 came over HTTPS',
    );
    const after = await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(0.5, 'v2-over-tls'));
    assert.equal(after.body.version, 2);
  },
);

test(
  'a wrong CA fingerprint is refused before the token is sent; plain http to another host needs --insecure',
  { timeout: 60_000 },
  async (t) => {
    const tmp = tempDir('tls-pin');
    const server = await startTlsFleet(join(tmp.dir, 'fleet'));
    t.after(async () => {
      await server.close();
      tmp.cleanup();
    });
    const { token, enrollmentToken } = await server.identity.enrollmentTokens.create({}, 'test');
    const configPath = join(tmp.dir, 'device.json');
    const wrong = `sha256:${'ab'.repeat(32)}`;
    const refused = await agentEnroll([
      '--fleet',
      server.httpUrl,
      '--token',
      token,
      '--ca-fingerprint',
      wrong,
      '--device-id',
      'pin-pi',
      '--config',
      configPath,
    ]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.err,
      new RegExp(
        `the server's certificate chain does not contain the CA ${wrong} \\(it presents sha256:[0-9a-f]{64}, ${server.tls.caFingerprint}\\); check the fingerprint printed by "edgeloop tokens create"`,
      ),
    );
    assert.equal(existsSync(configPath), false, 'no config written');
    assert.equal(
      (await server.identity.enrollmentTokens.get(enrollmentToken.id))?.usesLeft,
      1,
      'the token never reached the server',
    );
    assert.equal(await server.devices.get('pin-pi'), undefined);

    const malformed = await agentEnroll([
      '--fleet',
      server.httpUrl,
      '--token',
      token,
      '--ca-fingerprint',
      'ab12',
      '--config',
      configPath,
    ]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.err, /not a CA fingerprint; give "sha256:" followed by 64 hex digits/);

    // https without a pin: the system trust store, which does not know the lab CA.
    const unpinned = await agentEnroll([
      '--fleet',
      server.httpUrl,
      '--token',
      token,
      '--device-id',
      'pin-pi',
      '--config',
      configPath,
    ]);
    assert.equal(unpinned.code, 2);
    assert.match(
      unpinned.err,
      /TLS: the fleet server at .* presented a certificate that does not verify .*--ca-fingerprint/,
    );

    const plain = await agentEnroll([
      '--fleet',
      'http://192.0.2.10:8460',
      '--token',
      token,
      '--device-id',
      'pin-pi',
      '--config',
      configPath,
    ]);
    assert.equal(plain.code, 2);
    assert.match(plain.err, /plain http to another machine.*--insecure/);
    assert.equal((await server.identity.enrollmentTokens.get(enrollmentToken.id))?.usesLeft, 1);
  },
);

test(
  'an enrolled agent refuses a fleet server that comes back with a certificate from another CA',
  { timeout: 90_000 },
  async (t) => {
    const tmp = tempDir('tls-swap');
    const dataDir = join(tmp.dir, 'fleet');
    let server = await startTlsFleet(dataDir);
    const logs = memoryLogger('info');
    const running: { agent?: RunningAgent } = {};
    t.after(async () => {
      await running.agent?.close();
      await server.close();
      tmp.cleanup();
    });
    const { token } = await server.identity.enrollmentTokens.create({}, 'test');
    const configPath = join(tmp.dir, 'device.json');
    const enrolled = await agentEnroll([
      '--fleet',
      server.httpUrl,
      '--token',
      token,
      '--ca-fingerprint',
      server.tls.caFingerprint,
      '--device-id',
      'swap-pi',
      '--config',
      configPath,
      '--data',
      join(tmp.dir, 'swap-data'),
      '--api-port',
      '0',
    ]);
    assert.equal(enrolled.code, 0, enrolled.err);
    const config = loadAgentConfig(configPath);
    const ports = { http: Number(new URL(server.httpUrl).port), mqtt: Number(new URL(server.mqttUrl).port) };
    const firstCa = server.tls.caFingerprint;

    // Same addresses, same database, a new CA (someone else's server, or a CA the operator replaced).
    await server.close();
    rmSync(join(dataDir, 'tls'), { recursive: true, force: true });
    server = await startTlsFleet(dataDir, ports);
    assert.notEqual(server.tls.caFingerprint, firstCa);

    const agent = (running.agent = await startAgent(
      { ...config, fleet: { ...config.fleet, reconnectMinMs: 200, reconnectMaxMs: 400 } },
      logs.log,
    ));
    await waitFor(
      'the refusal in the agent log',
      () => logs.text().includes('not signed by the CA pinned at enrollment') || undefined,
    );
    assert.match(
      logs.text(),
      new RegExp(
        `TLS: the fleet broker's certificate is not signed by the CA pinned at enrollment \\(fleet.ca=${config.fleet.ca!.replaceAll('/', '\\/')}; [A-Z_]+\\): re-enroll`,
      ),
    );
    assert.equal(agent.isConnected(), false);
    assert.notEqual(
      (await server.devices.get('swap-pi'))?.online,
      true,
      'the device never reached the impostor broker',
    );
  },
);

test(
  'edgeloop serve: --tls-self-signed serves https and mqtts; plain text beyond loopback needs --insecure',
  { timeout: 90_000 },
  async (t) => {
    const tmp = tempDir('tls-serve');
    t.after(() => tmp.cleanup());
    const tls = await startServerProcess(join(tmp.dir, 'tls'), ['--tls-self-signed', '--tls-san', 'fleet.lab']);
    await tls.kill();
    assert.match(tls.ready.httpUrl, /^https:/);
    assert.match(tls.ready.mqttUrl, /^mqtts:/);
    const info = JSON.parse(readFileSync(join(tmp.dir, 'tls', 'server.json'), 'utf8')) as {
      ca: string;
      caFingerprint: string;
    };
    assert.equal(info.ca, join(tmp.dir, 'tls', 'tls', 'ca.crt'), 'server.json points the CLI at the CA');
    assert.match(info.caFingerprint, /^sha256:[0-9a-f]{64}$/);

    const refused = await startServerProcess(join(tmp.dir, 'plain'), ['--http-host', '0.0.0.0']).then(
      async (p) => {
        await p.kill();
        return 'started';
      },
      (err: Error) => err.message,
    );
    assert.match(refused, /refusing to send HTTP on 0\.0\.0\.0 without TLS.*--tls-self-signed.*--insecure/);
    const insecure = await startServerProcess(join(tmp.dir, 'plain'), ['--http-host', '0.0.0.0', '--insecure']);
    await insecure.kill();
    assert.match(insecure.logs(), /plain HTTP\/MQTT beyond this machine \(--insecure\)/);
  },
);

async function artifactBytesServed(httpUrl: string, caFile: string): Promise<number> {
  const res = await fetchWithCa(
    `${httpUrl}/api/v1/health`,
    { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } },
    readFileSync(caFile, 'utf8'),
  );
  return ((await res.json()) as { artifactBytesServed: number }).artifactBytesServed;
}
