/**
 * Registry: metadata and lineage through the REST API; status changes. Revoking a
 * version removes it from every device that runs it (a real agent reports "removed" and stops
 * serving it), it can never be assigned again, and every change is in the audit log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { loaded, reported } from '../security/signing-support.js';
import type { LineageResponse, ModelVersionSummary } from '@edgeloop/protocol';

const DEVICE = 'reg-pi-1';

test(
  'metadata, lineage and status through the API; revoking removes the version from devices',
  { timeout: 120_000 },
  async (t) => {
    const fleet = await startTestFleet();
    t.after(() => fleet.close());
    const { server } = fleet;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.httpUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${fleet.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    // v2 pushed over HTTP with the richer metadata.
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(sample.v2)]), 'v2.onnx');
    form.set('name', 'distance');
    const trainingSummary = {
      count: 500,
      features: { brightness: { edges: [0, 0.25, 0.5, 0.75, 1], counts: [50, 200, 200, 50] } },
    };
    form.set(
      'metadata',
      JSON.stringify({
        ...(sample.metadata as object),
        description: 'retrained on winter data',
        labels: { site: 'garage' },
        metrics: { mae_mm: 9.5 },
        trainingSummary,
        lineage: { parent: 1, trigger: 'drift', notes: 'winter data' },
      }),
    );
    const pushed = await fetch(`${server.httpUrl}/api/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.adminToken}` },
      body: form,
    });
    assert.equal(pushed.status, 201, await pushed.clone().text());
    const v2 = ((await pushed.json()) as { model: ModelVersionSummary }).model;
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.lineage, { parent: 1, trigger: 'drift', notes: 'winter data' });
    assert.deepEqual(v2.metrics, { mae_mm: 9.5 });
    assert.equal(v2.hasTrainingSummary, true);
    assert.equal(v2.status, 'registered');

    const detail = await api('GET', '/models/distance/versions/2');
    assert.deepEqual(detail.body.trainingSummary, trainingSummary);
    assert.deepEqual(
      (detail.body.ancestry as ModelVersionSummary[]).map((m) => m.version),
      [1],
    );
    const lineage = (await api('GET', '/models/distance/lineage')).body as unknown as LineageResponse;
    assert.deepEqual(
      lineage.versions.map((v) => [v.version, v.lineage.parent ?? null]),
      [
        [2, 1],
        [1, null],
      ],
    );

    // Approve and deprecate; deprecated stays assignable.
    assert.equal((await api('PUT', '/models/distance/versions/2/status', { status: 'approved' })).body.changed, true);
    const dep = await api('PUT', '/models/distance/versions/1/status', {
      status: 'deprecated',
      reason: 'superseded by v2',
    });
    assert.equal((dep.body.model as ModelVersionSummary).status, 'deprecated');
    assert.equal((await api('PUT', '/models/distance/versions/1/status', { status: 'registered' })).status, 400);

    const agent = await fleet.startAgent(DEVICE);
    await fleet.deploySample(DEVICE); // v1, deprecated but assignable
    const revoked = await api('PUT', '/models/distance/versions/1/status', {
      status: 'revoked',
      reason: 'mislabelled training data',
    });
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body.removedFrom, [DEVICE]);
    await reported(server, DEVICE, 1, 'removed');
    assert.deepEqual(await loaded(agent), {}, 'the revoked version no longer runs');
    assert.deepEqual((await server.devices.get(DEVICE))?.assignments, []);

    const again = await api('POST', '/deployments', { model: 'distance', version: 1, devices: [DEVICE] });
    assert.equal(again.status, 409);
    assert.match(String(again.body.error), /revoked \(mislabelled training data\) and cannot be assigned/);
    const undo = await api('PUT', '/models/distance/versions/1/status', { status: 'approved' });
    assert.equal(undo.status, 409, 'revoked is final');

    const actions = (await server.audit.list({ action: 'model' })).map((e) => `${e.action} ${e.target}`);
    for (const a of [
      'model.push distance@2',
      'model.approve distance@2',
      'model.deprecate distance@1',
      'model.revoke distance@1',
    ])
      assert.ok(actions.includes(a), `${a} audited (${actions.join('; ')})`);
  },
);
