/**
 * @module broker/embedded-broker
 * The default MQTT broker: aedes in-process on a TCP port, so a single `npm start` needs no
 * outside service. A fleet that already runs Mosquitto or EMQX points the server at it instead.
 *
 * Every client authenticates. Devices log in with username = device id and the password they
 * got at enrollment; their client id must equal the username, or be `<username>:<suffix>` for a
 * device's second connection (the agent's sensor link); `:` never occurs in a device id, so no
 * device can take over another's session. A disabled device is refused. The ACL (identity/device-acl.ts) lets a
 * device publish and subscribe only its own topics. The server's own bus client logs in as
 * `edgeloop-server` with a secret made for this process, and may do anything.
 *
 * Refusals are logged (warn: client, topic, reason) and counted. A refused subscription gets
 * SUBACK 0x80 and the connection stays up. A refused publish is dropped and the connection
 * closed: MQTT 3.1.1 has no negative PUBACK, and an honest agent never publishes outside its
 * own topics.
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { deviceMayPublish, deviceMaySubscribe } from '../identity/device-acl.js';
import { SERVER_MQTT_USERNAME, type IdentityService } from '../identity/identity-service.js';

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

export interface EmbeddedBroker {
  url: string;
  port: number;
  refusals: BrokerRefusals;
  /** Closes the device's live session, if any (disabled or revoked). */
  disconnect(deviceId: string, reason: string): void;
  close(): Promise<void>;
}

/** MQTT 3.1.1 CONNACK codes. */
const IDENTIFIER_REJECTED = 2;
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

/** `tls`: listen for MQTT over TLS only (key and certificate chain, PEM). */
export async function startEmbeddedBroker(host: string, port: number, log: Logger, auth: BrokerAuth, tls?: { key: string; cert: string }): Promise<EmbeddedBroker> {
  const refusals: BrokerRefusals = { connect: 0, publish: 0, subscribe: 0 };
  const aedes = await Aedes.createBroker({
    id: 'edgeloop-embedded',
    // A device id (≤ 64) plus a `:suffix` for its second connection (the sensor link).
    maxClientsIdLength: 128,
    authenticate(client, username, password, done) {
      const refuse = (code: number, reason: string) => {
        refusals.connect++;
        log.warn({ clientId: client.id, username, reason }, 'mqtt connection refused');
        done(refusal(code, reason), false);
      };
      const secret = password?.toString('utf8') ?? '';
      if (!username) return refuse(BAD_USERNAME_OR_PASSWORD, 'no username: devices log in with their device id and enrollment password');
      if (username === SERVER_MQTT_USERNAME) {
        if (!sameSecret(secret, auth.serverPassword)) return refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password for the server user');
        principal.set(client, username);
        return done(null, true);
      }
      if (client.id !== username && !client.id.startsWith(`${username}:`)) {
        return refuse(IDENTIFIER_REJECTED, `client id "${client.id}" must be the username (the device id) or start with "<device id>:"`);
      }
      const result = auth.identity.authenticateDevice(username, secret);
      if (!result.ok) return refuse(result.reason === 'device is disabled' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD, result.reason);
      principal.set(client, username);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // null: a will stored from an earlier session; it was checked when that session ended.
      if (!client) return done(null);
      const user = principal.get(client);
      if (user === SERVER_MQTT_USERNAME) return done(null);
      const decision = user ? deviceMayPublish(user, packet.topic) : { ok: false as const, reason: 'not authenticated' };
      if (decision.ok) return done(null);
      refusals.publish++;
      log.warn({ clientId: client.id, topic: packet.topic, reason: decision.reason }, 'mqtt publish refused; closing the connection');
      done(new Error(`publish to ${packet.topic} refused: ${decision.reason}`));
    },
    authorizeSubscribe(client, sub, done) {
      const user = principal.get(client);
      if (user === SERVER_MQTT_USERNAME) return done(null, sub);
      const decision = user ? deviceMaySubscribe(user, sub.topic) : { ok: false as const, reason: 'not authenticated' };
      if (decision.ok) return done(null, sub);
      refusals.subscribe++;
      log.warn({ clientId: client.id, topic: sub.topic, reason: decision.reason }, 'mqtt subscription refused');
      // null = SUBACK 0x80 for this filter; the connection stays up.
      done(null, null);
    },
  });
  aedes.on('clientError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));

  const disconnect = (deviceId: string, reason: string) => {
    const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    for (const [id, client] of Object.entries(clients)) {
      if (!client || principal.get(client) !== deviceId) continue;
      log.warn({ clientId: id, reason }, 'closing the device\'s mqtt session');
      client.close();
    }
  };
  auth.identity.on('device-disabled', ({ deviceId }) => disconnect(deviceId, 'device disabled'));
  auth.identity.on('credential-revoked', ({ deviceId }) => disconnect(deviceId, 'credential revoked'));
  // Re-enrollment rotates the password: a session opened with the old one must not outlive it.
  auth.identity.on('credential-issued', ({ deviceId }) => disconnect(deviceId, 'credential rotated'));

  // A TLS socket reaches aedes only after its handshake ('secureConnection'), through the same handler.
  const server: Server = tls ? createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, aedes.handle) : createServer(aedes.handle);
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'mqtt tls handshake failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot start the MQTT broker on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}; pick another with --mqtt-port (0 = any free port)`)),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${urlHost}:${actual}`,
    port: actual,
    refusals,
    disconnect,
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
      }),
  };
}
