/**
 * Acceptance (rollouts): real agents on real MQTT predict on live inputs while a site
 * sensor (an MQTT broker of its own, like an integrator's) publishes the true distance for every
 * prediction, joined by request id. The fleet server sees live error per version.
 *
 * (a) A staged rollout of a candidate that is worse against the reference values stops on its
 *     first wave and rolls back by itself: the wave device ends on a re-release of the baseline,
 *     the other devices never get the candidate, the rollout is rolled-back with a reason.
 * (b) A better candidate proceeds to 100 %.
 * (c) Shadow: the candidate runs beside v1 on every device; its live error is measured against
 *     v1's on the same requests while v1 answers every one; promote rolls it out for real.
 * Each once on each store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { buildReferenceModel, SYNTHETIC_MODEL_OPTIONS } from '@edgeloop/models';
import type { RolloutDetail, RolloutSummary } from '@edgeloop/protocol';
import { greyTensor, postJson, sample, waitFor } from '../support/fixtures.js';
import { startTestFleet, type TestFleet } from '../support/in-process-fleet.js';
import { STORES, storeSkip, type StoreKind } from '../support/stores.js';

const DEVICES = ['ro-pi-1', 'ro-pi-2', 'ro-pi-3', 'ro-pi-4'];
/**
 * The truth is made up for grey tensors, so the baseline must be a model of known form: the
 * synthetic v1 (bias 100, gain 200) reads ~30 mm short of it. Candidates vary its bias.
 */
const truth = (level: number) => 130 + 200 * level;

interface SiteBroker {
  url: string;
  close(): Promise<void>;
}

/** The integrator's own broker the sensors publish to (not the fleet's). */
async function startSiteBroker(): Promise<SiteBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => broker.close(() => server.close(() => resolve()))),
  };
}

interface Setup {
  fleet: TestFleet;
  api: <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: T }>;
  /** Grey-level predictions on every agent, each followed by its sensor's true value. */
  stopFeeding(): Promise<void>;
  /** The model version that answered each prediction, in order. */
  answeredBy: number[];
}

async function setUp(t: { after(fn: () => Promise<void>): void }, store: StoreKind): Promise<Setup> {
  const site = await startSiteBroker();
  const fleet = await startTestFleet({ store, baselineModel: buildReferenceModel(SYNTHETIC_MODEL_OPTIONS.v1) });
  const sensor: MqttClient = await mqtt.connectAsync(site.url, { reconnectPeriod: 200 });
  const agents = await Promise.all(
    DEVICES.map(async (id) => {
      const agent = await fleet.startAgent(id, {
        sensors: {
          brokers: { site: { url: site.url } },
          bindings: [
            {
              name: 'tof',
              broker: 'site',
              topic: `site/${id}/tof`,
              payload: { format: 'json', valuePath: 'mm', correlationPath: 'request' },
              model: 'distance',
              join: { by: 'correlation' },
              holdMs: 2000,
            },
          ],
        },
      });
      await fleet.deploySample(id);
      return agent;
    }),
  );
  const token = fleet.adminToken;
  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`${fleet.server.httpUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  let feeding = true;
  let n = 0;
  const answeredBy: number[] = [];
  const feeders = agents.map(async (agent, i) => {
    while (feeding) {
      const level = 0.2 + ((n++ * 7) % 13) / 20;
      const request = `${DEVICES[i]}-${n}`;
      const res = await postJson(`${agent.apiUrl}/v1/predict`, greyTensor(level, request)).catch(() => undefined);
      if (res?.status === 200) answeredBy.push(res.body.version as number);
      if (res?.status === 200)
        await sensor.publishAsync(`site/${DEVICES[i]}/tof`, JSON.stringify({ request, mm: truth(level) }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  const stopFeeding = async () => {
    feeding = false;
    await Promise.all(feeders);
  };
  t.after(async () => {
    await stopFeeding();
    await sensor.endAsync();
    await fleet.close();
    await site.close();
  });

  // The baseline earns its live error first: reference-joined records of v1 on every device.
  const baselineRows = () =>
    Promise.all(DEVICES.map((d) => fleet.server.telemetry.query({ device: d, version: 1, limit: 1000 })));
  try {
    await waitFor(
      'baseline records with reference values on every device',
      async () =>
        (await baselineRows()).every((rows) => rows.filter((r) => r.reference !== null).length >= 15) || undefined,
      60_000,
    );
  } catch (err) {
    // Says which side is missing: the records, or the reference values joined to them.
    const counts = (await baselineRows()).map(
      (rows, i) =>
        `${DEVICES[i]}: ${rows.length} v1 records, ${rows.filter((r) => r.reference !== null).length} with a reference`,
    );
    throw new Error(`${(err as Error).message} (${counts.join('; ')})`, { cause: err });
  }
  return { fleet, api, stopFeeding, answeredBy };
}

/** Registers a candidate: the reference model with another offset (seed 1 keeps the shape). */
async function registerCandidate(fleet: TestFleet, bias: number): Promise<number> {
  return (
    await fleet.server.registry.register({
      name: 'distance',
      bytes: buildReferenceModel({ seed: 1, bias }),
      metadata: sample.metadata,
    })
  ).version;
}

const PARAMETERS = {
  waves: [{ percent: 25 }, { percent: 100 }],
  waitMs: 0,
  minDevices: 1,
  healthyAfterMs: 0,
  liveError: { minRecords: 10, maxErrorRatio: 1.5 },
};

async function rolloutUntil(
  s: Setup,
  id: string,
  what: string,
  done: (r: RolloutDetail) => boolean,
): Promise<RolloutDetail> {
  let last: RolloutDetail | undefined;
  try {
    return await waitFor(
      `rollout ${id}: ${what}`,
      async () => {
        last = (await s.api<RolloutDetail>('GET', `/api/v1/rollouts/${id}`)).body;
        return done(last) ? last : undefined;
      },
      90_000,
      200,
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; last seen: ${JSON.stringify({ rollout: last?.rollout, gates: last?.gates, devices: last?.devices })}`,
      { cause: err },
    );
  }
}

