/**
 * Acceptance (datasets): inputs a real agent kept and uploaded, joined with the reference values
 * its sensor published — also those that reached the fleet only after the input — become an
 * immutable snapshot; its export holds the exact bytes that were posted, with their labels, and
 * imports into another fleet as the same dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { SnapshotItem } from '@edgeloop/protocol';
import { jpeg, waitFor } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { TEST_ADMIN_TOKEN, TEST_MQTT_SERVER } from '../support/fleet-client.js';

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
const DEVICE = 'dataset-pi-1';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test(
  'samples with their reference values become a dataset; its folder has the posted bytes and labels',
  { timeout: 120_000 },
  async (t) => {
    const h = await startTestFleet();
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-datasets-it-'));
    t.after(async () => {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const agent = await h.startAgent(DEVICE, {
      sync: { flushIntervalMs: 20 },
      sampling: { everyN: 1, upload: 'with-sync' },
      sensors: {
        bindings: [
          {
            name: 'tof',
            broker: 'fleet',
            topic: 'site/tof',
            payload: { format: 'json', valuePath: 'mm', correlationPath: 'request' },
            model: 'distance',
            join: { by: 'correlation' },
            holdMs: 0,
          },
        ],
      },
    });
    await h.deploySample(DEVICE);
    const sensor = await mqtt.connectAsync(h.server.mqttUrl, { clientId: 'tof-bridge', ...TEST_MQTT_SERVER });
    t.after(() => sensor.endAsync());

    const images = await Promise.all([30, 90, 150, 210].map((v) => jpeg(v, v, v)));
    for (const [i, image] of images.entries()) {
      const res = await fetch(`${agent.apiUrl}/v1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-request-id': `frame-${i}` },
        body: new Uint8Array(image),
      });
      assert.equal(res.status, 200);
    }
    // Three frames get a distance, the last none; the values come after the frames were uploaded.
    await waitFor('four samples at the fleet', async () =>
      (await h.server.store.samples.list({ device: DEVICE })).length === 4 ? true : undefined,
    );
    for (const i of [0, 1, 2])
      await sensor.publishAsync('site/tof', JSON.stringify({ request: `frame-${i}`, mm: 100 + i * 50 }), { qos: 1 });

    // The values travel device → fleet as late references and join the stored records.
    await waitFor('the three distances at the fleet', async () =>
      (await h.server.store.samples.forDataset({ devices: [DEVICE] })).filter((s) => s.reference !== null).length === 3
        ? true
        : undefined,
    );
    const res = await fetch(`${h.server.httpUrl}/api/v1/datasets`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ selection: { model: 'distance', devices: [DEVICE] }, name: 'field' }),
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as {
      dataset: { id: string; counts: { total: number } };
      skipped: { noReference: number };
    };
    assert.equal(created.dataset.counts.total, 3);
    assert.equal(created.skipped.noReference, 1, 'the frame without a distance is left out and counted');

    const out = join(dir, 'export');
    const exported = await h.server.datasets.exportTo(created.dataset.id, out);
    assert.equal(exported.id, created.dataset.id);
    const items = readFileSync(join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SnapshotItem);
    const labelOf = new Map(items.map((it) => [it.sha256, it.label]));
    for (const i of [0, 1, 2]) {
      assert.equal(labelOf.get(sha(images[i]!)), 100 + i * 50, `frame ${i} carries its distance`);
      const item = items.find((it) => it.sha256 === sha(images[i]!))!;
      assert.equal(sha(readFileSync(join(out, item.file))), sha(images[i]!), 'the exact posted bytes');
      assert.equal(item.deviceId, DEVICE);
    }
    assert.equal(labelOf.has(sha(images[3]!)), false);

    const other = await startTestFleet();
    t.after(() => other.close());
    const imported = await other.server.datasets.import(out);
    assert.equal(imported.dataset.id, created.dataset.id, 'the same content is the same dataset anywhere');
  },
);
