/**
 * Edge summaries on a real SQLite store: the rollups they add equal those of the same records
 * sent in full; re-sends count once; a summary on other edges or for an unknown version is refused
 * with its reason in the ack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  ackSchema,
  binSpecFor,
  binSpecId,
  binSpecOfVersion,
  emptyRollup,
  encodeMessage,
  foldRecord,
  MINUTE_MS,
  rollupToWire,
  windowStart,
  type Ack,
  type EdgeSummary,
  type Rollup,
  type SummaryBatch,
  type TelemetryRecord,
} from '@edgeloop/protocol';
import type { FleetStore, NewModelVersion } from '../store/fleet-store.js';
import { openFleetStore } from '../store/open-fleet-store.js';
import { summaryIngest } from './summary-ingest.js';

const silent = pino({ level: 'silent' });
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (10 * MINUTE_MS));

const summary = {
  features: { f: { edges: [0, 1, 2, 3, 4, 5], counts: [1, 1, 1, 1, 1] } },
  prediction: { edges: [0, 10, 20, 30, 40], counts: [1, 1, 1, 1] },
  reference: { edges: [0, 10, 20, 30, 40], counts: [1, 1, 1, 1] },
} as unknown as NewModelVersion['trainingSummary'];

const version: NewModelVersion = {
  name: 'm',
  version: 1,
  sha256: 'a'.repeat(64),
  size: 1,
  keyId: 'k1',
  createdAt: 1,
  envelope: { payloadType: 't', payload: 'p', signatures: [] },
  manifest: { name: 'm', version: 1 } as unknown as NewModelVersion['manifest'],
  description: null,
  labels: {},
  metrics: {},
  trainingSummary: summary,
  lineage: {},
};

async function openStore(t: { after: (fn: () => Promise<void>) => void }): Promise<FleetStore> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeloop-summaries-'));
  const store = await openFleetStore({ sqlitePath: join(dir, 'fleet.db') });
  await store.models.insert(version);
  await store.devices.ensure('d1', 1);
  await store.devices.setLabels('d1', { group: 'lab' });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** 25 minutes of one record every 7 s, some with a reference value. */
const records: TelemetryRecord[] = Array.from({ length: 215 }, (_, i) => ({
  seq: i + 1,
  ts: T0 + i * 7000,
  model: 'm',
  version: 1,
  output: [i % 37],
  prediction: (i * 1.37) % 41,
  latencyMs: 1,
  features: { f: (i * 0.173) % 6, g: i % 5 },
  ...(i % 3 === 0 ? { reference: (i * 1.11) % 39 } : {}),
}));

function ingestWith(store: FleetStore) {
  const acks: Ack[] = [];
  const handler = summaryIngest({
    store,
    publish: async (_topic, payload) => void acks.push(ackSchema.parse(JSON.parse(payload.toString()))),
    log: silent,
  });
  return { acks, send: (batch: SummaryBatch) => handler('d1', encodeMessage(batch)) };
}

/** What an agent in bandwidth mode sends for `records`: one summary per minute window. */
function summariesOf(recs: readonly TelemetryRecord[], specId: string): EdgeSummary[] {
  const spec = binSpecOfVersion(version.manifest, version.trainingSummary);
  const windows = new Map<number, Rollup>();
  for (const r of recs) {
    const ws = windowStart(r.ts, MINUTE_MS);
    const w = windows.get(ws) ?? emptyRollup();
    foldRecord(w, spec, r);
    windows.set(ws, w);
  }
  return [...windows].map(([ws, rollup], i) => ({
    seq: i + 1,
    model: 'm',
    version: 1,
    role: 'serving',
    specId,
    windowStart: ws,
    windowMs: MINUTE_MS,
    rollup: rollupToWire(rollup),
  }));
}

