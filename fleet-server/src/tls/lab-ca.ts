/**
 * @module tls/lab-ca
 * `edgeloop serve --tls-self-signed`: a private CA and a server certificate signed by it, for
 * labs and sites without a PKI. Both live in `<data>/tls/` (folder 0700, keys 0600) and are
 * reused on restart: devices pin the CA's public key at enrollment, so it must not change. The
 * server certificate is re-issued at start when it is missing, expires within 30 days, lacks a
 * requested name, or was signed by another CA.
 *
 * EC P-256 keys: every TLS stack devices run (Node/OpenSSL, Mosquitto, browsers) accepts them,
 * and they are made in milliseconds even on a Pi. Certificates are built with @peculiar/x509 on
 * Node's WebCrypto, so no openssl binary is needed.
 */
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ensurePrivateDir, writePrivateFile } from '@edgeloop/protocol/state-dir';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const CA_VALID_DAYS = 3650;
export const SERVER_VALID_DAYS = 397;
/** A server certificate with less left than this is re-issued at start. */
export const RENEW_BEFORE_DAYS = 30;

export interface LabCertificatePaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export function labCertificatePaths(dataDir: string): LabCertificatePaths {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

/** Names every lab certificate carries, then the operator's (--tls-san), without duplicates. */
export function labSubjectAltNames(extra: string[] = []): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...extra].map((n) => n.trim()).filter(Boolean))];
}

export interface LabCertificates {
  paths: LabCertificatePaths;
  /** What changed at this start: nothing, a new server certificate, or a new CA (first start). */
  created: 'none' | 'server' | 'ca';
}

/** Makes (or reuses) the lab CA and server certificate in `<dataDir>/tls/` for these names. */
export async function ensureLabCertificates(
  dataDir: string,
  names: string[],
  now = Date.now(),
): Promise<LabCertificates> {
  const paths = labCertificatePaths(dataDir);
  ensurePrivateDir(paths.dir);
  let created: LabCertificates['created'] = 'none';
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    const keys = await generateKeys();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=EdgeLoop lab CA ${hostname()} ${new Date(now).toISOString().slice(0, 10)}`,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + CA_VALID_DAYS * DAY),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writePrivateFile(paths.caKey, await privateKeyPem(keys.privateKey));
    writePrivateFile(paths.caCert, `${ca.toString('pem')}\n`);
    created = 'ca';
  }
  if (created === 'ca' || serverCertificateStale(paths, names, now)) {
    await issueServerCertificate(paths, names, now);
    if (created === 'none') created = 'server';
  }
  return { paths, created };
}

function serverCertificateStale(paths: LabCertificatePaths, names: string[], now: number): boolean {
  if (!existsSync(paths.serverCert) || !existsSync(paths.serverKey)) return true;
  try {
    const cert = new X509Certificate(readFileSync(paths.serverCert));
    const ca = new X509Certificate(readFileSync(paths.caCert));
    if (!cert.verify(ca.publicKey)) return true;
    if (Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * DAY) return true;
    const present = new Set(
      (cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '').toLowerCase()),
    );
    return names.some((n) => !present.has(canonicalIp(n).toLowerCase()));
  } catch {
    return true;
  }
}

async function issueServerCertificate(paths: LabCertificatePaths, names: string[], now: number): Promise<void> {
  const ca = new x509.X509Certificate(readFileSync(paths.caCert, 'utf8'));
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pemBody(readFileSync(paths.caKey, 'utf8')),
    ALGORITHM,
    false,
    ['sign'],
  );
  const keys = await generateKeys();
  const sans = names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${names.find((n) => !isIP(n) && n !== 'localhost') ?? 'localhost'}`,
    issuer: ca.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + SERVER_VALID_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  writePrivateFile(paths.serverKey, await privateKeyPem(keys.privateKey));
  writePrivateFile(paths.serverCert, `${cert.toString('pem')}\n`);
}

/** Node prints IPv6 SANs expanded (0:0:0:0:0:0:0:1); compare in that form. */
function canonicalIp(name: string): string {
  if (isIP(name) !== 6) return name;
  const [head = '', tail = ''] = name.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = name.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Positive 128-bit serial (high bit clear), as RFC 5280 asks. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
