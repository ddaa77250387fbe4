/**
 * @module ca-pin
 * The CA fingerprint a device pins when it enrolls (`edgeloop-agent enroll --ca-fingerprint`),
 * printed by `edgeloop tokens create`. Format `sha256:<64 hex>`: the SHA-256 of the certificate's
 * SubjectPublicKeyInfo (DER), as kubeadm's `--discovery-token-ca-cert-hash`. Hashing the public
 * key rather than the whole certificate keeps the pin valid when the CA certificate is re-issued
 * with the same key (new validity dates), and still changes with any other CA.
 */
import { createHash, X509Certificate } from 'node:crypto';

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<hex>` of the certificate's public key (SPKI DER); `cert` is PEM text or DER bytes. */
export function caFingerprint(cert: string | Uint8Array | X509Certificate): string {
  const x509 =
    cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/**
 * Normalises what an operator pastes: `sha256:` prefix required, hex case and `:` separators
 * (as `openssl x509 -fingerprint` prints them) do not matter. Throws with what to give instead.
 */
export function parseCaFingerprint(text: string): string {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const algorithm = colon === -1 ? '' : trimmed.slice(0, colon).toLowerCase();
  const normalised = `${algorithm}:${trimmed
    .slice(colon + 1)
    .replaceAll(':', '')
    .toLowerCase()}`;
  if (!FINGERPRINT.test(normalised)) {
    throw new Error(
      `"${text}" is not a CA fingerprint; give "sha256:" followed by 64 hex digits, as printed by "edgeloop tokens create"`,
    );
  }
  return normalised;
}

/** PEM text of one certificate (DER bytes in). */
export function certificatePem(der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** Every certificate in a PEM bundle, in file order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}
