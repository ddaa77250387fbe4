import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parseFleetConfig } from '../config.js';
import { checkPlainTransport } from './transport-policy.js';

function logSink() {
  let text = '';
  return {
    log: pino(
      new Writable({
        write(c: Buffer, _e, done) {
          text += c.toString();
          done();
        },
      }),
    ),
    text: () => text,
  };
}

test('plain HTTP/MQTT beyond loopback is refused unless --insecure; loopback and TLS start', () => {
  const config = (extra: object) => parseFleetConfig({ dataDir: '/tmp/x', ...extra });
  const quiet = logSink();
  assert.throws(
    () => checkPlainTransport(config({ http: { host: '0.0.0.0' } }), quiet.log),
    /refusing to send HTTP on 0\.0\.0\.0 without TLS.*--tls-self-signed.*--insecure/,
  );
  assert.throws(
    () => checkPlainTransport(config({ mqtt: { mode: 'embedded', host: '192.168.1.4' } }), quiet.log),
    /MQTT on 192\.168\.1\.4/,
  );

  const insecure = logSink();
  checkPlainTransport(config({ http: { host: '0.0.0.0' }, insecure: true }), insecure.log);
  assert.match(insecure.text(), /"level":40.*plain HTTP\/MQTT beyond this machine \(--insecure\)/);

  const loopback = logSink();
  checkPlainTransport(config({ http: { host: '127.0.0.1' } }), loopback.log);
  assert.match(loopback.text(), /"level":40.*plain HTTP\/MQTT on loopback only/);
  // Devices send their passwords to the broker and public URLs they are handed: the same rule.
  assert.throws(
    () => checkPlainTransport(config({ mqtt: { mode: 'external', url: 'mqtt://broker.lan:1883' } }), quiet.log),
    /devices to the plain-text broker mqtt:\/\/broker\.lan:1883/,
  );
  assert.throws(
    () => checkPlainTransport(config({ tls: { mode: 'self-signed' }, publicUrl: 'http://fleet.lan:8460' }), quiet.log),
    /plain-text public URL http:\/\/fleet\.lan:8460/,
  );
  assert.throws(
    () =>
      checkPlainTransport(config({ tls: { mode: 'self-signed' }, publicMqttUrl: 'mqtt://fleet.lan:1883' }), quiet.log),
    /plain-text public broker URL/,
  );
  const external = logSink();
  checkPlainTransport(
    config({ mqtt: { mode: 'external', url: 'mqtt://broker.lan:1883' }, insecure: true }),
    external.log,
  );
  assert.match(external.text(), /"level":40.*plain HTTP\/MQTT beyond this machine/);
  checkPlainTransport(
    config({ mqtt: { mode: 'external', url: 'mqtts://broker.lan:8883' }, tls: { mode: 'self-signed' } }),
    quiet.log,
  );
  checkPlainTransport(config({ mqtt: { mode: 'external', url: 'mqtt://127.0.0.1:1883' } }), quiet.log);

  const tls = logSink();
  checkPlainTransport(config({ http: { host: '0.0.0.0' }, tls: { mode: 'self-signed' } }), tls.log);
  assert.equal(tls.text(), '');
});
