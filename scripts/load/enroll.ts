/**
 * @module load/enroll
 * Enrolls the simulated fleet the way devices enroll, through the REST API: one enrollment token
 * with a use per device (the API's bulk provisioning), then every device trades it for its own
 * credentials at POST /api/v1/enroll, many requests in flight at once.
 */
import { adminJson, type FleetAccess } from '@edgeloop/test/support/processes';
import type { EnrollResponse } from '@edgeloop/protocol';
import type { DeviceCredentials } from './ipc.js';

const MAX_TOKEN_USES = 100_000;
const CONCURRENCY = 32;

export const deviceIdOf = (i: number) => `load-${String(i).padStart(6, '0')}`;

export async function enrollFleet(
  server: FleetAccess,
  count: number,
  progress: (done: number) => void,
): Promise<DeviceCredentials[]> {
  const out: DeviceCredentials[] = new Array(count);
  let next = 0;
  let done = 0;
  let token = '';
  let tokenUsesLeft = 0;
  const newToken = async () => {
    const uses = Math.min(MAX_TOKEN_USES, count - next + CONCURRENCY);
    token = (await adminJson<{ token: string }>(server, 'POST', '/api/v1/enrollment-tokens', { uses })).token;
    tokenUsesLeft = uses;
  };
  await newToken();
  const timer = setInterval(() => progress(done), 2000);
  try {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
        while (next < count) {
          const i = next++;
          if (tokenUsesLeft-- <= 0) await newToken();
          const res = await fetch(`${server.httpUrl}/api/v1/enroll`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ token, deviceId: deviceIdOf(i) }),
          });
          const text = await res.text();
          if (!res.ok) throw new Error(`enrolling ${deviceIdOf(i)} → ${res.status} ${text}`);
          const e = JSON.parse(text) as EnrollResponse;
          out[i] = { id: e.deviceId, password: e.password, index: i };
          done++;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  return out;
}
