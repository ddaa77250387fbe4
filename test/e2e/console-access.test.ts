/**
 * The console in Chromium: logging in, devices appearing live as agents connect, and a viewer who
 * can look but cannot start a rollout — neither in the UI nor by calling the API directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserOrSkip } from '../support/browser.js';
import { logIn, logOut, visit } from '../support/console-browser.js';
import { startTestFleet } from '../support/in-process-fleet.js';

test('console: log in, see devices appear live, and a viewer cannot start a rollout (UI nor API)', async (t) => {
  const browser = await browserOrSkip(t);
  if (!browser) return;
  const fleet = await startTestFleet();
  t.after(() => fleet.close());
  const base = fleet.server.httpUrl;
  const page = await browser.newPage();

  // A page behind the login sends the browser to log in and back.
  await logIn(page, base, fleet.adminToken, '/devices');
  assert.equal(new URL(page.url()).pathname, '/devices');
  const cookies = await browser.context.cookies(base);
  const session = cookies.find((c) => c.name === 'edgeloop_session');
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing is kept in localStorage');
  await visit(page, `${base}/devices`);
  await page.getByText('No device matches').waitFor();

  // Agents connect while the page is open: their rows appear without a reload.
  await fleet.startAgent('cam-1');
  await fleet.startAgent('cam-2');
  await page.locator('tr[data-device="cam-1"]').waitFor({ timeout: 30_000 });
  await page.locator('tr[data-device="cam-2"]').waitFor({ timeout: 30_000 });
  await page.locator('tr[data-device="cam-2"] .badge-ok', { hasText: 'online' }).waitFor({ timeout: 30_000 });

  // A viewer token: the console shows the rollout form's button disabled, and the API refuses.
  const created = await fetch(`${base}/api/v1/admin-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fleet.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'auditor', role: 'viewer' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const viewerToken = ((await created.json()) as { token: string }).token;
  await logOut(page);
  await logIn(page, base, viewerToken, '/rollouts/new');
  await visit(page, `${base}/rollouts/new`);
  const createButton = page.getByRole('button', { name: 'Create rollout' });
  assert.equal(await createButton.isDisabled(), true, 'a viewer sees "Create rollout" disabled');

  const body = JSON.stringify({ model: 'distance', version: 1, strategy: 'direct', target: { all: true } });
  // The page's own session, with its CSRF token: refused by role.
  const byCookie = await page.evaluate(async (b) => {
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
    const res = await fetch('/api/v1/rollouts', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: b,
    });
    return { status: res.status, body: await res.text() };
  }, body);
  assert.equal(byCookie.status, 403, byCookie.body);
  assert.match(byCookie.body, /operator/);
  // The viewer's token straight at the API: refused too.
  const byToken = await fetch(`${base}/api/v1/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${viewerToken}`, 'content-type': 'application/json' },
    body,
  });
  assert.equal(byToken.status, 403);
  // And the console's own form post, as a crafted request would send it: refused, nothing created.
  const rollouts = await fetch(`${base}/api/v1/rollouts`, { headers: { authorization: `Bearer ${fleet.adminToken}` } });
  assert.deepEqual(((await rollouts.json()) as { rollouts: unknown[] }).rollouts, []);

  // Without the CSRF token, even an operator's cookie cannot change anything.
  const noCsrf = await page.evaluate(async () => {
    const res = await fetch('/api/v1/devices/cam-1/disable', { method: 'POST' });
    return res.status;
  });
  assert.equal(noCsrf, 403);
});
