/**
 * Security: a flood of connections with wrong passwords is rate-limited per source address,
 * counted on /metrics by reason, and logged in a few lines rather than one per refusal. Honest
 * devices from another address are unaffected; the flooding address gets a token back every
 * 1/perSecond. Real aedes over TCP, raw sockets, the server's log captured line by line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectPacket,
  metrics,
  rawClient,
  refused,
  startBrokerFleet,
  WARN,
  type RawClient,
} from './broker-support.js';

/** One attempt: CONNECT with the given password; resolves with the CONNACK code, or undefined if closed without one. */
async function attempt(
  url: string,
  username: string,
  password: string,
  localAddress?: string,
): Promise<number | undefined> {
  let c: RawClient;
  try {
    c = await rawClient(url, localAddress);
  } catch {
    return undefined;
  }
  c.socket.write(connectPacket(username, username, password));
  await Promise.race([
    c.closed,
    new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (c.connack() !== undefined) {
          clearInterval(poll);
          resolve();
        }
      }, 2);
      void c.closed.then(() => clearInterval(poll));
    }),
  ]);
  c.socket.destroy();
  return c.connack();
}

test(
  '2,000 connects with a wrong password: refused by rate after the burst, counted, logged in a few lines',
  { timeout: 120_000 },
  async (t) => {
    const h = await startBrokerFleet({ connectRate: { burst: 50, perSecond: 5 } });
    t.after(() => h.close());
    const { username, password } = await h.enroll('flood-pi');
    const url = h.server.mqttUrl;

    const outcomes: Array<number | undefined> = [];
    for (let i = 0; i < 2000; i += 100) {
      outcomes.push(...(await Promise.all(Array.from({ length: 100 }, () => attempt(url, username, `${password}x`)))));
    }
    const badPassword = outcomes.filter((o) => o === 4).length;
    const cutOff = outcomes.filter((o) => o === undefined).length;
    assert.equal(badPassword + cutOff, 2000, 'every attempt was refused');
    assert.ok(
      cutOff >= 1500,
      `${cutOff} closed by the rate limit before their CONNECT was read (${badPassword} got to the password check)`,
    );

    const m = await metrics(h.server.httpUrl);
    assert.equal(refused(m, 'auth'), badPassword);
    assert.equal(refused(m, 'connect_rate'), cutOff);
    const warnings = h.logs.filter((l) => l.level >= WARN);
    assert.ok(warnings.length < 20, `${warnings.length} warning lines for 2,000 refusals`);
    t.diagnostic(
      `2000 wrong passwords: ${badPassword} reached the password check, ${cutOff} closed by the rate limit; ${warnings.length} warning lines`,
    );

    // Another address is not affected: the right password from 127.0.0.2 gets in at once …
    assert.equal(
      await attempt(url, username, password, '127.0.0.2'),
      0,
      'an honest device on another address connects',
    );
    // … and the flooding address is let in again after its bucket refills (5 per second here).
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(
      await attempt(url, username, password),
      0,
      'the right password from the flooding address works once a token is back',
    );
    assert.equal((await metrics(h.server.httpUrl)).get('edgeloop_broker_pending_connections'), 0);
  },
);
