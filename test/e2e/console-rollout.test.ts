/**
 * A staged rollout made in the console, in Chromium: three agents serve v1; an operator fills in
 * the form, previews the waves, creates the rollout and watches its page (live, no reload) until
 * every wave is done and the devices run v2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserOrSkip } from '../support/browser.js';
import { logIn, visit } from '../support/console-browser.js';
import { sample } from '../support/fixtures.js';
import { startTestFleet } from '../support/in-process-fleet.js';

test('console: create a staged rollout with a wave preview and watch it progress to completed', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  for (const id of ['car-1', 'car-2', 'car-3']) {
    await fleet.startAgent(id);
    await fleet.deploySample(id);
  }
  await fleet.server.registry.register({ name: 'distance', bytes: sample.v2, metadata: sample.metadata });
  const base = fleet.server.httpUrl;
  const page = await browser.newPage();
  await logIn(page, base, fleet.adminToken, '/rollouts/new');
  await visit(page, `${base}/rollouts/new`);

  await page.getByLabel('Strategy').selectOption('staged');
  await page.getByLabel('Model version').selectOption('distance@2');
  await page.getByLabel('Waves').fill('34%, 100%');
  await page.getByLabel('Bake time per wave (s)').fill('1');
  await page.getByLabel('Healthy after (s)').fill('0');
  await page.getByRole('button', { name: 'Preview waves' }).click();
  await page.getByTestId('preview-wave-2').waitFor();
  const preview = (await page.getByTestId('preview-waves').textContent()) ?? '';
  for (const id of ['car-1', 'car-2', 'car-3']) assert.match(preview, new RegExp(id), `the preview places ${id}`);
  await visit(page, page.url());

  await page.getByRole('button', { name: 'Create rollout' }).click();
  await page.locator('dialog.confirm').waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForURL(/\/rollouts\/ro-/);
  await page.getByTestId('wave-1').waitFor();
  // The page follows the rollout by itself (live region), wave by wave, to the end.
  await page.getByTestId('rollout-state').filter({ hasText: 'completed' }).waitFor({ timeout: 90_000 });
  const rollout = new URL(page.url()).pathname.split('/').pop()!;
  const res = await fetch(`${base}/api/v1/rollouts/${rollout}`, {
    headers: { authorization: `Bearer ${fleet.adminToken}` },
  });
  const body = (await res.json()) as { rollout: { state: string; version: number } };
  assert.equal(body.rollout.state, 'completed');
  const devices = (await (
    await fetch(`${base}/api/v1/devices`, { headers: { authorization: `Bearer ${fleet.adminToken}` } })
  ).json()) as {
    devices: Array<{ models: Array<{ version: number }> }>;
  };
  assert.ok(
    devices.devices.every((d) => d.models.some((m) => m.version === 2)),
    'every car runs v2',
  );
});
