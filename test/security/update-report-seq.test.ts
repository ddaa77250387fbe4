/**
 * Forged update reports from a device's own login (a second connection with the device's
 * credentials, as malware on the device or a leaked password would have). Before reports were
 * bound to sessions, one report with reportSeq 999999 made the server refuse every honest report
 * after it, for good: the fleet's view of the device froze. Now a report counts only for the
 * session of the device's current birth, reportSeq restarts per session, and a jump of more
 * than 1,000 over the last one taken is refused. Real agent, real fleet server and broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_REPORT_SEQ_STEP,
  deviceTopic,
  encodeMessage,
  type TelemetryBatch,
  type UpdateReport,
} from '@edgeloop/protocol';
import { sample, waitFor } from '../support/fixtures.js';
import { startTestFleet, until } from '../support/in-process-fleet.js';
import { connectOrThrow } from '../support/mosquitto.js';
import { events, metadata, reported, servingVersion } from './signing-support.js';

const DEVICE = 'sec-report-pi';

test("a forged reportSeq cannot freeze the fleet's view of a device", { timeout: 120_000 }, async (t) => {
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const { server } = fleet;
  let agent = await fleet.startAgent(DEVICE);
  await fleet.deploySample(DEVICE);
  const forger = await connectOrThrow(server.mqttUrl, {
    clientId: `${DEVICE}:forger`,
    ...(await fleet.enroll(DEVICE)),
  });
  t.after(() => forger.endAsync(true));

  let marker = 0;
  /** Sends forged reports, then a telemetry batch on the same connection: once it is stored, the reports were handled. */
  const forge = async (...reports: Array<Partial<UpdateReport>>) => {
    for (const r of reports) {
      const report: UpdateReport = {
        v: 1,
        model: 'distance',
        version: 1,
        state: 'failed',
        code: 'forged',
        reason: 'forged',
        ts: Date.now(),
        session: 0,
        reportSeq: 1,
        ...r,
      };
      await forger.publishAsync(deviceTopic(DEVICE, 'update'), encodeMessage(report), { qos: 1 });
    }
    const seq = ++marker;
    const batch: TelemetryBatch = {
      v: 1,
      stream: 'forger-marker',
      backlog: 0,
      records: [{ seq, ts: Date.now(), model: 'distance', version: 1, output: [1], latencyMs: 1, features: {} }],
    };
    await forger.publishAsync(deviceTopic(DEVICE, 'telemetry'), encodeMessage(batch), { qos: 1 });
    await waitFor(
      'forged reports handled',
      async () =>
        (await server.telemetry.query({ device: DEVICE, limit: 10_000 })).some(
          (r) => r.stream === 'forger-marker' && r.seq === seq,
        ) || undefined,
    );
  };
  const forgedEvents = async () => (await events(server, DEVICE)).filter((e) => e.code === 'forged');

  await t.test('reportSeq 999999 within the current session is refused, honest reports go on', async () => {
    const session = (await server.devices.get(DEVICE))!.session;
    await forge({ session, reportSeq: 999_999 }, { session, reportSeq: 1 + MAX_REPORT_SEQ_STEP * 5 });
    assert.deepEqual(await forgedEvents(), [], 'neither jump was taken');
    await server.registry.register({ name: 'distance', bytes: sample.v2, metadata });
    await server.deployments.assign('distance', 2, [DEVICE]);
    await reported(server, DEVICE, 2, 'active');
    assert.equal((await server.devices.get(DEVICE))!.assignments.find((a) => a.model === 'distance')?.state, 'active');
    assert.equal(await servingVersion(agent), 2);
  });

  await t.test('reports for another session than the current one are refused', async () => {
    const session = (await server.devices.get(DEVICE))!.session;
    await forge(
      { session: session + 1, reportSeq: 1 },
      { session: session - 1, reportSeq: 1 },
      { session: 0, reportSeq: 1 },
    );
    assert.deepEqual(await forgedEvents(), []);
  });

  await t.test('after a reconnect the new session starts again at 1 and is taken', async () => {
    const before = (await server.devices.get(DEVICE))!.session;
    await agent.close();
    agent = await fleet.startAgent(DEVICE);
    await until(
      'the new session announced',
      async () =>
        ((await server.devices.get(DEVICE))?.session ?? 0) > before &&
        (await server.devices.get(DEVICE))?.online === true,
    );
    const v3 = await server.registry.register({ name: 'distance', bytes: sample.v1, metadata });
    await server.deployments.assign('distance', v3.version, [DEVICE]);
    await reported(server, DEVICE, v3.version, 'active');
    const taken = (await events(server, DEVICE)).filter((e) => e.version === v3.version) as unknown as Array<{
      session: number;
      reportSeq: number;
    }>;
    const session = (await server.devices.get(DEVICE))!.session;
    assert.ok(
      taken.every((e) => e.session === session),
      'all on the new session',
    );
    assert.ok(
      Math.min(...taken.map((e) => e.reportSeq)) <= 3,
      `reportSeq restarted: ${taken.map((e) => e.reportSeq).join(',')}`,
    );
    assert.equal(await servingVersion(agent), v3.version);
  });
});
