import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  fn(
    pino(
      new Writable({
        write(c: Buffer, _e, done) {
          text += c.toString();
          done();
        },
      }),
    ),
  );
  return text;
}

test('the agent warns when its fleet link is plain MQTT beyond this machine, and reads the pinned CA', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-fleet-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (fleet: object) =>
    parseAgentConfig({ deviceId: 'pi', dataDir: dir, fleet: { trustedKeys: [KEY], ...fleet } });
  assert.match(
    logged((log) => loadFleetCa(config({ mqttUrl: 'mqtt://192.0.2.7:18830' }), log)),
    /"level":40.*plain MQTT to another machine/,
  );
  assert.equal(
    logged((log) => loadFleetCa(config({ mqttUrl: 'mqtt://127.0.0.1:18830' }), log)),
    '',
  );
  assert.equal(
    logged((log) => loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883' }), log)),
    '',
  );

  const ca = join(dir, 'fleet-ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n');
  const silent = pino({ level: 'silent' });
  assert.deepEqual(loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883', ca }), silent), {
    pem: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n',
    file: ca,
  });
  assert.throws(
    () => loadFleetCa(config({ mqttUrl: 'mqtts://fleet.lab:8883', ca: join(dir, 'gone.pem') }), silent),
    (err: Error) =>
      err instanceof ConfigError &&
      /cannot read fleet\.ca .*gone\.pem \(ENOENT\).*enroll again with --ca-fingerprint/.test(err.message),
  );
  assert.match(
    untrustedServerMessage('fleet broker', 'SELF_SIGNED_CERT_IN_CHAIN', { pem: '', file: ca }),
    /not signed by the CA pinned at enrollment \(fleet\.ca=.*fleet-ca\.pem; SELF_SIGNED_CERT_IN_CHAIN\): re-enroll/,
  );
});

test('edgeloop-agent init --ca names the fleet CA in fleet.ca; a missing file is refused', async (t) => {
  const { main } = await import('../cli.js');
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-init-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'site-ca.pem');
  writeFileSync(ca, 'pem');
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const args = [
    'init',
    '--device-id',
    'pi',
    '--mqtt-url',
    'mqtts://fleet.lab:8883',
    '--trusted-key',
    KEY,
    '--data',
    join(dir, 'data'),
  ];
  assert.equal(await main([...args, '--ca', ca, '--config', join(dir, 'a.json')], io), 0, lines.join('\n'));
  assert.equal((JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { fleet: { ca: string } }).fleet.ca, ca);
  assert.equal(await main([...args, '--ca', join(dir, 'nope.pem'), '--config', join(dir, 'b.json')], io), 2);
  assert.match(lines.join('\n'), /--ca .*nope\.pem does not exist/);
});
