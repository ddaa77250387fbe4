/**
 * @module bench/console
 * console.devices_page_ms: p50 ms for the console's device list page, the first 50 devices as
 * HTML with its filters (DEVICES_PAGE_URL, read with a session cookie as a browser does), with
 * 10,000 devices on SQLite, over HTTP from a fleet server in this process. Baseline: p50 ms of what listing devices cost before the list was paged in SQL: every
 * device row, then its assignments and shadows queried device by device (the same store calls
 * the old route made), run in-process without HTTP, so the baseline is if anything flattered.
 *
 * Extra figures: console.device_filter_ms (the page filtered to the devices running a version,
 * DEVICES_FILTER_URL), console.device_detail_ms (one device's page, DEVICE_DETAIL_URL),
 * console.api_devices_page_ms / console.api_device_filter_ms (the REST calls under those pages),
 * console.device_facets_ms (the filter dropdowns); baseline of the filter: the full list
 * (GET /api/v1/devices without limit, batched), which a client filtering itself would load;
 * console.devices_all_ms is that full list, baseline the old per-device path again.
 *
 * Env: EDGELOOP_BENCH_CONSOLE_DEVICES (default 10000), EDGELOOP_BENCH_CONSOLE_SAMPLES (default 40).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startFleetServer } from '@edgeloop/fleet-server';
import { registerSyntheticFleet } from '@edgeloop/fleet-server/testing';
import { percentile, timeEach, type Bench } from './figure.js';

const DEVICES = Number(process.env.EDGELOOP_BENCH_CONSOLE_DEVICES ?? 10_000);
const SAMPLES = Number(process.env.EDGELOOP_BENCH_CONSOLE_SAMPLES ?? 40);

/** The console's device list, first page: the one URL the headline figure measures (HTML, as a browser gets it). */
export const DEVICES_PAGE_URL = '/devices';
export const DEVICES_FILTER_URL = '/devices?model=distance%402';
export const DEVICE_DETAIL_URL = '/devices/dev-04321';
/** The REST calls under the page: its rows, and the same filtered. */
const API_PAGE_URL = '/api/v1/devices?limit=50';
const API_FILTER_URL = '/api/v1/devices?limit=50&model=distance&version=2';
const FACETS_URL = '/api/v1/devices/facets';
const ALL_URL = '/api/v1/devices';

export const consoleBench: Bench = {
  name: 'console.devices_page_ms',
  async run(progress) {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-bench-console-'));
    const server = await startFleetServer(
      { dataDir: join(dir, 'fleet'), http: { port: 0 }, mqtt: { mode: 'embedded', port: 0 } },
      pino({ level: 'silent' }),
    );
    try {
      progress(`registering ${DEVICES} devices through the store`);
      await registerSyntheticFleet(server.store, DEVICES);
      // The console's pages are read with a session cookie, as a logged-in browser does.
      const login = await fetch(`${server.httpUrl}/api/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: server.adminToken }),
      });
      if (login.status !== 201) throw new Error(`logging in answered ${login.status}: ${await login.text()}`);
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const headers = { authorization: `Bearer ${server.adminToken}` };
      const get = async (url: string) => {
        const html = !url.startsWith('/api/');
        const res = await fetch(`${server.httpUrl}${url}`, {
          headers: html ? { cookie, accept: 'text/html' } : headers,
          redirect: 'manual',
        });
        if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
        return html ? res.text() : res.json();
      };
      const p50 = async (url: string, n = SAMPLES) => {
        await get(url); // warm: statement cache, page cache
        return percentile(await timeEach(n, () => get(url)), 50);
      };
      progress('first page, version filter, detail, facets');
      const page = await p50(DEVICES_PAGE_URL);
      const filter = await p50(DEVICES_FILTER_URL);
      const detail = await p50(DEVICE_DETAIL_URL);
      const facets = await p50(FACETS_URL);
      const apiPage = await p50(API_PAGE_URL);
      const apiFilter = await p50(API_FILTER_URL);
      progress('the full list, batched');
      const all = await p50(ALL_URL, Math.max(3, Math.round(SAMPLES / 8)));
      progress('the old path: every device, then its assignments and shadows one device at a time');
      const store = server.store;
      const old = percentile(
        await timeEach(3, async () => {
          const rows = await store.devices.list();
          await Promise.all(
            rows.map((r) => Promise.all([store.assignments.listForDevice(r.id), store.shadows.listForDevice(r.id)])),
          );
        }),
        50,
      );
      const note = `${DEVICES} devices, SQLite, HTTP in-process, p50 of ${SAMPLES}`;
      return [
        {
          name: 'console.devices_page_ms',
          value: page,
          unit: 'ms',
          baseline: old,
          note: `${note}; GET ${DEVICES_PAGE_URL}; baseline: the old per-device listing of all devices`,
        },
        {
          name: 'console.device_filter_ms',
          value: filter,
          unit: 'ms',
          baseline: all,
          note: `${note}; GET ${DEVICES_FILTER_URL}; baseline: the full list (a client filtering itself)`,
        },
        {
          name: 'console.device_detail_ms',
          value: detail,
          unit: 'ms',
          baseline: null,
          note: `GET ${DEVICE_DETAIL_URL}`,
        },
        { name: 'console.device_facets_ms', value: facets, unit: 'ms', baseline: null, note: `GET ${FACETS_URL}` },
        {
          name: 'console.api_devices_page_ms',
          value: apiPage,
          unit: 'ms',
          baseline: page,
          note: `GET ${API_PAGE_URL} (the rows under the page); baseline: the whole HTML page`,
        },
        {
          name: 'console.api_device_filter_ms',
          value: apiFilter,
          unit: 'ms',
          baseline: filter,
          note: `GET ${API_FILTER_URL}; baseline: the whole filtered HTML page`,
        },
        {
          name: 'console.devices_all_ms',
          value: all,
          unit: 'ms',
          baseline: old,
          note: `GET ${ALL_URL} (every device, batched); baseline: the old per-device listing`,
        },
      ];
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