function assertSameRollup(a: Rollup, b: Rollup): void {
  assert.equal(a.count, b.count);
  for (const part of ['output', 'reference', 'error'] as const) {
    assert.deepEqual(a[part].bins, b[part].bins, part);
    assert.equal(a[part].n, b[part].n, part);
    assert.equal(a[part].min, b[part].min, part);
    assert.equal(a[part].max, b[part].max, part);
    assert.ok(Math.abs(a[part].sum - b[part].sum) < 1e-9, part);
    assert.ok(Math.abs(a[part].sumSq - b[part].sumSq) < 1e-9, part);
  }
  assert.ok(Math.abs(a.error.absSum - b.error.absSum) < 1e-9);
  assert.deepEqual(Object.keys(a.features).sort(), Object.keys(b.features).sort());
  for (const f in a.features) {
    assert.deepEqual(a.features[f]!.bins, b.features[f]!.bins, f);
    assert.ok(Math.abs(a.features[f]!.sum - b.features[f]!.sum) < 1e-9, f);
  }
}

test('rollups from edge summaries equal rollups from the same records sent in full, per scope and window', async (t) => {
  const full = await openStore(t);
  const edge = await openStore(t);
  await full.telemetry.storeBatches([{ deviceId: 'd1', stream: 's', records, historical: false }]);
  const specId = binSpecId(binSpecOfVersion(version.manifest, version.trainingSummary));
  const { acks, send } = ingestWith(edge);
  const summaries = summariesOf(records, specId);
  await send({ v: 1, stream: 'sum', summaries });
  assert.deepEqual(acks, [
    { v: 1, kind: 'summary', stream: 'sum', seqFrom: 1, seqTo: summaries.length, status: 'stored' },
  ]);

  const q = { model: 'm', version: 1, role: 'serving' as const };
  // Fleet and group: the same minute windows, window by window.
  for (const scope of ['fleet', 'group:lab'] as const) {
    const a = await full.rollups.windows({ ...q, scopes: [scope] });
    const b = await edge.rollups.windows({ ...q, scopes: [scope] });
    assert.deepEqual(
      a.map((w) => [w.windowStart, w.windowMs]),
      b.map((w) => [w.windowStart, w.windowMs]),
    );
    a.forEach((w, i) => assertSameRollup(w.rollup, b[i]!.rollup));
  }
  // The device: the agent's minute windows sum to the server's ten-minute ones.
  for (let from = T0; from < T0 + 30 * MINUTE_MS; from += 10 * MINUTE_MS) {
    const range = { ...q, scopes: ['device:d1' as const], from, to: from + 10 * MINUTE_MS };
    assertSameRollup(await full.rollups.sum(range), await edge.rollups.sum(range));
  }

  // A re-send adds nothing.
  await send({ v: 1, stream: 'sum', summaries: summaries.slice(0, 3) });
  assert.equal((await edge.rollups.sum({ ...q, scopes: ['fleet'] })).count, records.length);
});

test('a summary on other edges or for an unknown version is refused, with the reason in its ack', async (t) => {
  const store = await openStore(t);
  const { acks, send } = ingestWith(store);
  const good = binSpecId(binSpecOfVersion(version.manifest, version.trainingSummary));
  const [s1, s2, s3] = summariesOf(records.slice(0, 30), good);
  await send({
    v: 1,
    stream: 'sum',
    summaries: [s1!, { ...s2!, specId: binSpecId(binSpecFor(null)) }, { ...s3!, version: 9 }],
  });
  assert.deepEqual(
    acks.map((a) => [a.seqFrom, a.seqTo, a.status]),
    [
      [1, 1, 'stored'],
      [2, 2, 'rejected'],
      [3, 3, 'rejected'],
    ],
  );
  assert.match(acks[1]!.reason!, /bin spec .* the agent must take the edges/);
  assert.match(acks[2]!.reason!, /m v9 is not registered/);
  assert.equal(
    (await store.rollups.sum({ model: 'm', version: 1, role: 'serving', scopes: ['fleet'] })).count,
    s1!.rollup.count,
  );
});
