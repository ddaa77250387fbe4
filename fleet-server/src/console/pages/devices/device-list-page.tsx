/**
 * @module console/pages/devices/device-list-page
 * The device table: filter (id, group, tag, hardware, online, model version running or
 * assigned), sort by any column header, 50 rows a page from the server. It refreshes itself
 * while devices come and go (live region on topic `devices`).
 */
import type { DeviceSummary } from '@edgeloop/protocol';
import { Badge, Empty, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import {
  pageUrl,
  PAGE_SIZE,
  loadDevicePage,
  readDeviceQuery,
  type DevicePage,
  type DeviceSort,
  type DeviceTableQuery,
} from './device-query.js';

export function deviceStatus(d: Pick<DeviceSummary, 'disabled' | 'online'>) {
  if (d.disabled) return <Badge tone="bad">disabled</Badge>;
  return d.online ? <Badge tone="ok">online</Badge> : <Badge tone="muted">offline</Badge>;
}

function SortHeader(props: { url: URL; q: DeviceTableQuery; sort: DeviceSort; label: string; num?: boolean }) {
  const active = props.q.sort === props.sort;
  const nextOrder = active && props.q.order === 'asc' ? 'desc' : 'asc';
  const u = new URL(props.url);
  u.searchParams.set('sort', props.sort);
  u.searchParams.set('order', nextOrder);
  u.searchParams.delete('cursor');
  u.searchParams.delete('prev');
  u.searchParams.delete('fragment');
  return (
    <th
      scope="col"
      class={props.num ? 'num' : undefined}
      aria-sort={active ? (props.q.order === 'asc' ? 'ascending' : 'descending') : undefined}
    >
      <a href={u.pathname + u.search}>
        {props.label}
        {active ? (props.q.order === 'asc' ? ' ▲' : ' ▼') : ''}
      </a>
    </th>
  );
}

function Versions(props: { d: DeviceSummary }) {
  const { d } = props;
  const models = new Set([...d.models.map((m) => m.name), ...d.assignments.map((a) => a.model)]);
  return (
    <>
      {[...models].map((name) => {
        const running = d.models.find((m) => m.name === name);
        const assigned = d.assignments.find((a) => a.model === name);
        const differs = assigned && (!running || running.version !== assigned.version);
        return (
          <div>
            {name} {running ? `v${running.version}` : '–'}
            {differs ? (
              <>
                {' → '}v{assigned.version}{' '}
                <Badge
                  tone={assigned.state === 'failed' || assigned.state === 'rejected' ? 'bad' : 'info'}
                  title={assigned.reason ?? undefined}
                >
                  {assigned.state}
                </Badge>
              </>
            ) : null}
          </div>
        );
      })}
    </>
  );
}

/** "51–100 of 9,812" with Previous/Next following the API's cursor. */
function CursorPager(props: { url: URL; q: DeviceTableQuery; page: DevicePage }) {
  const { url, q, page } = props;
  const first = q.prev.length * PAGE_SIZE;
  return (
    <nav class="pager" aria-label="Pages">
      <span data-testid="device-count">
        {page.total === 0
          ? 'none'
          : `${(first + 1).toLocaleString('en')}–${(first + page.devices.length).toLocaleString('en')}`}{' '}
        of {page.total.toLocaleString('en')}
      </span>
      {q.cursor ? (
        <a href={pageUrl(url, q, 'prev')} rel="prev">
          ← Previous
        </a>
      ) : null}
      {page.nextCursor ? (
        <a href={pageUrl(url, q, 'next', page.nextCursor)} rel="next">
          Next →
        </a>
      ) : null}
    </nav>
  );
}

export function DeviceTable(props: { url: URL; q: DeviceTableQuery; page: DevicePage }) {
  const { url, q, page } = props;
  const src = new URL(url);
  src.searchParams.set('fragment', 'devices');
  return (
    <LiveRegion id="devices" src={src.pathname + src.search} topics="devices" label="Devices">
      <CursorPager url={url} q={q} page={page} />
      {page.devices.length === 0 ? (
        <Empty>
          No device matches. Devices appear here when they enroll (edgeloop enrollment-tokens create, then
          edgeloop-agent enroll).
        </Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="device-table">
            <thead>
              <tr>
                <SortHeader url={url} q={q} sort="id" label="Device" />
                <th scope="col">Status</th>
                <SortHeader url={url} q={q} sort="group" label="Group / tags" />
                <SortHeader url={url} q={q} sort="hardware" label="Hardware" />
                <th scope="col">Model (running → assigned)</th>
                <SortHeader url={url} q={q} sort="lastSeen" label="Last seen" />
                <SortHeader url={url} q={q} sort="backlog" label="Backlog" num />
                <SortHeader url={url} q={q} sort="dropped" label="Dropped" num />
                <SortHeader url={url} q={q} sort="agentVersion" label="Agent" />
                <th scope="col" class="num">
                  Alerts
                </th>
              </tr>
            </thead>
            <tbody>
              {page.devices.map((d) => (
                <tr data-device={d.id}>
                  <th scope="row">
                    <a href={`/devices/${encodeURIComponent(d.id)}`}>{d.id}</a>
                  </th>
                  <td>{deviceStatus(d)}</td>
                  <td>
                    {d.group ?? ''}{' '}
                    {Object.entries(d.tags).map(([k, v]) => (
                      <code>
                        {k}={v}{' '}
                      </code>
                    ))}
                  </td>
                  <td>{d.hardware ?? d.arch ?? ''}</td>
                  <td>
                    <Versions d={d} />
                  </td>
                  <td>
                    <Time at={d.lastSeen} ago />
                  </td>
                  <td class="num">{d.backlog}</td>
                  <td class="num">{d.dropped ? <Badge tone="warn">{d.dropped}</Badge> : 0}</td>
                  <td>{d.agentVersion ?? ''}</td>
                  <td class="num">{d.openAlerts ? <Badge tone="bad">{d.openAlerts}</Badge> : 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </LiveRegion>
  );
}

function Filters(props: { q: DeviceTableQuery; page: DevicePage }) {
  const { q, page } = props;
  const option = (value: string, selected: string | undefined, label = value) => (
    <option value={value} selected={value === (selected ?? '')}>
      {label}
    </option>
  );
  return (
    <form class="filters" method="get" action="/devices" role="search" aria-label="Filter devices">
      <label>
        Device id contains
        <input name="q" value={q.q ?? ''} type="search" />
      </label>
      <label>
        Group
        <select name="group">
          {option('', q.group, 'any')}
          {page.facets.groups
            .filter((g) => g.value !== null)
            .map((g) => option(g.value!, q.group, `${g.value} (${g.count})`))}
        </select>
      </label>
      <label>
        Tag (key=value)
        <input name="tag" value={q.tag ?? ''} pattern="[A-Za-z0-9_.\-]{1,64}=.+" />
      </label>
      <label>
        Hardware
        <select name="hardware">
          {option('', q.hardware, 'any')}
          {page.facets.hardware
            .filter((h) => h.value !== null)
            .map((h) => option(h.value!, q.hardware, `${h.value} (${h.count})`))}
        </select>
      </label>
      <label>
        Online
        <select name="online">
          {option('', q.online, 'any')}
          {option('true', q.online, 'online')}
          {option('false', q.online, 'offline')}
        </select>
      </label>
      <label>
        Model version
        <select name="model">
          {option('', q.model, 'any')}
          {page.facets.models.map((m) =>
            option(
              `${m.model}@${m.version}`,
              q.model,
              `${m.model} v${m.version} (${m.running} running, ${m.assigned} assigned)`,
            ),
          )}
        </select>
      </label>
      <input type="hidden" name="sort" value={q.sort} />
      <input type="hidden" name="order" value={q.order} />
      <button type="submit">Filter</button>
      <a href="/devices">Clear</a>
    </form>
  );
}

export async function deviceListPage(ctx: PageContext): Promise<PageResult> {
  const q = readDeviceQuery(ctx.url);
  const page = await loadDevicePage(ctx.api, q);
  const pageUrl = new URL(ctx.url);
  pageUrl.searchParams.delete('fragment');
  return {
    title: 'Devices',
    section: 'devices',
    body: (
      <>
        <h1>Devices</h1>
        <Filters q={q} page={page} />
        <DeviceTable url={pageUrl} q={q} page={page} />
      </>
    ),
    fragments: {
      devices: async () => <DeviceTable url={pageUrl} q={q} page={await loadDevicePage(ctx.api, q)} />,
    },
  };
}
