/**
 * @module support/fleet-client
 * Small typed reads of the fleet server's REST API for tests, as admin: every test server
 * (startServerProcess, startTestFleet) accepts TEST_ADMIN_TOKEN.
 */
import { createRestClient } from '@edgeloop/protocol/client';

/** The bootstrap admin token of every server the test support starts. Not a secret. */
export const TEST_ADMIN_TOKEN = 'edgeloop-test-admin-token-not-secret';

/**
 * The embedded broker's full-access user on every server the test support starts
 * (mqtt.serverPassword): for test clients that play the fleet server or watch every topic
 * (replaying a desired state, publishing malformed input, a sensor on the fleet broker).
 * Spread it into mqtt.connect options: `mqtt.connectAsync(url, { ...TEST_MQTT_SERVER })`.
 */
export const TEST_MQTT_SERVER = {
  username: 'edgeloop-server',
  password: 'edgeloop-test-mqtt-server-not-secret',
} as const;

export async function getJson<T>(url: string, token: string = TEST_ADMIN_TOKEN): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Reads through the typed client, so every answer is also checked against the REST contract here. */
export const fleet = (httpUrl: string, token: string = TEST_ADMIN_TOKEN) => {
  const client = createRestClient({ baseUrl: httpUrl, headers: { authorization: `Bearer ${token}` } });
  return {
    devices: async () => (await client.listDevices()).devices,
    device: async (id: string) => client.getDevice({ params: { id } }),
    telemetry: async (device: string, limit = 10_000) =>
      (await client.listTelemetry({ query: { device, limit, order: 'oldest' } })).records,
  };
};
