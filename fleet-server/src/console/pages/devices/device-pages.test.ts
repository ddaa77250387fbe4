import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsoleTestServer } from '../../testing/console-test-server.js';
import { renderPage, testPageContext } from '../../testing/render-page.js';
import { deviceListPage } from './device-list-page.js';
import { devicePage } from './device-page.js';

test('the device table filters, sorts and pages on the server, and a device page shows its facts', async (t) => {
  const { server, api } = await startConsoleTestServer(t);
  for (let i = 0; i < 60; i++) {
    await server.store.devices.ensure(`dev-${String(i).padStart(3, '0')}`);
    await server.store.devices.setLabels(`dev-${String(i).padStart(3, '0')}`, { group: i % 2 ? 'odd' : 'even' });
  }
  const first = await renderPage(deviceListPage, testPageContext({ api, path: '/devices' }));
  assert.match(first, /1–50/);
  assert.match(first, /of 60/);
  assert.match(first, /dev-000/);
  assert.doesNotMatch(first, /dev-050/, 'page 1 holds 50 devices');
  const odd = await renderPage(deviceListPage, testPageContext({ api, path: '/devices?group=odd&sort=id&order=desc' }));
  assert.match(odd, /of 30/);
  assert.ok(odd.indexOf('dev-059') < odd.indexOf('dev-057'), 'sorted by id, descending');
  assert.doesNotMatch(odd, /dev-058/);
  const next = /href="(\/devices\?[^"]*cursor=[^"]*)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(next, 'page 1 links to the next page');
  const region = await renderPage(deviceListPage, testPageContext({ api, path: next }), 'devices');
  assert.match(region, /^<div id="devices" data-live="devices"/);
  assert.match(region, /51–60/);
  assert.match(region, /dev-059/);
  assert.doesNotMatch(region, /dev-049/);
  const back = /href="(\/devices[^"]*)" rel="prev"/.exec(region)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(back);
  assert.match(await renderPage(deviceListPage, testPageContext({ api, path: back }), 'devices'), /1–50/);

  const detail = await renderPage(
    devicePage,
    testPageContext({ api, path: '/devices/dev-001', params: { id: 'dev-001' } }),
  );
  assert.match(detail, /Health/);
  assert.match(detail, /odd/);
  assert.match(detail, /No telemetry from this device yet/);
  const viewer = await renderPage(
    devicePage,
    testPageContext({ api, path: '/devices/dev-001', params: { id: 'dev-001' }, role: 'viewer' }),
  );
  assert.match(viewer, /<button type="submit" class="danger" disabled="" title="needs the admin role">Disable/);
});
