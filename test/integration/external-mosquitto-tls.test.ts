/**
 * External broker over TLS: a real Mosquitto with only a TLS listener (cafile/certfile/keyfile,
 * tls_version tlsv1.2, as docs/external-broker.md shows it) on a free port, its certificate signed
 * by a CA made at run time; the fleet server (HTTPS with the same CA) keeps its password and ACL
 * files. A device enrolled with the CA fingerprint publishes over mqtts and its telemetry arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caFingerprint, fetchWithCa } from '@edgeloop/protocol';
import { main as agentCli } from '@edgeloop/agent/cli';
import { ensureLabCertificates, labSubjectAltNames } from '@edgeloop/fleet-server/testing';
import { greyTensor, postJson, sample, tempDir, waitFor } from '../support/fixtures.js';
import { connectOnce, startMosquitto, which } from '../support/mosquitto.js';
import { startAgentProcess, startServerProcess, TEST_ADMIN_TOKEN } from '../support/processes.js';

const SERVER_PASSWORD = 'fleet-server-mqtt-password-0123456789';
const DEVICE = 'tls-ext-pi';

test(
  'external Mosquitto with a TLS listener: an agent enrolled with the CA fingerprint syncs over mqtts',
  { timeout: 180_000 },
  async (t) => {
    if (!(await which('mosquitto'))) {
      const msg = '*** mosquitto NOT INSTALLED: skipping the external-broker TLS test (apt-get install mosquitto) ***';
      console.warn(msg);
      t.skip(msg);
      return;
    }
    const tmp = tempDir('external-mosquitto-tls');
    const etc = join(tmp.dir, 'mosquitto');
    mkdirSync(etc);
    // One CA for the site: it signs Mosquitto's certificate and the fleet server's.
    const { paths } = await ensureLabCertificates(join(tmp.dir, 'site'), labSubjectAltNames());
    const ca = readFileSync(paths.caCert, 'utf8');
    const passwordFile = join(etc, 'passwd');
    const aclFile = join(etc, 'acl');
    writeFileSync(passwordFile, '', { mode: 0o640 });
    writeFileSync(aclFile, '', { mode: 0o640 });
    const broker = await startMosquitto(etc, {
      passwordFile,
      aclFile,
      usernameAsClientId: true,
      tls: { cafile: paths.caCert, certfile: paths.serverCert, keyfile: paths.serverKey },
    });
    assert.match(broker.url, /^mqtts:\/\//);
    const server = await startServerProcess(join(tmp.dir, 'fleet'), [
      '--mqtt-url',
      broker.url,
      '--mqtt-password',
      SERVER_PASSWORD,
      '--mosquitto-password-file',
      passwordFile,
      '--mosquitto-acl-file',
      aclFile,
      '--mosquitto-pid-file',
      broker.pidFile,
      '--tls-cert',
      paths.serverCert,
      '--tls-key',
      paths.serverKey,
      '--tls-ca',
      paths.caCert,
    ]);
    const stops: Array<() => Promise<unknown>> = [() => server.kill('SIGKILL'), () => broker.stop()];
    t.after(async () => {
      for (const stop of stops.reverse()) await stop();
      tmp.cleanup();
    });
    assert.match(server.ready.httpUrl, /^https:/);
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetchWithCa(
        `${server.ready.httpUrl}/api/v1${path}`,
        {
          method,
          headers: {
            authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
            ...(body instanceof FormData || body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
        },
        ca,
      );
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };

    const created = await call<{ token: string; caFingerprint?: string }>('POST', '/enrollment-tokens', {});
    assert.equal(created.caFingerprint, caFingerprint(ca));
    const configPath = join(tmp.dir, 'device', 'edgeloop-agent.json');
    let out = '';
    const code = await agentCli(
      [
        'enroll',
        '--fleet',
        server.ready.httpUrl,
        '--token',
        created.token,
        '--ca-fingerprint',
        created.caFingerprint!,
        '--device-id',
        DEVICE,
        '--config',
        configPath,
        '--data',
        join(tmp.dir, 'device', 'data'),
        '--api-port',
        '0',
      ],
      {
        out: (l) => {
          out += `${l}\n`;
        },
        err: (l) => {
          out += `${l}\n`;
        },
      },
    );
    assert.equal(code, 0, out);
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      fleet: { mqttUrl: string; username: string; password: string };
    };
    assert.equal(config.fleet.mqttUrl, broker.url, "the device is sent to Mosquitto's TLS listener");

    // Mosquitto speaks only TLS there: a plain-text client gets nowhere.
    const plain = await connectOnce(broker.url.replace('mqtts:', 'mqtt:'), {
      username: config.fleet.username,
      password: config.fleet.password,
      clientId: DEVICE,
      connectTimeout: 2000,
    });
    assert.equal(plain.ok, false);

    const agent = await startAgentProcess(configPath);
    stops.push(() => agent.kill('SIGKILL'));
    await waitFor(
      'the device online through Mosquitto over TLS',
      async () => (await call<{ device: { online: boolean } }>('GET', `/devices/${DEVICE}`)).device.online || undefined,
      30_000,
    );

    const form = new FormData();
    form.set('file', new Blob([sample.v1]), 'distance-v1.onnx');
    form.set('name', 'distance');
    form.set('metadata', JSON.stringify(sample.metadata));
    await call('POST', '/models', form);
    await call('POST', '/deployments', { model: 'distance', version: 1, devices: [DEVICE] });
    await waitFor(
      'distance v1 active',
      async () =>
        (
          await call<{ device: { models: Array<{ version: number }> } }>('GET', `/devices/${DEVICE}`)
        ).device.models.some((m) => m.version === 1) || undefined,
      60_000,
    );
    const predicted = await postJson(`${agent.ready.apiUrl}/v1/predict`, greyTensor(0.5, 'via-mosquitto-tls'));
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    await waitFor(
      'the telemetry at the server',
      async () =>
        (
          await call<{ records: Array<{ requestId: string | null }> }>('GET', `/telemetry?device=${DEVICE}&limit=100`)
        ).records.some((r) => r.requestId === 'via-mosquitto-tls') || undefined,
      30_000,
    );
  },
);
