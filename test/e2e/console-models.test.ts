/**
 * The console's Models section in Chromium: upload a version from the browser (file straight to
 * the API, progress bar, the API's refusal shown as it is), the registry and a model's lineage
 * graph, a version's page with its confirmed status change, two versions compared — each page
 * clean (no console error, failed request or CSP violation) and without serious axe violations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLE_MODELS, SAMPLE_VERSION_METADATA } from '@edgeloop/models';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';
import { startTestFleet } from '../support/in-process-fleet.js';

test('console models: upload with progress, registry, lineage graph, status change, compare', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const base = fleet.server.httpUrl;
  const page = await browser.newPage();
  await logIn(page, base, fleet.adminToken, '/models/upload');
  await visit(page, `${base}/models/upload`);

  // A refusal from the API is shown in its own words; nothing is registered.
  await page.getByLabel('Model name').fill('distance');
  await page.getByLabel('ONNX file').setInputFiles(SAMPLE_MODELS.v2);
  await page.getByLabel(/More metadata/).fill('{"lineage": {"parent": 7}}');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByRole('alert').filter({ hasText: 'lineage.parent v7 is not an earlier registered version' }).waitFor();

  // The real upload: metadata from the form's fields, the progress bar full, a link to the version.
  const meta = JSON.parse(readFileSync(SAMPLE_VERSION_METADATA.v2, 'utf8')) as Record<string, unknown>;
  await page.getByLabel(/More metadata/).fill(JSON.stringify({ ...meta, lineage: { parent: 1, trigger: 'manual' } }));
  await page.getByLabel('Labels, one key=value per line').fill('team=vision');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByTestId('upload-done').waitFor();
  assert.equal(await page.getByTestId('upload-progress').evaluate((p) => (p as HTMLProgressElement).value), 100);
  await page.getByTestId('upload-done').click();
  await page.waitForURL(/\/models\/distance\/versions\/2$/);
  await visit(page, `${base}/models/distance/versions/2`);
  assert.match((await page.locator('main').textContent()) ?? '', /team=vision/);

  // Approve it: the confirmation names the version, the flash says what happened.
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByRole('dialog').getByText('Approve distance v2?').waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('distance v2 is approved').waitFor();

  await visit(page, `${base}/models`);
  await page.locator('[data-testid="versions-distance"] tr[data-version="2"]', { hasText: 'approved' }).waitFor();
  await visit(page, `${base}/models/distance`);
  await page.getByTestId('lineage-graph').locator('[data-node="version:distance@1"]').waitFor();
  await page.getByTestId('lineage-graph').locator('[data-node="version:distance@2"]').click();
  await page.waitForURL(/\/models\/distance\/versions\/2$/);

  await visit(page, `${base}/models/distance/compare?a=1&b=2`);
  await page.getByTestId('compare-metrics').waitFor();
  await page.getByTestId('compare-manifest').waitFor();
});
