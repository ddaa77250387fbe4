/**
 * @module enroll/ca-pinning
 * First contact with a fleet server whose CA the device does not know yet, as `kubeadm join
 * --discovery-token-ca-cert-hash` does it: open a TLS connection without verification, look in
 * the certificate chain the server presents for the CA whose public-key fingerprint the operator
 * gave (`edgeloop tokens create` prints it), and from then on trust that CA alone. Nothing is
 * sent over the unverified connection; the enrollment itself goes over a verified one.
 */
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { caFingerprint, certificatePem } from '@edgeloop/protocol';

/** The pinned fingerprint is not in the server's chain: a wrong fingerprint, or another server. */
export class CaPinMismatchError extends Error {}

/** DER of every certificate the server at host:port presents, leaf first. */
export function presentedChain(host: string, port: number, timeoutMs = 15_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS answer within ${Math.round(timeoutMs / 1000)} s`)),
    );
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const chain: Buffer[] = [];
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      // A self-signed top points at itself; stop there (and at any loop).
      while (cert?.raw && !chain.some((c) => c.equals(cert!.raw))) {
        chain.push(cert.raw);
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolve(chain);
    });
  });
}

/**
 * The PEM of the certificate in the server's chain whose public key has `fingerprint`
 * (normalised `sha256:<hex>`). Throws CaPinMismatchError, naming what the server presents, if none.
 */
export async function pinFleetCa(
  fleetUrl: string,
  fingerprint: string,
  timeoutMs?: number,
): Promise<{ pem: string; subject: string }> {
  const url = new URL(fleetUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const chain = await presentedChain(host, Number(url.port || 443), timeoutMs);
  for (const der of chain) {
    const cert = new X509Certificate(der);
    if (caFingerprint(cert) === fingerprint)
      return { pem: certificatePem(der), subject: cert.subject.replaceAll('\n', ', ') };
  }
  const seen = chain.map((der) => caFingerprint(der)).join(', ') || 'no certificate';
  throw new CaPinMismatchError(
    `the server's certificate chain does not contain the CA ${fingerprint} (it presents ${seen}); ` +
      'check the fingerprint printed by "edgeloop tokens create" and that --fleet is your fleet server. Nothing was sent to it',
  );
}
