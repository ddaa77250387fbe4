/**
 * The loop engine's triggers and guards on a real fleet server (SQLite, embedded broker, answers
 * checked against the REST contract): a manual run starts and waits for data (asking for a
 * capture), a second is refused while it runs, a cancel ends it, the cool-down refuses the next
 * unless forced, an incident of a wanted rule starts a run by itself and one of another rule does
 * not, and the daily budget stops automatic runs. What the steps do with data is the
 * integration tests' (test/integration/loop-*.test.ts) and the closed-loop e2e test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';
import type { LoopPolicyInput, LoopRun } from '@edgeloop/protocol/rest';
import { startFleetServer } from '../server.js';
import type { IncidentRecord } from '../store/fleet-store.js';

const TOKEN = 'loop-engine-test-admin-token';

async function loopServer(t: { after(fn: () => Promise<void>): void }, policy: LoopPolicyInput) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-loop-'));
  const server = await startFleetServer(
    {
      dataDir: join(dir, 'fleet'),
      http: { port: 0 },
      mqtt: { mode: 'embedded', port: 0 },
      adminToken: TOKEN,
      validateResponses: true,
      loop: { policies: [policy], tickMs: 50 },
    },
    pino({ level: 'silent' }),
  );
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v1),
    metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as { run: LoopRun; runs: LoopRun[]; error?: string } };
  };
  return { server, api };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const incident = (id: string, rule: string, version = 2): IncidentRecord => ({
  id,
  rule,
  metric: 'features.max.psi',
  severity: 'warning',
  model: 'distance',
  version,
  state: 'open',
  openedAt: Date.now(),
  updatedAt: Date.now(),
  quietSince: null,
  resolvedAt: null,
  members: [{ scope: 'device:car-1', deviceId: 'car-1', alertId: 'al-1', since: Date.now() - 5000, state: 'firing' }],
  devices: ['car-1'],
  resolvedBy: null,
});

test('a manual run waits for data, is the only one of its model, cancels, and the cool-down holds unless forced', async (t) => {
  const { api, server } = await loopServer(t, {
    model: 'distance',
    dataset: { minSamples: 50, devices: 'all' },
    guards: { cooldownMs: 3_600_000 },
  });
  const started = await api('POST', '/loop/policies/distance/trigger', { reason: 'operator hunch' });
  assert.equal(started.status, 202, started.body.error);
  const id = started.body.run.id;
  assert.equal(started.body.run.trigger.kind, 'manual');
  assert.equal(started.body.run.champion, 1, 'the newest registered version is the champion');

  const waiting = await until('the data step to wait', async () => {
    const { body } = await api('GET', `/loop/runs/${id}`);
    const data = body.run.steps.find((s) => s.name === 'data')!;
    return data.status === 'waiting' ? data : undefined;
  });
  assert.match(waiting.outcome ?? '', /0 of 50 recent samples/);
  assert.equal(waiting.detail.captureDevices, 0, 'no device serves distance: nobody to ask for a capture');

  const second = await api('POST', '/loop/policies/distance/trigger', {});
  assert.equal(second.status, 409);
  assert.match(second.body.error!, new RegExp(`loop run ${id} of distance is running`));

  const cancelled = await api('POST', `/loop/runs/${id}/cancel`, { reason: 'wrong day' });
  assert.equal(cancelled.status, 200, cancelled.body.error);
  assert.equal(cancelled.body.run.state, 'cancelled');
  assert.match(cancelled.body.run.reason!, /cancelled by .*wrong day/);

  const cooling = await api('POST', '/loop/policies/distance/trigger', {});
  assert.equal(cooling.status, 409);
  assert.match(cooling.body.error!, /cool-down/);
  const forced = await api('POST', '/loop/policies/distance/trigger', { force: true });
  assert.equal(forced.status, 202, forced.body.error);

  const audit = await server.store.audit.list({ limit: 100 });
  const actions = audit.map((e) => e.action);
  assert.ok(actions.includes('loop.start') && actions.includes('loop.cancel'), actions.join(','));
});

test('an incident of a wanted rule starts a run by itself; another rule, a busy model and the daily budget do not', async (t) => {
  const { api, server } = await loopServer(t, {
    model: 'distance',
    triggers: [{ kind: 'incident', rules: ['default.feature-drift'] }],
    dataset: { minSamples: 50, devices: 'affected' },
    guards: { cooldownMs: 0, maxRunsPerDay: 1 },
  });
  const events = server.monitoring.events;
  const skipped = async (incidentId: string, why: RegExp) =>
    until(`the skip of ${incidentId}`, async () =>
      (await server.store.audit.list({ limit: 100 })).find(
        (e) => e.action === 'loop.skip' && JSON.stringify(e).includes(incidentId) && why.test(JSON.stringify(e)),
      ),
    );
  events.publish('monitoring.incident', { incident: incident('in-other', 'default.output-drift'), change: 'opened' });
  // Incidents of a version that no longer serves are not a reason to retrain the one serving now.
  await server.registry.register({
    name: 'distance',
    bytes: readFileSync(SAMPLE_MODELS.v2),
    metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')),
  });
  events.publish('monitoring.incident', {
    incident: incident('in-retired', 'default.feature-drift', 1),
    change: 'opened',
  });
  await skipped('in-retired', /no longer serves/);
  assert.equal((await api('GET', '/loop/runs')).body.runs.length, 0);
  events.publish('monitoring.incident', { incident: incident('in-1', 'default.feature-drift'), change: 'opened' });
  const run = await until('a run started by the incident', async () => (await api('GET', '/loop/runs')).body.runs[0]);
  assert.equal(run.trigger.kind, 'incident');
  assert.equal(run.trigger.incidentId, 'in-1');
  assert.equal(run.trigger.actor, 'system');
  assert.deepEqual(run.trigger.devices, ['car-1']);
  assert.equal(run.champion, 2);

  // Busy: a second incident while the run runs is skipped, not queued.
  events.publish('monitoring.incident', { incident: incident('in-2', 'default.feature-drift'), change: 'opened' });
  await skipped('in-2', /is running/);
  assert.equal((await api('GET', '/loop/runs')).body.runs.length, 1);

  // Over the budget of one automatic run a day: the next incident is skipped too, once this one ended.
  await api('POST', `/loop/runs/${run.id}/cancel`, {});
  events.publish('monitoring.incident', { incident: incident('in-3', 'default.feature-drift'), change: 'opened' });
  await skipped('in-3', /budget/);
  assert.equal((await api('GET', '/loop/runs')).body.runs.length, 1);
});
