/**
 * @module broker/embedded-broker
 * The default MQTT broker: aedes in-process on a TCP port, so a single `npm start` needs no
 * outside service. A fleet that already runs Mosquitto or EMQX points the server at it instead.
 *
 * Every client authenticates. Devices log in with username = device id and the password they
 * got at enrollment; their client id must equal the username, or be `<username>:<suffix>` for a
 * device's second connection (the agent's sensor link); `:` never occurs in a device id, so no
 * device can take over another's session. A disabled device is refused. The ACL (identity/device-acl.ts) lets a
 * device publish and subscribe only its own topics. The user `edgeloop-server` (a secret made
 * for this process, or configured) may do anything: integrators' sensor publishers and tools log
 * in with it. The server itself needs no client: device traffic reaches the ingest in-process
 * (embedded-transport.ts) after the checks here.
 *
 * Refusals are counted by reason (/metrics) and logged through the refusal log (the first few
 * of a minute in detail, then one summary line). A refused subscription gets SUBACK 0x80 and the
 * connection stays up. A refused publish is dropped and the connection closed: MQTT 3.1.1 has no
 * negative PUBACK, and an honest agent never publishes outside its own topics.
 *
 * Devices may retain only their presence (the birth, and the death as their will), at most
 * MAX_RETAINED_PRESENCE_BYTES: the broker keeps retained messages in memory, so anything else a
 * device retained would be memory it chose the size of. A retained publish elsewhere is refused
 * like a publish outside the device's topics (dropped, connection closed) rather than stored
 * without its retain flag: an honest agent never sends one, and silently accepting it would hide
 * a broken or hostile client.
 *
 * Before aedes sees a connection, the connection gate (connection-gate.ts) applies the connect
 * limiter, the packet-size guard and the connect timeout. Every socket gets TCP_NODELAY: an ack
 * is one small write the device waits for, and Nagle's algorithm held it back until the
 * device's delayed ACK (~40 ms) of the previous write.
 *
 * aedes runs its message router (mqemitter) without a concurrency limit: with one, messages
 * beyond the limit wait in a queue that is drained recursively, and thousands of wills and
 * disconnect notices queued behind in-flight deliveries (a fleet dropping off at once)
 * overflowed the stack (RangeError in mqemitter's `released`). Without the limit nothing is
 * queued there; each client's unhandled read still bounds what is in flight.
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { parseDeviceTopic } from '@edgeloop/protocol';
import { deviceMayPublish, deviceMaySubscribe, type AclDecision } from '../identity/device-acl.js';
import { SERVER_MQTT_USERNAME, type IdentityService } from '../identity/identity-service.js';
import { ConnectLimiter } from './connect-limiter.js';
import { ConnectionGate } from './connection-gate.js';
import { RefusalLog, type RefusalReason } from './refusal-log.js';
import { EmbeddedTransport } from './embedded-transport.js';
import type { IntakeLimits } from './intake-flow.js';
import { indexRetained, type RetainedTopics } from './retained-topics.js';

export interface BrokerAuth {
  /** Checks device credentials; its events close sessions of disabled, revoked or re-enrolled devices. */
  identity: Pick<IdentityService, 'authenticateDevice' | 'on'>;
  /** The password of the server's own client (username `edgeloop-server`), fresh every start. */
  serverPassword: string;
}

export interface BrokerRefusals {
  connect: number;
  publish: number;
  subscribe: number;
}

/** Connection limits of the embedded broker (fleet config `mqtt`; connect-limiter.ts explains them). */
export interface BrokerLimits {
  connectRate: { burst: number; perSecond: number };
  maxPendingConnections: number;
  connectTimeoutMs: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  connectRate: { burst: 100, perSecond: 10 },
  maxPendingConnections: 1000,
  connectTimeoutMs: 10_000,
};

/** What /metrics shows of the broker. */
export interface BrokerMetrics {
  refused: Record<RefusalReason, number>;
  /** Authenticated clients connected now. */
  connections: number;
  /** Connections accepted but not yet authenticated. */
  pending: number;
}

/**
 * A birth is at most ~13 KB (64 running models with 64-character names and their sha256, the
 * schema's caps); a death ~150 bytes. The presence ingest refuses more than 64 KiB anyway.
 */
