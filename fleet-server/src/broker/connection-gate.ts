/**
 * @module broker/connection-gate
 * Every connection to the embedded broker passes here before aedes sees a byte: the connect
 * limiter admits it or it is closed at once; then it runs behind a packet-size guard with the
 * small pre-authentication limit and must authenticate within the connect timeout. Once the
 * broker authenticates the client, `authenticated` raises the limit and gives the address its
 * token back. Refusals are counted and logged through the refusal log, never line by line.
 *
 * `accept` takes any Duplex with a `remoteAddress`: a net.Socket, or the TLSSocket a
 * tls.Server hands out (the guard then reads the decrypted bytes).
 */
import type { Duplex } from 'node:stream';
import { MAX_PAYLOAD_BYTES, MAX_SAMPLE_BYTES } from '@edgeloop/protocol';
import type { ConnectLimiter } from './connect-limiter.js';
import { PacketSizeGuard, type PacketViolation } from './packet-size-guard.js';
import type { RefusalLog } from './refusal-log.js';

/**
 * Before authentication: CONNECT carries a client id (≤ 128), username (a device id, ≤ 64), the
 * password, and the will (the agent's death message, ~150 bytes). 16 KiB leaves room for all of
 * it many times over and is what an anonymous peer can make the broker hold per connection.
 */
export const PRE_AUTH_MAX_PACKET_BYTES = 16 * 1024;

/** All bytes before authentication: the CONNECT and a little more (aedes queues what follows it). */
export const PRE_AUTH_MAX_BYTES = 2 * PRE_AUTH_MAX_PACKET_BYTES;

/**
 * After authentication: the largest message anyone legitimately sends. A device's largest is a
 * retraining sample (sample-codec accepts MAX_SAMPLE_BYTES + 64 KiB of header); telemetry,
 * references and updates are capped at MAX_PAYLOAD_BYTES by decodeMessage, and so is the desired
 * state the server publishes (agents refuse more). 1 KiB more covers topic, packet id and the
 * fixed header.
 */
export const MAX_PACKET_BYTES = Math.max(MAX_PAYLOAD_BYTES, MAX_SAMPLE_BYTES + 64 * 1024) + 1024;

export interface ConnectionGateOptions {
  limiter: ConnectLimiter;
  refusals: RefusalLog;
  /** A connection not authenticated by then is closed (counted as connect_timeout). */
  connectTimeoutMs: number;
  /** aedes' handler: from here on the connection is the broker's. */
  handle: (conn: Duplex) => void;
}

type Connection = Duplex & { remoteAddress?: string | undefined };

export class ConnectionGate {
  /** Per guarded connection: ends its pending state, with the username once it authenticated. */
  private readonly settlers = new WeakMap<PacketSizeGuard, (username?: string) => void>();

  constructor(private readonly opts: ConnectionGateOptions) {}

  get pending(): number {
    return this.opts.limiter.pending;
  }

  accept(socket: Connection): void {
    const { limiter, refusals } = this.opts;
    const address = socket.remoteAddress ?? 'unknown';
    const admission = limiter.admit(address);
    if (!admission.ok) {
      refusals.refuse(
        admission.reason,
        { address },
        admission.reason === 'connect_rate'
          ? 'mqtt connection refused: too many connections from this address failed to authenticate; it may try again in a few seconds'
          : 'mqtt connection refused: too many connections are waiting to authenticate',
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const client: { address: string; username?: string } = { address };
    let settled = false;
    const guard = new PacketSizeGuard(socket, PRE_AUTH_MAX_PACKET_BYTES, PRE_AUTH_MAX_BYTES, (v) =>
      this.violation(v, client),
    );
    const timer = setTimeout(() => {
      refusals.refuse(
        'connect_timeout',
        { address, timeoutMs: this.opts.connectTimeoutMs },
        'mqtt connection closed: no authenticated CONNECT in time',
      );
      guard.destroy();
    }, this.opts.connectTimeoutMs);
    timer.unref();
    const settle = (username?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (username !== undefined) client.username = username;
      limiter.settle(address, username !== undefined);
    };
    this.settlers.set(guard, settle);
    guard.once('close', () => settle());
    this.opts.handle(guard);
  }

  /** The broker accepted this client's credentials: it may now send packets up to `maxPacketBytes`. */
  authenticated(conn: unknown, username: string, maxPacketBytes: number = MAX_PACKET_BYTES): void {
    if (!(conn instanceof PacketSizeGuard)) return;
    conn.setAuthenticated(maxPacketBytes);
    this.settlers.get(conn)?.(username);
  }

  private violation(v: PacketViolation, client: { address: string; username?: string }): void {
    const { refusals } = this.opts;
    if (v.reason === 'malformed') {
      refusals.refuse('malformed', { ...client, detail: v.detail }, 'mqtt connection closed: malformed packet');
      return;
    }
    if (v.reason === 'too_much_before_auth') {
      refusals.refuse(
        'pre_auth_packet_too_large',
        { ...client, bytes: v.bytes, limit: v.limit },
        `mqtt connection closed: ${v.bytes} bytes sent before authenticating exceed the ${v.limit}-byte limit`,
      );
      return;
    }
    const authenticated = client.username !== undefined;
    refusals.refuse(
      authenticated ? 'packet_too_large' : 'pre_auth_packet_too_large',
      { ...client, packetBytes: v.packetBytes, limit: v.limit, packetType: v.packetType },
      `mqtt connection closed: a packet of ${v.packetBytes} bytes exceeds the ${v.limit}-byte limit${authenticated ? '' : ' before authentication'}`,
    );
  }
}
