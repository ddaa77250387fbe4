/**
 * @module security/signing-support
 * Shared steps of the signing attack tests: what a device reports and serves, and delivering a
 * desired state the fleet never meant to send (as an attacker with a foothold on the broker or
 * in the fleet database would).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RunningAgent } from '@edgeloop/agent';
import type { RunningFleetServer } from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH } from '@edgeloop/models';
import { deviceTopic, encodeMessage, type DesiredModel, type SignedEnvelope } from '@edgeloop/protocol';
import { greyTensor, postJson, waitFor } from '../support/fixtures.js';

export const metadata = JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as Record<string, unknown>;

export interface UpdateEvent {
  model: string;
  version: number;
  state: string;
  code: string | null;
  reason: string | null;
}

export async function events(server: RunningFleetServer, deviceId: string): Promise<UpdateEvent[]> {
  return (await server.devices.events(deviceId, 500)) as unknown as UpdateEvent[];
}

/** Waits for the device's report that `model` v`version` reached `state` (and returns it). */
export function reported(
  server: RunningFleetServer,
  deviceId: string,
  version: number,
  state: string,
  model = 'distance',
): Promise<UpdateEvent> {
  return waitFor(`${deviceId}: ${model} v${version} ${state}`, async () =>
    (await events(server, deviceId)).find((e) => e.model === model && e.version === version && e.state === state),
  );
}

/** How many reports of this kind the device has made so far. */
export async function count(
  server: RunningFleetServer,
  deviceId: string,
  version: number,
  state: string,
  model = 'distance',
): Promise<number> {
  return (await events(server, deviceId)).filter((e) => e.model === model && e.version === version && e.state === state)
    .length;
}

/** The version that answers a prediction right now (the request itself must succeed). */
export async function servingVersion(agent: RunningAgent, model = 'distance'): Promise<number> {
  const res = await postJson(`${agent.apiUrl}/v1/models/${model}/predict`, greyTensor(0.5));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.version as number;
}

/** Models the agent has loaded, by name → version. */
export async function loaded(agent: RunningAgent): Promise<Record<string, number>> {
  const body = (await (await fetch(`${agent.apiUrl}/v1/models`)).json()) as {
    models: Array<{ name: string; version: number }>;
  };
  return Object.fromEntries(body.models.map((m) => [m.name, m.version]));
}

/**
 * Publishes a desired state on the device's topic that the fleet's own state does not hold,
 * signed by the fleet's signing key with the device's next counter (as an attacker with a
 * foothold in the fleet database would get it sent): what is under test is the manifest inside.
 */
export async function inject(
  server: RunningFleetServer,
  deviceId: string,
  models: Array<Omit<DesiredModel, 'artifactUrl'> & { artifactUrl?: string; sha256?: string }>,
  given?: SignedEnvelope,
): Promise<void> {
  const keys = given ?? (await server.keys.keysetEnvelope());
  const signed = await server.deployments.issue(deviceId, {
    ...(keys ? { keys } : {}),
    models: models.map((m) => ({
      manifest: m.manifest,
      artifactUrl: m.artifactUrl ?? `${server.httpUrl}/api/v1/artifacts/${m.sha256 ?? '0'.repeat(64)}`,
    })),
  });
  await server.publish(deviceTopic(deviceId, 'desired'), encodeMessage(signed));
}

export function manifestOf(envelope: SignedEnvelope): { version: number; keyid: string; expires: string } {
  const m = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
    version: number;
    expires: string;
  };
  return { version: m.version, expires: m.expires, keyid: envelope.signatures[0]!.keyid };
}

/** How many desired states the agent refused with this code so far (agent /metrics). */
export async function desiredRefusals(agent: RunningAgent, code: string): Promise<number> {
  const text = await (await fetch(`${agent.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`edgeloop_desired_states_refused_total{code="${code}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
