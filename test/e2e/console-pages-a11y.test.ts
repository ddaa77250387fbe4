/**
 * Every console page in Chromium, in the light and the dark theme: it loads without a console
 * error, failed request or Content-Security-Policy violation, and axe-core finds no violation of
 * serious or critical impact. The fleet holds real objects for each page (datasets, a trained
 * sweep, loop runs, versions, a rollout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrainingFixture } from '../../fleet-server/src/console/pages/retraining/retraining-fixture.js';
import { consoleShots } from '../../scripts/screenshots/console-pages.js';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';

for (const scheme of ['light', 'dark'] as const) {
  test(`console: every page is clean and accessible (${scheme} theme)`, async (t) => {
    const browser = await browserOrSkip(t, { colorScheme: scheme });
    if (!browser) return;
    const f = await retrainingFixture(t);
    await f.server.store.devices.ensure('car-7');
    await f.api.createRollout({
      body: { model: 'distance', version: 2, strategy: 'staged', target: { all: true } },
    });
    const { shots, missing } = await consoleShots(f.api, 'distance');
    assert.ok(
      shots.length >= 18,
      `pages to check: ${shots.map((s) => s.name).join(', ')}; missing: ${missing.join(', ')}`,
    );
    const page = await browser.newPage();
    await logIn(page, f.server.httpUrl, f.server.adminToken!);
    for (const shot of shots) await visit(page, `${f.server.httpUrl}${shot.path}`);
  });
}
