/**
 * Try a model in the console, in Chromium: the registered sample version runs in the page on a
 * dropped image and gives the agent's outputs within 1e-4; the page then shows what the fleet
 * recorded for the most similar inputs (records an agent made of similar images).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS } from '@edgeloop/models';
import type { TryModelVersion } from '../../fleet-server/src/console/client/try-model/run-model.js';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';
import { startTestFleet } from '../support/in-process-fleet.js';
import { agentOutputs, maxOutputDifference, runImageInPage, wallPng } from '../support/try-model.js';
import { waitFor } from '../support/fixtures.js';

test('console: a model runs in the browser with the agent’s outputs (≤ 1e-4) beside the fleet’s similar records', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const base = fleet.server.httpUrl;
  const auth = { authorization: `Bearer ${fleet.adminToken}` };
  const { model } = (await (await fetch(`${base}/api/v1/models/distance/versions/1`, { headers: auth })).json()) as {
    model: TryModelVersion & { preprocessing: { kind: string; width: number; height: number } };
  };
  assert.equal(model.preprocessing.kind, 'image');
  const { width, height } = model.preprocessing;

  // An agent serving v1 records a few predictions of walls at several distances.
  const agent = await fleet.startAgent('cam-1');
  await fleet.deploySample('cam-1');
  for (const mm of [400, 800, 1200, 1600]) {
    const res = await fetch(`${agent.apiUrl}/v1/models/distance/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(await wallPng(mm, width, height, mm)),
    });
    assert.equal(res.status, 200, await res.text());
  }
  await waitFor(
    'the records at the fleet',
    async () => {
      const r = (await (await fetch(`${base}/api/v1/telemetry?device=cam-1`, { headers: auth })).json()) as {
        records: unknown[];
      };
      return r.records.length >= 4 || undefined;
    },
    30_000,
  );

  const page = await browser.newPage();
  await logIn(page, base, fleet.adminToken, '/try');
  await visit(page, `${base}/try`);
  const png = await wallPng(1000, width, height, 7);
  const result = await runImageInPage(page, { name: 'wall.png', mimeType: 'image/png', buffer: png });
  const agentSide = await agentOutputs(model, new Uint8Array(readFileSync(SAMPLE_MODELS.v1)), png);
  const diff = maxOutputDifference(result.outputs, agentSide);
  assert.ok(diff <= 1e-4, `browser vs agent: max |difference| ${diff}`);
  assert.equal(result.resampled, false);
  assert.match((await page.getByTestId('try-result').textContent()) ?? '', /Prediction: [\d.]+/);

  // The fleet's nearest records of this version, by the agent's image features.
  const similar = page.getByTestId('try-similar');
  await similar.locator('table tbody tr').first().waitFor({ timeout: 15_000 });
  assert.match((await similar.textContent()) ?? '', /cam-1/);
});
