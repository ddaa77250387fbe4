import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { generateKeyPair, encodePublicKey } from '@edgeloop/protocol';
import { ConfigError, parseAgentConfig } from '../config.js';
import { loadFleetCa, untrustedServerMessage } from './fleet-tls.js';

const KEY = encodePublicKey(generateKeyPair().publicKey);

function logged(fn: (log: pino.Logger) => void): string {
  let text = '';
  fn(pino(new Writable({ write(c: Buffer, _e, done) { text += c.toString(); done(); } })));
  return text;
}

test('the agent warns when its fleet link is plain MQTT beyond this machine, and reads the pinned CA', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-fleet-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (fleet: object) => parseAgentConfig({ deviceId: 'pi', dataDir: dir, fleet: { trustedKeys: [KEY], ...fleet } });
  assert.match(logged((log) => loadFleetCa(config({ mqttUrl: 'mqtt://192.0.2.7:18830' }), log)), /"level":40.*plain MQTT to another machine/);
  assert.equal(logged((log) => loadFleetCa(config({ mqttUrl: 'mqtt://127.0.0.1:18830' }), log)), '');
  assert.equal(logged((log) => loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883' }), log)), '');

  const ca = join(dir, 'fleet-ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n');
  const silent = pino({ level: 'silent' });
  assert.deepEqual(loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883', ca }), silent), { pem: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n', file: ca });
  assert.throws(() => loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883', ca: join(dir, 'gone.pem') }), silent), (err: Error) =>
    err instanceof ConfigError && /cannot read fleet\.ca .*gone\.pem \(ENOENT\).*enroll again with --ca-fingerprint/.test(err.message));
  assert.match(untrustedServerMessage('fleet broker', 'SELF_SIGNED_CERT_IN_CHAIN', { pem: '', file: ca }), /not signed by the CA pinned at enrollment \(fleet\.ca=.*fleet-ca\.pem; SELF_SIGNED_CERT_IN_CHAIN\): re-enroll/);
});
