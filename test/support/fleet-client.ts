/**
 * @module support/fleet-client
 * Small typed reads of the fleet server's REST API for tests.
 */
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

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const fleet = (httpUrl: string) => ({
  devices: async () => (await getJson<{ devices: DeviceJson[] }>(`${httpUrl}/api/v1/devices`)).devices,
  device: async (id: string) => getJson<{ device: DeviceJson; events: EventJson[] }>(`${httpUrl}/api/v1/devices/${id}`),
  telemetry: async (device: string, limit = 10_000) =>
    (await getJson<{ records: RecordJson[] }>(`${httpUrl}/api/v1/telemetry?device=${device}&limit=${limit}&order=oldest`)).records,
});
