/**
 * @module support/fleet-client
 * Small typed reads of the fleet server's REST API for tests, as admin: every test server
 * (startServerProcess, startTestFleet) accepts TEST_ADMIN_TOKEN.
 */

/** The bootstrap admin token of every server the test support starts. Not a secret. */
export const TEST_ADMIN_TOKEN = 'edgeloop-test-admin-token-not-secret';

/**
 * The embedded broker's full-access user on every server the test support starts
 * (mqtt.serverPassword): for test clients that play the fleet server or watch every topic
 * (replaying a desired state, publishing malformed input, a sensor on the fleet broker).
 * Spread it into mqtt.connect options: `mqtt.connectAsync(url, { ...TEST_MQTT_SERVER })`.
 */
export const TEST_MQTT_SERVER = { username: 'edgeloop-server', password: 'edgeloop-test-mqtt-server-not-secret' } as const;

export interface DeviceJson {
  id: string;
  online: boolean;
  models: Array<{ name: string; version: number; sha256: string }>;
  assignments: Array<{ model: string; version: number; state: string; code: string | null; reason: string | null }>;
  records: number;
  backlog: number;
  dropped: number;
}

export interface EventJson { model: string; version: number; state: string; code: string | null; reason: string | null }

export interface RecordJson { deviceId: string; stream: string; seq: number; model: string; version: number; requestId: string | null; prediction: number | null; historical: boolean }

export async function getJson<T>(url: string, token: string = TEST_ADMIN_TOKEN): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const fleet = (httpUrl: string, token: string = TEST_ADMIN_TOKEN) => ({
  devices: async () => (await getJson<{ devices: DeviceJson[] }>(`${httpUrl}/api/v1/devices`, token)).devices,
  device: async (id: string) => getJson<{ device: DeviceJson; events: EventJson[] }>(`${httpUrl}/api/v1/devices/${id}`, token),
  telemetry: async (device: string, limit = 10_000) =>
    (await getJson<{ records: RecordJson[] }>(`${httpUrl}/api/v1/telemetry?device=${device}&limit=${limit}&order=oldest`, token)).records,
});
