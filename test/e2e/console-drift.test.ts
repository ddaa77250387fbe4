/**
 * The console in Chromium after a simulated covariate shift (the car parks on a green floor):
 * the drift page draws the metric series with the rule's threshold and the onset marked, the
 * baseline vs live histograms, and lists the incident, whose page says since when, where and on
 * which version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';
import { runDrift } from '../support/drift-run.js';

test('console: after a covariate shift the drift chart shows it and the incident is found', async (t) => {
  const browser = await browserOrSkip(t, { colorScheme: 'dark' });
  if (!browser) return;
  let checked = false;
  await runDrift({
    scenario: 'covariate-shift',
    devices: 4,
    timeScale: 3,
    durationSeconds: 400,
    stopWhenFired: ['default.feature-drift'],
    inspect: async (fleet) => {
      const base = fleet.server.httpUrl;
      const page = await browser.newPage();
      await logIn(page, base, fleet.adminToken, '/drift?model=distance');
      await visit(page, `${base}/drift?model=distance`);
      const chart = page.getByTestId('metric-chart');
      await chart.locator('canvas').waitFor();
      assert.equal(await chart.getAttribute('data-drawn'), 'yes');
      const series = JSON.parse((await page.locator('#drift-series').textContent()) ?? '{}') as {
        thresholds?: unknown[];
        marks?: Array<{ kind: string }>;
      };
      assert.ok((series.thresholds ?? []).length > 0, 'the rule threshold is drawn');
      assert.ok(
        (series.marks ?? []).some((m) => m.kind === 'onset'),
        'the drift onset is marked',
      );
      assert.ok(await page.getByTestId('histogram-brightness').locator('svg rect').count(), 'histograms drawn');

      // The incident: from the drift page to its own page.
      const row = page.locator('[data-incident]').first();
      await row.waitFor();
      const incidentId = await row.getAttribute('data-incident');
      await row.getByRole('link').first().click();
      await page.waitForURL(new RegExp(`/drift/incidents/${incidentId}`));
      await visit(page, page.url());
      assert.match((await page.getByTestId('incident-since').textContent()) ?? '', /\d/);
      assert.match((await page.locator('main').textContent()) ?? '', /distance/);
      assert.match((await page.locator('main').textContent()) ?? '', /drift-car-\d/);
      checked = true;
    },
  });
  assert.ok(checked, 'the drift fired and the console was checked');
});
