import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parseFleetConfig } from '../config.js';
import { checkPlainTransport } from './transport-policy.js';

function logSink() {
  let text = '';
  return { log: pino(new Writable({ write(c: Buffer, _e, done) { text += c.toString(); done(); } })), text: () => text };
}

test('plain HTTP/MQTT beyond loopback is refused unless --insecure; loopback and TLS start', () => {
  const config = (extra: object) => parseFleetConfig({ dataDir: '/tmp/x', ...extra });
  const quiet = logSink();
  assert.throws(() => checkPlainTransport(config({ http: { host: '0.0.0.0' } }), quiet.log), /refusing to serve HTTP on 0\.0\.0\.0 without TLS.*--tls-self-signed.*--insecure/);
  assert.throws(() => checkPlainTransport(config({ mqtt: { mode: 'embedded', host: '192.168.1.4' } }), quiet.log), /MQTT on 192\.168\.1\.4/);

  const insecure = logSink();
  checkPlainTransport(config({ http: { host: '0.0.0.0' }, insecure: true }), insecure.log);
  assert.match(insecure.text(), /"level":40.*serving plain HTTP\/MQTT beyond this machine \(--insecure\)/);

  const loopback = logSink();
  checkPlainTransport(config({ http: { host: '127.0.0.1' } }), loopback.log);
  assert.match(loopback.text(), /"level":40.*plain HTTP\/MQTT on loopback only/);
  // An external broker is the operator's: it is not refused, but a plain one beyond loopback is named.
  const external = logSink();
  checkPlainTransport(config({ mqtt: { mode: 'external', url: 'mqtt://broker.lan:1883' } }), external.log);
  assert.match(external.text(), /"level":40.*devices are sent to a plain-text broker/);

  const tls = logSink();
  checkPlainTransport(config({ http: { host: '0.0.0.0' }, tls: { mode: 'self-signed' } }), tls.log);
  assert.equal(tls.text(), '');
});