export const MAX_RETAINED_PRESENCE_BYTES = 16 * 1024;

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Device traffic, in-process: the ingest handlers and the server's publishes. */
  transport: EmbeddedTransport;
  /** The retained messages (presence and desired state per device), indexed by topic level. */
  retained: RetainedTopics;
  refusals: BrokerRefusals;
  metrics(): BrokerMetrics;
  /** Closes the device's live session, if any (disabled or revoked). */
  disconnect(deviceId: string, reason: string): void;
  close(): Promise<void>;
}

/**
 * Connections the kernel may hold before the broker accepts them (capped by net.core.somaxconn).
 * Node's default of 511 overflowed when a fleet reconnected at once: the kernel dropped the
 * rest of the SYNs, and their clients retried only after 1, 3, 7, 15 … s of TCP back-off.
 */
const LISTEN_BACKLOG = 8192;

/** MQTT 3.1.1 CONNACK codes. */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function refusal(returnCode: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Usernames of authenticated clients, by client object (the server's client has full access). */
const principal = new WeakMap<Client, string>();

/** A device's publish: its ACL, then the retain rule (module comment). */
function devicePublishDecision(
  deviceId: string,
  packet: { topic: string; retain?: boolean; payload: Buffer | string },
): AclDecision & { retained?: boolean } {
  const acl = deviceMayPublish(deviceId, packet.topic);
  if (!acl.ok) return acl;
  const parsed = parseDeviceTopic(packet.topic);
  const presence = parsed.ok && parsed.channel === 'presence';
  if (packet.retain && !presence)
    return {
      ok: false,
      retained: true,
      reason: 'devices may retain only their presence message; publish without the retain flag',
    };
  const bytes = Buffer.byteLength(packet.payload);
  if (presence && bytes > MAX_RETAINED_PRESENCE_BYTES) {
    return {
      ok: false,
      retained: true,
      reason: `presence message of ${bytes} bytes exceeds the ${MAX_RETAINED_PRESENCE_BYTES}-byte limit`,
    };
  }
  return { ok: true };
}

/** `tls`: listen for MQTT over TLS only (key and certificate chain, PEM). */
export async function startEmbeddedBroker(
  host: string,
  port: number,
  log: Logger,
  auth: BrokerAuth,
  limits: BrokerLimits = DEFAULT_BROKER_LIMITS,
  tls?: { key: string; cert: string },
  intake?: { limits?: IntakeLimits; saturated?: () => boolean },
): Promise<EmbeddedBroker> {
  const refusals: BrokerRefusals = { connect: 0, publish: 0, subscribe: 0 };
  const transport = new EmbeddedTransport(log, intake?.limits, intake?.saturated);
  const refusalLog = new RefusalLog(log);
  // Hands connections to aedes only once it exists (the server listens after createBroker).
  const gate = new ConnectionGate({
    limiter: new ConnectLimiter({ ...limits.connectRate, maxPending: limits.maxPendingConnections }),
    refusals: refusalLog,
    connectTimeoutMs: limits.connectTimeoutMs,
    handle: (conn) => aedes.handle(conn as Parameters<typeof aedes.handle>[0]),
  });
  const aedes = await Aedes.createBroker({
    id: 'edgeloop-embedded',
    // 0 = no limit (module comment: the queue behind a limit is drained recursively).
    concurrency: 0,
    published: transport.published,
    // A device id (≤ 64) plus a `:suffix` for its second connection (the sensor link).
    maxClientsIdLength: 128,
    // The gate closes a connection not authenticated within connectTimeoutMs and counts it;
    // aedes' own timer (CONNECT arrival only) is a backstop behind it.
    connectTimeout: limits.connectTimeoutMs + 1000,
    authenticate(client, username, password, done) {
      const refuse = (code: number, reason: string) => {
        refusals.connect++;
        refusalLog.refuse('auth', { clientId: client.id, username }, `mqtt connection refused: ${reason}`);
        done(refusal(code, reason), false);
      };
      const accept = (user: string) => {
        principal.set(client, user);
        gate.authenticated(client.conn, user);
        done(null, true);
      };
      const secret = password?.toString('utf8') ?? '';
      if (!username)
        return refuse(
          BAD_USERNAME_OR_PASSWORD,
          'no username: devices log in with their device id and enrollment password',
        );
      if (username === SERVER_MQTT_USERNAME) {
        if (!sameSecret(secret, auth.serverPassword))
          return refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password for the server user');
        return accept(username);
      }
      if (client.id !== username && !client.id.startsWith(`${username}:`)) {
        return refuse(
          IDENTIFIER_REJECTED,
          `client id "${client.id}" must be the username (the device id) or start with "<device id>:"`,
        );
      }
      auth.identity.authenticateDevice(username, secret).then(
        (result) =>
          result.ok
            ? accept(username)
            : refuse(result.reason === 'device is disabled' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD, result.reason),
        (err: Error) => {
          log.error({ clientId: client.id, err: err.message }, 'device credentials could not be checked');
          done(refusal(SERVER_UNAVAILABLE, 'credentials could not be checked; try again'), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // null: a will stored from an earlier session; it was checked when that session ended.
      if (!client) return done(null);
      const user = principal.get(client);
      if (user === SERVER_MQTT_USERNAME) return done(null);
      const decision = user ? devicePublishDecision(user, packet) : { ok: false as const, reason: 'not authenticated' };
      if (decision.ok) return done(null);
      refusals.publish++;
      refusalLog.refuse(
        'retained' in decision && decision.retained ? 'retained' : 'acl_publish',
        { clientId: client.id, topic: packet.topic, detail: decision.reason },
        'mqtt publish refused; closing the connection',
      );
      done(new Error(`publish to ${packet.topic} refused: ${decision.reason}`));
    },
    authorizeSubscribe(client, sub, done) {
      const user = principal.get(client);
      if (user === SERVER_MQTT_USERNAME) return done(null, sub);
      const decision = user ? deviceMaySubscribe(user, sub.topic) : { ok: false as const, reason: 'not authenticated' };
      if (decision.ok) return done(null, sub);
      refusals.subscribe++;
      refusalLog.refuse(
        'acl_subscribe',
        { clientId: client.id, topic: sub.topic, detail: decision.reason },
        'mqtt subscription refused',
      );
      // null = SUBACK 0x80 for this filter; the connection stays up.
      done(null, null);
    },
  });
  transport.attach(aedes);
  const retained = indexRetained(
    (aedes as unknown as { persistence: Parameters<typeof indexRetained>[0] }).persistence,
  );
  aedes.on('clientError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'),
  );

  // A device's live sessions (its own and its sensor link), so that closing them on a credential
  // event does not scan every client: enrolling a fleet is one such event per device.
  const sessions = new Map<string, Set<Client>>();
  aedes.on('client', (client) => {
    const user = principal.get(client);
    if (user === undefined) return;
    let set = sessions.get(user);
    if (!set) sessions.set(user, (set = new Set()));
    set.add(client);
  });
  aedes.on('clientDisconnect', (client) => {
    const user = principal.get(client);
    const set = user === undefined ? undefined : sessions.get(user);
    if (!set?.delete(client) || set.size > 0) return;
    sessions.delete(user!);
  });
  const disconnect = (deviceId: string, reason: string) => {
    for (const client of [...(sessions.get(deviceId) ?? [])]) {
      log.warn({ clientId: client.id, reason }, "closing the device's mqtt session");
      client.close();
    }
  };
  auth.identity.on('device-disabled', ({ deviceId }) => disconnect(deviceId, 'device disabled'));
  auth.identity.on('credential-revoked', ({ deviceId }) => disconnect(deviceId, 'credential revoked'));
  // Re-enrollment rotates the password: a session opened with the old one must not outlive it.
  auth.identity.on('credential-issued', ({ deviceId }) => disconnect(deviceId, 'credential rotated'));

  // A TLS socket reaches the gate only after its handshake ('secureConnection'); the handshake
  // itself gets the connect timeout, so a client that never finishes it holds nothing for long.
  const server: Server = tls
    ? createTlsServer(
        { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2', handshakeTimeout: limits.connectTimeoutMs },
        (socket) => gate.accept(socket.setNoDelay(true)),
      )
    : createServer((socket) => gate.accept(socket.setNoDelay(true)));
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'mqtt tls handshake failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot start the MQTT broker on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}; pick another with --mqtt-port (0 = any free port)`,
        ),
      ),
    );
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${urlHost}:${actual}`,
    port: actual,
    transport,
    retained,
    refusals,
    metrics: () => ({ refused: { ...refusalLog.totals }, connections: aedes.connectedClients, pending: gate.pending }),
    disconnect,
    close: () =>
      new Promise<void>((resolve) => {
        refusalLog.close();
        aedes.close(() => server.close(() => resolve()));
      }),
  };
}
