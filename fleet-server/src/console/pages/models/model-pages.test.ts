/**
 * The Models pages against a real fleet server with a real lineage: v1 uploaded with its sample
 * metadata (metrics, baseline), v2 registered from a training run on a dataset snapshot, v3 made
 * by a (recorded) loop run for an incident, two devices running v3 and a rollout of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { SAMPLE_MODELS, SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import { trainingServer, TOKEN } from '../../../training/training-server-fixture.js';
import { bearerClient, renderPage, testPageContext } from '../../testing/render-page.js';
import { comparePage } from './compare-page.js';
import { modelPage } from './model-page.js';
import { modelRegistryPage } from './model-registry-page.js';
import { uploadPage } from './upload-page.js';
import { setVersionStatus } from './version-actions.js';
import { versionPage } from './version-page.js';

test(
  'models pages: registry, model lineage graph, version, compare, status action, upload form',
  { timeout: 90_000 },
  async (t) => {
    const { server, ds } = await trainingServer(t);
    const api = bearerClient(server.httpUrl, TOKEN);
    const meta = async (v: 'v1' | 'v2') => JSON.parse(await readFile(SAMPLE_VERSION_METADATA[v], 'utf8'));

    const v1 = await server.registry.register({
      name: 'distance',
      bytes: await readFile(SAMPLE_MODELS.v1),
      metadata: { ...(await meta('v1')), description: 'first field model', labels: { team: 'vision' } },
    });
    const job = await api.createTrainingJob({
      body: { dataset: ds.id, trainer: 'fixture', sweep: { runs: [{ learningRate: 0.5 }] } },
    });
    await server.training.waitFor(job.job.id);
    const { job: done } = await api.getTrainingJob({ params: { id: job.job.id } });
    const runId = done.bestRunId!;
    const v2 = await api.registerTrainingRun({
      params: { id: runId },
      body: { model: 'distance', parent: 1, trigger: 'manual' },
    });
    assert.equal(v2.model.version, 2);
    const v3 = await server.registry.register({
      name: 'distance',
      bytes: await readFile(SAMPLE_MODELS.v2),
      metadata: {
        ...(await meta('v2')),
        lineage: { parent: 2, trigger: 'drift', incidentId: 'inc-7', loopRunId: 'lr-9' },
      },
    });
    for (const id of ['cam-1', 'cam-2']) {
      await server.store.devices.ensure(id);
      await server.store.devices.setRunningModel(id, { name: 'distance', version: 2, sha256: v2.model.sha256 });
    }
    const rollout = await api.createRollout({
      body: { model: 'distance', version: 3, strategy: 'direct', target: { devices: ['cam-1', 'cam-2'] } },
    });
    // cam-1 has switched; cam-2 still runs v2.
    await server.store.devices.setRunningModel('cam-1', { name: 'distance', version: 3, sha256: v3.sha256 });

    // The registry: every version with status, metrics, baseline, description/labels and devices.
    const registry = await renderPage(modelRegistryPage, testPageContext({ api, path: '/models' }));
    assert.match(registry, /<a href="\/models\/distance">distance<\/a>/);
    assert.match(registry, /3 versions, running on 2 devices/);
    for (const v of [1, 2, 3]) assert.match(registry, new RegExp(`href="/models/distance/versions/${v}">v${v}<`));
    assert.match(registry, /first field model/);
    assert.match(registry, /team=vision/);
    assert.match(registry, /validation_mae<\/span> 3\.4847/);
    assert.match(registry, /href="\/devices\?model=distance%403">1</);
    assert.match(registry, /badge-info[^>]*>registered</);
    const region = await renderPage(modelRegistryPage, testPageContext({ api, path: '/models' }), 'models');
    assert.match(region, /^<div id="models" data-live="models devices"/);

    // The model page: the lineage graph links every node to its page.
    const model = await renderPage(
      modelPage,
      testPageContext({ api, path: '/models/distance', params: { name: 'distance' } }),
    );
    assert.match(model, /data-testid="lineage-graph"/);
    const node = (key: string, href: string) =>
      assert.match(
        model,
        new RegExp(`<a href="${href.replace(/[?+]/g, (c) => `\\${c}`)}" class="node node-[a-z]+" data-node="${key}">`),
        `node ${key} → ${href}`,
      );
    node(`dataset:${ds.id}`, `/retraining/datasets/${ds.id}`);
    node(`run:${runId}`, `/retraining/jobs/${job.job.id}#run-${runId}`);
    node('incident:inc-7', '/drift/incidents/inc-7');
    node('loop:lr-9', '/retraining/runs/lr-9');
    for (const v of [1, 2, 3]) node(`version:distance@${v}`, `/models/distance/versions/${v}`);
    node(`rollout:${rollout.rollout.id}`, `/rollouts/${rollout.rollout.id}`);
    node('devices:distance@3', '/devices?model=distance%403');
    assert.equal((model.match(/class="edge edge-parent"/g) ?? []).length, 2, 'v1 → v2 → v3');
    assert.match(
      model,
      /distance v3<\/a> \(registered · drift\), derived from <a href="\/models\/distance\/versions\/2">/,
    );
    assert.match(
      model,
      /made by <a href="\/retraining\/runs\/lr-9">loop run lr-9<\/a> from <a href="\/drift\/incidents\/inc-7">/,
    );

    // A version: manifest facts, origin, baseline, status actions; the viewer's are disabled.
    const versionCtx = (role?: 'viewer' | 'operator') =>
      testPageContext({
        api,
        path: '/models/distance/versions/2',
        params: { name: 'distance', version: '2' },
        ...(role ? { role } : {}),
      });
    const version = await renderPage(versionPage, versionCtx());
    assert.match(version, new RegExp(`data-testid="key-id">${v2.model.keyId}<`));
    assert.match(version, /<dt>preprocessing|<dt>kind<\/dt><dd class="mono">image/);
    assert.match(version, new RegExp(`href="/retraining/datasets/${ds.id}"`));
    assert.match(version, new RegExp(`href="/retraining/jobs/${job.job.id}#run-${runId}">${runId}<`));
    assert.match(version, /Compare with parent v1/);
    assert.match(version, /href="\/rollouts\/new\?model=distance&amp;version=2"/);
    assert.match(version, /data-node="version:distance@3"/, 'its child is in the neighbourhood graph');
    assert.match(version, /<button type="submit">Approve<\/button>/);
    const v1Page = await renderPage(
      versionPage,
      testPageContext({ api, path: '/models/distance/versions/1', params: { name: 'distance', version: '1' } }),
    );
    assert.match(v1Page, /data-testid="baseline-features"/);
    assert.match(v1Page, /sharpness/);
    const v3Page = await renderPage(
      versionPage,
      testPageContext({ api, path: '/models/distance/versions/3', params: { name: 'distance', version: '3' } }),
    );
    assert.match(v3Page, /<a href="\/retraining\/runs\/lr-9">lr-9<\/a> <span class="muted">\(not on this server\)/);
    assert.match(v3Page, /loop run lr-9 is not on this server/, 'the walk says why it stopped');
    const viewer = await renderPage(versionPage, versionCtx('viewer'));
    for (const label of ['Approve', 'Deprecate', 'Revoke'])
      assert.match(viewer, new RegExp(`disabled="" title="needs the operator role">${label}</button>`));

    // The status action, as an operator: approve v2.
    const approved = await setVersionStatus(versionCtx('operator'), { status: 'approved' });
    assert.equal(approved.redirect, '/models/distance/versions/2');
    assert.match(approved.flash!.text, /distance v2 is approved/);
    assert.equal((await api.getModelVersion({ params: { name: 'distance', version: 2 } })).model.status, 'approved');
    const bogus = await setVersionStatus(versionCtx('operator'), { status: 'registered' });
    assert.equal(bogus.flash!.kind, 'error');

    // Compare v1 and v3: metrics with differences, manifest, baselines side by side.
    const compare = await renderPage(
      comparePage,
      testPageContext({ api, path: '/models/distance/compare?a=1&b=3', params: { name: 'distance' } }),
    );
    assert.match(compare, /data-testid="compare-metrics"/);
    const m1 = (await meta('v1')).metrics.validation_mae as number;
    const m3 = (await meta('v2')).metrics.validation_mae as number;
    assert.match(
      compare,
      new RegExp(
        `${m3 - m1 >= 0 ? '\\+' : '-'}${Math.abs(m3 - m1)
          .toFixed(4)
          .replace(/\.?0+$/, '')}`,
      ),
    );
    assert.match(compare, /data-testid="compare-manifest"/);
    assert.match(compare, /data-testid="compare-baselines"/);
    assert.match(compare, /data-chart="histogram"/);
    assert.match(compare, /No reference-joined records for either version yet/);
    assert.match(compare, /No rollout has run v3 against v1/);
    const headToHead = await renderPage(
      comparePage,
      testPageContext({ api, path: '/models/distance/compare?a=2&b=3', params: { name: 'distance' } }),
    );
    assert.match(headToHead, /data-testid="compare-arms"/);
    assert.match(headToHead, new RegExp(`href="/rollouts/${rollout.rollout.id}">direct ${rollout.rollout.id}</a>`));
    const wrong = await renderPage(
      comparePage,
      testPageContext({ api, path: '/models/distance/compare?a=1&b=99', params: { name: 'distance' } }),
    );
    assert.match(wrong, /Choose two registered versions of distance \(it has v3, v2, v1\)/);

    // Upload: the form posts to the API from the browser; the viewer's button stays disabled.
    const upload = await renderPage(uploadPage, testPageContext({ api, path: '/models/upload', role: 'operator' }));
    assert.match(upload, /data-testid="upload-progress"/);
    assert.match(upload, /data-allowed="true"/);
    assert.match(upload, /<noscript>/);
    assert.match(upload, /<option value="distance">/);
    assert.match(upload, /&quot;colorOrder&quot;: &quot;RGB&quot;/, 'the schema defaults are shown');
    const viewerUpload = await renderPage(uploadPage, testPageContext({ api, path: '/models/upload', role: 'viewer' }));
    assert.match(viewerUpload, /data-allowed="false"/);
    assert.match(viewerUpload, /Uploading a model needs the operator role/);
    assert.equal(v1.version, 1);
  },
);
