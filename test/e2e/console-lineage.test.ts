/**
 * The console in Chromium: from a device's record to the dataset its model was trained on —
 * device page → the record's lineage (version, loop run and incident, training run, dataset,
 * source devices) → the dataset's page with its sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrainingFixture } from '../../fleet-server/src/console/pages/retraining/retraining-fixture.js';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';

test('console: follow the lineage from a device’s record to the dataset', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const f = await retrainingFixture(t);
  // The fixture's record came from car-7's telemetry; the car itself is enrolled too.
  await f.server.store.devices.ensure('car-7');
  const base = f.server.httpUrl;
  const page = await browser.newPage();
  await logIn(page, base, f.server.adminToken!, '/devices/car-7');
  await visit(page, `${base}/devices/car-7`);

  await page.locator(`tr[data-record="${f.recordId}"]`).getByRole('link').click();
  await page.waitForURL(new RegExp(`/retraining/lineage/records/${f.recordId}$`));
  await visit(page, page.url());
  const lineage = page.getByTestId('lineage');
  for (const node of ['version:distance@2', `dataset:${f.drifted}`, `run:${f.bestRunId}`])
    assert.ok(await lineage.locator(`[data-node="${node}"]`).count(), `the walk names ${node}`);

  await lineage.locator(`a[data-node="dataset:${f.drifted}"]`).first().click();
  await page.waitForURL(new RegExp(`/retraining/datasets/${f.drifted}$`));
  await visit(page, page.url());
  const sources = (await page.getByTestId('dataset-sources').textContent()) ?? '';
  assert.match(sources, /car-3/, 'the dataset names the device its samples came from');
});
