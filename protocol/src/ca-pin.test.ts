import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caFingerprint, certificatePem, parseCaFingerprint, splitPemCertificates } from './ca-pin.js';

const HEX = 'ab'.repeat(32);

test('parseCaFingerprint accepts what operators paste and refuses the rest with what to give', () => {
  assert.equal(parseCaFingerprint(`sha256:${HEX}`), `sha256:${HEX}`);
  assert.equal(parseCaFingerprint(` SHA256:${HEX.toUpperCase()} `), `sha256:${HEX}`);
  assert.equal(
    parseCaFingerprint(`sha256:${HEX.match(/../g)!.join(':')}`),
    `sha256:${HEX}`,
    'openssl -fingerprint style',
  );
  for (const bad of [
    HEX,
    `sha1:${HEX}`,
    `sha256:${HEX.slice(2)}`,
    `sha256:${HEX}00`,
    `sha256:${'zz'.repeat(32)}`,
    '',
  ]) {
    assert.throws(
      () => parseCaFingerprint(bad),
      /give "sha256:" followed by 64 hex digits, as printed by "edgeloop tokens create"/,
      bad,
    );
  }
});

test('caFingerprint is sha256 of the public key (SPKI), the same for PEM, DER and a re-issued certificate with that key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-ca-pin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  } catch (err) {
    t.skip(
      `SKIPPED: the openssl CLI is needed to make a test certificate (${(err as Error).message}); apt-get install openssl`,
    );
    return;
  }
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=first', '-days', '2', '-out', 'a.crt');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=re-issued', '-days', '30', '-out', 'b.crt');
  const pem = readFileSync(join(dir, 'a.crt'), 'utf8');
  const x509 = new X509Certificate(pem);
  const expected = `sha256:${createHash('sha256')
    .update(openssl('pkey', '-in', 'ca.key', '-pubout', '-outform', 'DER'))
    .digest('hex')}`;
  assert.equal(caFingerprint(pem), expected);
  assert.equal(caFingerprint(x509.raw), expected);
  assert.equal(
    caFingerprint(readFileSync(join(dir, 'b.crt'), 'utf8')),
    expected,
    'same key, new certificate: same pin',
  );
  assert.equal(
    new X509Certificate(certificatePem(x509.raw)).fingerprint256,
    x509.fingerprint256,
    'DER → PEM round trip',
  );
  assert.equal(splitPemCertificates(`${pem}\n${readFileSync(join(dir, 'b.crt'), 'utf8')}`).length, 2);
});
