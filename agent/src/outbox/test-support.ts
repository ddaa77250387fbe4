/**
 * @module outbox/test-support
 * Test-only helpers for the outbox tests: an agent database in a real SQLite file, an aedes broker
 * in-process on a free port, and a "fleet" peer on it that records what devices publish and acks
 * on request. Not imported by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { deviceTopic, encodeMessage, parseDeviceTopic, type Ack, type DeviceChannel } from '@edgeloop/protocol';
import { openAgentDb, type AgentDb } from '../store/agent-db.js';

type After = { after: (fn: () => void | Promise<void>) => void };

export const silent = pino({ level: 'silent' });

/** A logger whose JSON lines land in `lines` (to read what a lane decided, e.g. its pauses). */
export function recordingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** A fresh agent database in a temp directory; `reopen` closes it and opens the same file again (a restart). */
export function tempAgentDb(t: After): { path: string; db: AgentDb; reopen(): AgentDb } {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-outbox-'));
  const path = join(dir, 'agent.db');
  const handle = { path, db: openAgentDb(path), reopen: () => handle.db };
  handle.reopen = () => {
    handle.db.close();
    handle.db = openAgentDb(path);
    return handle.db;
  };
  t.after(() => {
    if (handle.db.open) handle.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return handle;
}

export interface TestBroker {
  url: string;
  /** Drops a client's connection at the broker, as a network cut would. */
  cut(clientId: string): void;
}

/** aedes on a free loopback port, no authentication (the broker's own rules are tested elsewhere). */
export async function inProcessBroker(t: After): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut(clientId) {
      const client = (broker as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients[
        clientId
      ];
      if (!client) throw new Error(`no client ${clientId} on the broker`);
      client.conn.destroy();
    },
  };
}

export interface FleetPeer {
  /** What the device published, per channel, in arrival order. */
  received: Map<DeviceChannel, Buffer[]>;
  ack(ack: Ack): Promise<void>;
  close(): Promise<void>;
}

/** A client playing the fleet server for one device: subscribes to its outbox channels, acks when told. */
export async function fleetPeer(t: After, url: string, deviceId: string): Promise<FleetPeer> {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `fleet-peer-${deviceId}`, reconnectPeriod: 0 });
  const received = new Map<DeviceChannel, Buffer[]>();
  client.on('message', (topic, payload) => {
    const parsed = parseDeviceTopic(topic);
    if (!parsed.ok) return;
    received.set(parsed.channel, [...(received.get(parsed.channel) ?? []), payload]);
  });
  await client.subscribeAsync(
    (['telemetry', 'reference', 'sample', 'update', 'summary', 'alert'] as const).map((c) => deviceTopic(deviceId, c)),
    { qos: 1 },
  );
  const peer: FleetPeer = {
    received,
    ack: async (ack) => void (await client.publishAsync(deviceTopic(deviceId, 'ack'), encodeMessage(ack), { qos: 1 })),
    close: () => client.endAsync(true),
  };
  t.after(() => peer.close());
  return peer;
}