const settled = (r: RolloutDetail) => !r.devices.some((d) => ['assigned', 'downloading', 'verified'].includes(d.state));

for (const store of STORES) {
  const skip = await storeSkip(store);
  test(
    `a staged rollout of a worse candidate stops on its first wave and rolls back by itself (${store})`,
    { timeout: 180_000, skip },
    async (t) => {
      const s = await setUp(t, store);
      const candidate = await registerCandidate(s.fleet, 200); // reads ~70 mm long: more than twice v1's error
      const created = await s.api<{ rollout: RolloutSummary }>('POST', '/api/v1/rollouts', {
        model: 'distance',
        version: candidate,
        strategy: 'staged',
        target: { all: true },
        parameters: PARAMETERS,
        reason: 'acceptance: worse candidate',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.rollout.id;

      const end = await rolloutUntil(
        s,
        id,
        'rolled back',
        (r) => r.rollout.state !== 'running' && !r.devices.some((d) => ['active', 'healthy'].includes(d.state)),
      );
      assert.equal(end.rollout.state, 'rolled-back', `${end.rollout.state}: ${end.rollout.reason}`);
      assert.match(end.rollout.reason!, /live error: candidate MAE [\d.]+ \(\d+ records\) vs baseline MAE/);
      assert.ok(end.liveError.candidate.mae! > 1.5 * end.liveError.baseline.mae!, JSON.stringify(end.liveError));

      const waveDevice = end.devices.find((d) => d.wave === 0)!;
      const others = DEVICES.filter((d) => d !== waveDevice.deviceId);
      assert.equal(waveDevice.state, 'rolled-back');
      const rerelease = end.rollout.rollbackVersions['1']!;
      assert.ok(rerelease > candidate, 'the baseline came back as a new, higher version');
      const v1 = (await s.fleet.server.models.get('distance', 1))!;
      const again = (await s.fleet.server.models.get('distance', rerelease))!;
      assert.equal(again.sha256, v1.sha256, 'the re-release carries the baseline artifact');
      assert.equal(again.lineage.trigger, 'rollback');
      assert.equal(again.lineage.parent, 1);

      // The wave device activates the re-release (anti-rollback accepts it: its number is higher).
      await waitFor(
        'the wave device serving the re-release',
        async () =>
          (await s.fleet.server.devices.get(waveDevice.deviceId))?.models.find((m) => m.name === 'distance')
            ?.version === rerelease || undefined,
        60_000,
      );
      for (const d of others) {
        const device = (await s.fleet.server.devices.get(d))!;
        assert.deepEqual(
          device.models.map((m) => m.version),
          [1],
          `${d} still serves v1`,
        );
        assert.ok(
          !(await s.fleet.server.devices.events(d, 1000)).some((e) => e.version === candidate),
          `${d} never heard of v${candidate}`,
        );
        assert.equal(end.devices.find((x) => x.deviceId === d)!.state, 'pending');
      }
      const decision = (await s.fleet.server.audit.list({ target: id, action: 'rollout.rollback' }))[0]!;
      assert.equal(decision.actor, 'system');
      assert.equal(decision.details.gate, 'live-error');
    },
  );

  test(`a staged rollout of a better candidate proceeds to 100 % (${store})`, { timeout: 180_000, skip }, async (t) => {
    const s = await setUp(t, store);
    const candidate = await registerCandidate(s.fleet, 130); // on the true distance
    const created = await s.api<{ rollout: RolloutSummary }>('POST', '/api/v1/rollouts', {
      model: 'distance',
      version: candidate,
      strategy: 'staged',
      target: { all: true },
      parameters: PARAMETERS,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.rollout.id;

    const end = await rolloutUntil(s, id, 'completed', (r) => r.rollout.state !== 'running' && settled(r));
    assert.equal(end.rollout.state, 'completed', `${end.rollout.state}: ${end.rollout.reason}`);
    assert.ok(end.liveError.candidate.mae! < end.liveError.baseline.mae!, JSON.stringify(end.liveError));
    assert.deepEqual(
      end.waves.map((w) => w.size),
      [1, 3],
    );
    for (const d of DEVICES) {
      assert.ok(['active', 'healthy'].includes(end.devices.find((x) => x.deviceId === d)!.state));
      assert.deepEqual(
        (await s.fleet.server.devices.get(d))!.models.map((m) => m.version),
        [candidate],
        `${d} serves the candidate`,
      );
    }
    const actions = (await s.fleet.server.audit.list({ target: id })).map((a) => `${a.actor}:${a.action}`).reverse();
    assert.deepEqual(
      actions.filter((a) => a.startsWith('system:')),
      ['system:rollout.advance', 'system:rollout.complete'],
    );
  });

  test(
    `a shadow rollout measures the candidate without it answering, then promote rolls it out (${store})`,
    { timeout: 180_000, skip },
    async (t) => {
      const s = await setUp(t, store);
      const candidate = await registerCandidate(s.fleet, 130);
      const created = await s.api<{ rollout: RolloutSummary }>('POST', '/api/v1/rollouts', {
        model: 'distance',
        version: candidate,
        strategy: 'shadow',
        target: { all: true },
        parameters: { waitMs: 0, healthyAfterMs: 0, liveError: { minRecords: 10 }, promoteTo: { strategy: 'direct' } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.rollout.id;
      const answeredBefore = s.answeredBy.length;

      const holding = await rolloutUntil(s, id, 'holding', (r) => r.rollout.holding || r.rollout.state !== 'running');
      assert.equal(holding.rollout.state, 'running', holding.rollout.reason ?? '');
      assert.equal(holding.rollout.role, 'shadow');
      assert.ok(
        holding.liveError.candidate.records >= 10 && holding.liveError.baseline.records >= 10,
        JSON.stringify(holding.liveError),
      );
      assert.ok(
        holding.liveError.candidate.mae! < holding.liveError.baseline.mae!,
        'the shadow is closer to the sensor than v1',
      );
      for (const d of DEVICES)
        assert.deepEqual(
          (await s.fleet.server.devices.get(d))!.models.map((m) => m.version),
          [1],
          `${d} serves v1 only`,
        );
      const duringShadow = s.answeredBy.slice(answeredBefore);
      assert.ok(
        duringShadow.length > 0 && duringShadow.every((v) => v === 1),
        'not a single request was answered by the shadow',
      );

      const promoted = await s.api<{ rollout: RolloutSummary }>('POST', `/api/v1/rollouts/${id}/promote`, {
        reason: 'shadow beats v1',
      });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      const end = await rolloutUntil(s, id, 'completed', (r) => r.rollout.state !== 'running' && settled(r));
      assert.equal(end.rollout.state, 'completed', end.rollout.reason ?? '');
      assert.equal(end.rollout.strategy, 'direct');
      for (const d of DEVICES)
        assert.deepEqual(
          (await s.fleet.server.devices.get(d))!.models.map((m) => m.version),
          [candidate],
        );
      assert.ok((await s.fleet.server.audit.list({ target: id, action: 'rollout.promote' })).length === 1);
    },
  );
}
