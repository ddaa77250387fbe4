import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { deviceTopic, encodeMessage, encodeTelemetryBatch, type Ack, type TelemetryRecord } from '@edgeloop/protocol';
import { startFleetServer } from '../../server.js';
import { startTestPostgres, testPostgresSkip } from './test-postgres.js';

const skip = await testPostgresSkip();

// A record's ts is fixed when the device makes it; a re-send carries the same one.
const MADE = Date.now() - 60_000;
const record = (seq: number): TelemetryRecord => ({
  seq,
  ts: MADE + seq,
  model: 'distance',
  version: 1,
  output: [100 + seq],
  prediction: 100 + seq,
  latencyMs: 2,
  features: { brightness: 0.5 },
});

test(
  "a fleet server on PostgreSQL takes a device's telemetry over MQTT exactly once and acks it after commit",
  { skip },
  async (t) => {
    const db = await startTestPostgres();
    assert.ok('url' in db);
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-pg-server-'));
    const server = await startFleetServer(
      {
        dataDir: join(dir, 'fleet'),
        db: db.url,
        http: { port: 0 },
        mqtt: { mode: 'embedded', port: 0, serverPassword: 'pg-server-test-password-0123' },
      },
      pino({ level: 'silent' }),
    );
    t.after(async () => {
      await server.close();
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    assert.match(
      server.storeLocation,
      /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\//,
      'the location is shown without its password',
    );

    const { token } = await server.identity.enrollmentTokens.create({ uses: 1 }, 'test');
    const { username, password } = await server.identity.enroll({ token, deviceId: 'pi-pg' });
    const client = await mqtt.connectAsync(server.mqttUrl, {
      clientId: 'pi-pg',
      username,
      password,
      reconnectPeriod: 0,
    });
    t.after(() => client.endAsync());
    const acks: Ack[] = [];
    client.on('message', (_topic, payload) => acks.push(JSON.parse(payload.toString()) as Ack));
    await client.subscribeAsync(deviceTopic('pi-pg', 'ack'), { qos: 1 });
    const ackFor = async (kind: string, seqTo: number) => {
      for (let i = 0; i < 500; i++) {
        const ack = acks.find((a) => (a.kind ?? 'telemetry') === kind && a.seqTo === seqTo);
        if (ack) return ack;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${kind} ack up to ${seqTo}; got ${JSON.stringify(acks)}`);
    };

    await client.publishAsync(
      deviceTopic('pi-pg', 'telemetry'),
      encodeTelemetryBatch({ v: 1, stream: 's1', records: [1, 2].map(record), backlog: 0 }),
      { qos: 1 },
    );
    assert.equal((await ackFor('telemetry', 2)).status, 'stored');
    // A reference value for record 3 before the record itself, then a batch re-sending 2 with 3.
    await client.publishAsync(
      deviceTopic('pi-pg', 'reference'),
      encodeMessage({ v: 1, stream: 's1', updates: [{ id: 1, seq: 3, reference: 99 }] }),
      { qos: 1 },
    );
    await ackFor('reference', 1);
    await client.publishAsync(
      deviceTopic('pi-pg', 'telemetry'),
      encodeMessage({ v: 1, stream: 's1', records: [2, 3].map(record), backlog: 0 }),
      { qos: 1 },
    );
    assert.equal((await ackFor('telemetry', 3)).status, 'stored');

    const rows = await server.store.telemetry.query({ device: 'pi-pg', order: 'oldest' });
    assert.deepEqual(
      rows.map((r) => [r.seq, r.prediction, r.reference]),
      [
        [1, 101, null],
        [2, 102, null],
        [3, 103, 99],
      ],
    );
    assert.equal(server.stats.stored, 3);
    assert.equal(server.stats.duplicates, 1);
    assert.equal((await server.store.devices.get('pi-pg'))?.records, 3);
  },
);
