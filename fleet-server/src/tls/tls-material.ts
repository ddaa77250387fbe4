/**
 * @module tls/tls-material
 * What the HTTPS server, the embedded broker's TLS listener and the server's own MQTT client
 * need: the key, the certificate chain to present, the CA devices pin and its fingerprint.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { caFingerprint, splitPemCertificates } from '@edgeloop/protocol';
import { ensureLabCertificates, labSubjectAltNames } from './lab-ca.js';
import type { TlsSettings } from './tls-settings.js';

export interface TlsMaterial {
  key: string;
  /** Leaf first, then the chain up to (and including) the CA, so a device can find the CA it pins. */
  cert: string;
  /** PEM of the CA devices pin; also the trust root of the server's own clients. */
  caPem: string;
  /** Where the CA lives on disk (server.json points the CLI at it). */
  caFile: string;
  /** `sha256:<hex>` of the CA's public key: what `edgeloop-agent enroll --ca-fingerprint` takes. */
  caFingerprint: string;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read the TLS ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check --tls-cert/--tls-key/--tls-ca`,
      { cause: err },
    );
  }
}

export async function loadTlsMaterial(settings: TlsSettings, dataDir: string, log: Logger): Promise<TlsMaterial> {
  if (settings.mode === 'self-signed') {
    const names = labSubjectAltNames(settings.subjectAltNames);
    const lab = await ensureLabCertificates(dataDir, names);
    if (lab.created !== 'none')
      log.info(
        { dir: lab.paths.dir, names, created: lab.created },
        lab.created === 'ca' ? 'made a lab CA and server certificate' : 'issued a new lab server certificate',
      );
    const caPem = `${read(lab.paths.caCert, 'CA certificate').trimEnd()}\n`;
    return {
      key: read(lab.paths.serverKey, 'key'),
      cert: `${read(lab.paths.serverCert, 'certificate').trimEnd()}\n${caPem}`,
      caPem,
      caFile: lab.paths.caCert,
      caFingerprint: caFingerprint(caPem),
    };
  }
  const key = read(settings.keyFile, 'key');
  const cert = read(settings.certFile, 'certificate');
  const chain = splitPemCertificates(cert);
  if (chain.length === 0)
    throw new Error(
      `${settings.certFile} holds no PEM certificate; give the server certificate (and its chain) with --tls-cert`,
    );
  let caPem = settings.caFile ? read(settings.caFile, 'CA certificate') : chain[chain.length - 1]!;
  caPem = splitPemCertificates(caPem)[0] ?? '';
  if (!caPem) throw new Error(`${settings.caFile} holds no PEM certificate; give the CA certificate with --tls-ca`);
  // Devices look for the pinned CA in the chain the server presents: append it when the file stops below it.
  const presentsCa = chain.some(
    (c) => new X509Certificate(c).fingerprint256 === new X509Certificate(caPem).fingerprint256,
  );
  return {
    key,
    cert: presentsCa ? cert : `${cert.trimEnd()}\n${caPem}`,
    caPem,
    caFile: settings.caFile ?? settings.certFile,
    caFingerprint: caFingerprint(caPem),
  };
}
