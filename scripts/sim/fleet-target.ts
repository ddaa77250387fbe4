/**
 * @module sim/fleet-target
 * The fleet server `npm run sim` drives: its own (started here, fresh, the sample model
 * registered) or one already running, reached over its REST API with an admin token. Either
 * way the simulator gets the same four things: where the broker is, how a device enrolls, the
 * login the ToF sensors publish with, and how to deploy a model to the cars.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createRestClient } from '@edgeloop/protocol/client';
import { writePrivateFile } from '@edgeloop/protocol/state-dir';
import {
  removeServerInfo,
  startFleetServer,
  writeServerInfo,
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
} from '@edgeloop/fleet-server';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import { preferredPort } from '../demo/ports.js';

/** The embedded broker's full-access user: integrators' sensor publishers log in as it. */
export const SENSOR_USER = 'edgeloop-server';

export interface FleetTarget {
  httpUrl: string;
  mqttUrl: string;
  publicKey: string;
  adminToken: string;
  sensorLogin: { username: string; password: string };
  enroll(deviceId: string, group: string): Promise<{ username: string; password: string }>;
  /** Assigns model@version to the devices once they are online, and waits until they serve it. */
  deploy(model: string, version: number, deviceIds: string[]): Promise<void>;
  /** Lines for the operator: URLs and what to try. */
  describe(): string;
  close(): Promise<void>;
}

export interface OwnFleetOptions {
  dataDir: string;
  httpPort?: number;
  mqttPort?: number;
  /** Also write .edgeloop/server.json in the working directory (so `npx edgeloop` finds it). */
  announce: boolean;
  log: Logger;
}

/** A fresh fleet server in this process with the sample model registered; returns it and v1's version. */
export async function ownFleet(o: OwnFleetOptions): Promise<{ target: FleetTarget; version: number }> {
  // The sensors publish as the broker's full-access user, whose password is made here.
  const sensorLogin = { username: SENSOR_USER, password: randomBytes(24).toString('hex') };
  const server = await startFleetServer(
    {
      dataDir: join(o.dataDir, 'fleet'),
      http: { port: o.httpPort ?? (await preferredPort(DEFAULT_HTTP_PORT)) },
      mqtt: {
        mode: 'embedded',
        port: o.mqttPort ?? (await preferredPort(DEFAULT_MQTT_PORT)),
        serverPassword: sensorLogin.password,
      },
    },
    o.log,
  );
  // Removed on a clean stop, so the CLI in this directory does not keep naming a server that is gone.
  const cliServerFile = writeServerInfo(
    join(o.dataDir, 'fleet'),
    {
      httpUrl: server.httpUrl,
      mqttUrl: server.mqttUrl,
      publicKey: server.publicKey,
      keyId: server.keyId,
      pid: process.pid,
      ...(server.adminToken ? { token: server.adminToken } : {}),
    },
    o.announce,
  );
  const metadata = JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as unknown;
  const model = await server.registry.register({ name: 'distance', bytes: readFileSync(SAMPLE_MODELS.v1), metadata });
  const until = async (what: string, probe: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const target: FleetTarget = {
    httpUrl: server.httpUrl,
    mqttUrl: server.mqttUrl,
    publicKey: server.publicKey,
    adminToken: server.adminToken ?? '',
    sensorLogin,
    async enroll(deviceId, group) {
      const { token } = await server.identity.enrollmentTokens.create({ uses: 1, group }, 'npm-run-sim');
      const { username, password } = await server.identity.enroll({ token, deviceId });
      return { username, password };
    },
    async deploy(name, version, ids) {
      const devices = () => Promise.all(ids.map((d) => server.devices.get(d)));
      await until('the cars to come online', async () => (await devices()).every((d) => d?.online), 30_000);
      await server.deployments.assign(name, version, ids);
      await until(
        `the cars to serve ${name} v${version}`,
        async () => (await devices()).every((d) => d?.models.some((m) => m.name === name && m.version === version)),
        60_000,
      );
    },
    describe: () => `fleet server up
    console      ${server.httpUrl}/login#token=${server.adminToken ?? `(token in ${server.adminTokenFile})`}
    REST API     ${server.httpUrl}/api/v1
    MQTT broker  ${server.mqttUrl}  (sensors on site/tof/<device>)
    registered   distance v${model.version} (the sample model), signed by ${model.keyId}`,
    close: async () => {
      await server.close();
      removeServerInfo(cliServerFile);
    },
  };
  return { target, version: model.version };
}

export interface RemoteFleetOptions {
  httpUrl: string;
  /** Where device credentials are kept between runs (a car enrolls once, as a real device does). */
  credentialsDir: string;
  adminToken: string;
  /** The broker login the sensors publish with (the server's mqtt.serverPassword). */
  sensorPassword: string;
  sensorUser?: string;
}

/** A fleet server already running (plain HTTP and MQTT; a TLS fleet needs its CA, not handled here). */
export async function remoteFleet(o: RemoteFleetOptions): Promise<FleetTarget> {
  const client = createRestClient({ baseUrl: o.httpUrl, headers: { authorization: `Bearer ${o.adminToken}` } });
  const health = await client.health().catch((err: Error) => {
    throw new Error(`cannot reach the fleet server at ${o.httpUrl}: ${err.message}; is it running (edgeloop serve)?`);
  });
  if (health.mqttUrl.startsWith('mqtts') || o.httpUrl.startsWith('https'))
    throw new Error('the simulator reaches fleets over plain HTTP/MQTT only; run it beside a server on loopback');
  const wait = async (what: string, probe: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    httpUrl: o.httpUrl,
    mqttUrl: health.mqttUrl,
    publicKey: health.publicKey,
    adminToken: o.adminToken,
    sensorLogin: { username: o.sensorUser ?? SENSOR_USER, password: o.sensorPassword },
    async enroll(deviceId, group) {
      const file = join(o.credentialsDir, `${deviceId}.json`);
      if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { username: string; password: string };
      const { token } = await client.createEnrollmentToken({ body: { uses: 1, group } });
      const e = await client.enroll({ body: { token, deviceId, hardware: 'raspberrypi4' } }).catch((err: Error) => {
        throw new Error(
          `cannot enroll ${deviceId}: ${err.message}. Its credentials are not in ${o.credentialsDir} (another simulator state?); revoke it (edgeloop devices revoke ${deviceId}) or give --data the folder of the earlier run`,
        );
      });
      mkdirSync(o.credentialsDir, { recursive: true });
      writePrivateFile(file, JSON.stringify({ username: e.username, password: e.password }));
      return { username: e.username, password: e.password };
    },
    async deploy(model, version, ids) {
      const devices = async () => {
        const all = (await client.listDevices()).devices;
        return ids.map((id) => all.find((d) => d.id === id));
      };
      await wait('the cars to come online', async () => (await devices()).every((d) => d?.online), 30_000);
      await client.deploy({ body: { model, version, devices: ids } });
      await wait(
        `the cars to serve ${model} v${version}`,
        async () => (await devices()).every((d) => d?.models.some((m) => m.name === model && m.version === version)),
        60_000,
      );
    },
    describe: () => `using the fleet server at ${o.httpUrl} (MQTT ${health.mqttUrl})`,
    close: async () => undefined,
  };
}
