import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { caFingerprint } from '@edgeloop/protocol';
import { ensureLabCertificates, labSubjectAltNames, RENEW_BEFORE_DAYS, SERVER_VALID_DAYS } from './lab-ca.js';
import { loadTlsMaterial } from './tls-material.js';

const DAY = 86_400_000;

function temp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-lab-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the lab CA and server certificate: P-256, 0600 keys in a 0700 folder, the names devices use, signed by the CA', async (t) => {
  const data = temp(t);
  const names = labSubjectAltNames(['fleet.lab', '10.0.0.5']);
  const lab = await ensureLabCertificates(data, names);
  assert.equal(lab.created, 'ca');
  assert.equal(statSync(lab.paths.dir).mode & 0o777, 0o700);
  for (const f of [lab.paths.caKey, lab.paths.serverKey, lab.paths.caCert, lab.paths.serverCert])
    assert.equal(statSync(f).mode & 0o777, 0o600, f);
  const ca = new X509Certificate(readFileSync(lab.paths.caCert));
  const server = new X509Certificate(readFileSync(lab.paths.serverCert));
  assert.ok(ca.ca, 'the CA is a CA');
  assert.ok(!server.ca);
  assert.ok(server.verify(ca.publicKey));
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  for (const name of [
    'DNS:localhost',
    'IP Address:127.0.0.1',
    'IP Address:0:0:0:0:0:0:0:1',
    'DNS:fleet.lab',
    'IP Address:10.0.0.5',
  ])
    assert.ok(server.subjectAltName?.includes(name), `${name} in ${server.subjectAltName}`);
  assert.ok(server.checkHost('fleet.lab') && server.checkIP('10.0.0.5'));
  assert.ok(Date.parse(server.validTo) - Date.now() > (SERVER_VALID_DAYS - 2) * DAY);
});

test('restarts reuse the CA; the server certificate is re-issued near expiry or for a new name, under the same CA', async (t) => {
  const data = temp(t);
  const names = labSubjectAltNames();
  const first = await ensureLabCertificates(data, names);
  const caPem = readFileSync(first.paths.caCert, 'utf8');
  const serverPem = readFileSync(first.paths.serverCert, 'utf8');

  assert.equal((await ensureLabCertificates(data, names)).created, 'none');
  assert.equal(readFileSync(first.paths.serverCert, 'utf8'), serverPem, 'unchanged on a plain restart');

  const nearExpiry = Date.now() + (SERVER_VALID_DAYS - RENEW_BEFORE_DAYS + 1) * DAY;
  assert.equal((await ensureLabCertificates(data, names, nearExpiry)).created, 'server');
  const renewed = readFileSync(first.paths.serverCert, 'utf8');
  assert.notEqual(renewed, serverPem);

  assert.equal((await ensureLabCertificates(data, [...names, 'gateway.site'])).created, 'server');
  assert.ok(new X509Certificate(readFileSync(first.paths.serverCert)).checkHost('gateway.site'));
  assert.equal(readFileSync(first.paths.caCert, 'utf8'), caPem, 'the CA devices pinned never changes');
});

test('TLS material: the lab chain carries the CA; bring-your-own certificates get the CA appended and fingerprinted', async (t) => {
  const data = temp(t);
  const log = pino({ level: 'silent' });
  const lab = await loadTlsMaterial({ mode: 'self-signed', subjectAltNames: [] }, data, log);
  const caPem = readFileSync(join(data, 'tls', 'ca.crt'), 'utf8');
  assert.equal(lab.caFingerprint, caFingerprint(caPem));
  assert.match(lab.cert, /END CERTIFICATE-----\n-----BEGIN CERTIFICATE/, 'leaf then CA');
  assert.ok(lab.cert.trimEnd().endsWith(caPem.trimEnd()));

  // The same files as an operator's --tls-cert (leaf only) and --tls-ca.
  const files = {
    mode: 'files' as const,
    certFile: join(data, 'tls', 'server.crt'),
    keyFile: join(data, 'tls', 'server.key'),
  };
  const withCa = await loadTlsMaterial({ ...files, caFile: join(data, 'tls', 'ca.crt') }, data, log);
  assert.equal(withCa.caFingerprint, lab.caFingerprint);
  assert.ok(withCa.cert.trimEnd().endsWith(caPem.trimEnd()), 'the CA is appended to the presented chain');
  const leafOnly = await loadTlsMaterial(files, data, log);
  assert.equal(
    leafOnly.caFingerprint,
    caFingerprint(readFileSync(files.certFile, 'utf8')),
    'without --tls-ca: the top of the chain given',
  );
  await assert.rejects(
    loadTlsMaterial({ ...files, keyFile: join(data, 'missing.key') }, data, log),
    /cannot read the TLS key .*missing\.key \(ENOENT\); check --tls-cert\/--tls-key\/--tls-ca/,
  );
});
