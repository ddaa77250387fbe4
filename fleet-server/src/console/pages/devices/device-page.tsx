/**
 * @module console/pages/devices/device-page
 * One device: what it runs and what it is assigned, its health, telemetry over time (prediction
 * vs reference value, error, input features), its update history, its alerts and incidents, and
 * the actions on it (disable, enable, revoke its credential, deploy a version), each confirmed.
 */
import type { DeviceDetail, TelemetryRow } from '@edgeloop/protocol';
import type { SeriesChartData } from '../../client/charts/chart-data.js';
import {
  ActionForm,
  Badge,
  DataIsland,
  Empty,
  LiveRegion,
  Time,
  fmtBytes,
  fmtNumber,
} from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { deviceStatus } from './device-list-page.js';

const TELEMETRY_POINTS = 1000;
const MAX_FEATURE_SERIES = 6;
const RECENT_RECORDS = 10;

export function telemetryCharts(rows: readonly TelemetryRow[]) {
  const sorted = [...rows].filter((r) => !r.shadow).sort((a, b) => a.ts - b.ts);
  const x = sorted.map((r) => r.ts);
  const predictionVsReference: SeriesChartData = {
    x,
    series: [
      { label: 'prediction', values: sorted.map((r) => r.prediction) },
      { label: 'reference value', values: sorted.map((r) => r.reference), dashed: true },
    ],
  };
  const error: SeriesChartData = {
    x,
    series: [
      {
        label: 'absolute error',
        values: sorted.map((r) =>
          r.prediction !== null && r.reference !== null ? Math.abs(r.prediction - r.reference) : null,
        ),
      },
    ],
  };
  const featureNames = [...new Set(sorted.flatMap((r) => Object.keys(r.features)))].sort().slice(0, MAX_FEATURE_SERIES);
  const features: SeriesChartData = {
    x,
    series: featureNames.map((f) => ({ label: f, values: sorted.map((r) => r.features[f] ?? null) })),
  };
  return { predictionVsReference, error, features, count: sorted.length };
}

function Facts(props: { detail: DeviceDetail }) {
  const d = props.detail.device;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd>{deviceStatus(d)}</dd>
      <dt>Last seen</dt>
      <dd>
        <Time at={d.lastSeen} ago /> (first seen <Time at={d.firstSeen} />)
      </dd>
      <dt>Group / tags</dt>
      <dd>
        {d.group ?? '–'}{' '}
        {Object.entries(d.tags).map(([k, v]) => (
          <code>
            {k}={v}{' '}
          </code>
        ))}
      </dd>
      <dt>Hardware</dt>
      <dd>
        {d.hardware ?? '–'} · {d.arch ?? '?'} / {d.platform ?? '?'}
      </dd>
      <dt>Agent / runtime</dt>
      <dd>
        {d.agentVersion ?? '?'} · {d.runtime ? `${d.runtime.name} ${d.runtime.version}` : '?'}
      </dd>
      <dt>Backlog</dt>
      <dd>{d.backlog} records waiting on the device</dd>
      <dt>Dropped</dt>
      <dd>{d.dropped ? <Badge tone="warn">{d.dropped} records dropped (buffer cap)</Badge> : 'none'}</dd>
      <dt>Records stored</dt>
      <dd>{d.records.toLocaleString('en')}</dd>
      <dt>Artifacts sent</dt>
      <dd>{fmtBytes(d.bytesSent)}</dd>
      <dt>Credential</dt>
      <dd>
        {props.detail.credential ? (
          <>
            {props.detail.credential.username}, issued <Time at={props.detail.credential.issuedAt} />
          </>
        ) : (
          <Badge tone="bad">none (revoked or never enrolled)</Badge>
        )}
      </dd>
    </dl>
  );
}

function Models(props: { detail: DeviceDetail }) {
  const d = props.detail.device;
  const names = [
    ...new Set([
      ...d.models.map((m) => m.name),
      ...d.assignments.map((a) => a.model),
      ...d.shadows.map((s) => s.model),
    ]),
  ];
  if (names.length === 0) return <Empty>Runs no model and has none assigned.</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Running</th>
          <th scope="col">Assigned</th>
          <th scope="col">State</th>
          <th scope="col">Shadow</th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const running = d.models.find((m) => m.name === name);
          const assigned = d.assignments.find((a) => a.model === name);
          const shadow = d.shadows.find((s) => s.model === name);
          return (
            <tr>
              <th scope="row">
                <a href={`/models/${encodeURIComponent(name)}`}>{name}</a>
              </th>
              <td>{running ? `v${running.version}` : '–'}</td>
              <td>{assigned ? `v${assigned.version}` : '–'}</td>
              <td>
                {assigned ? (
                  <Badge
                    tone={
                      assigned.state === 'failed' || assigned.state === 'rejected'
                        ? 'bad'
                        : assigned.state === 'active'
                          ? 'ok'
                          : 'info'
                    }
                  >
                    {assigned.state}
                  </Badge>
                ) : null}{' '}
                {assigned?.reason ?? ''}
              </td>
              <td>{shadow ? `v${shadow.version} (${shadow.state})` : '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function UpdateHistory(props: { detail: DeviceDetail }) {
  const events = props.detail.events;
  if (events.length === 0) return <Empty>No update reports yet.</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Version</th>
          <th scope="col">State</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr>
            <td>
              <Time at={e.ts} />
            </td>
            <td>
              {e.model} v{e.version}
            </td>
            <td>
              <Badge
                tone={e.state === 'failed' || e.state === 'rejected' ? 'bad' : e.state === 'active' ? 'ok' : 'info'}
              >
                {e.state}
              </Badge>
            </td>
            <td>{[e.code, e.reason].filter(Boolean).join(': ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function deviceBody(ctx: PageContext, id: string) {
  const [detail, telemetry, alerts, incidents, models] = await Promise.all([
    ctx.api.getDevice({ params: { id } }),
    ctx.api.listTelemetry({ query: { device: id, limit: TELEMETRY_POINTS, order: 'newest' } }),
    ctx.api.listAlerts({ query: { device: id, limit: 20 } }),
    ctx.api.listIncidents({ query: { limit: 100 } }),
    ctx.api.listModels(),
  ]);
  const charts = telemetryCharts(telemetry.records);
  const mine = incidents.incidents.filter(
    (i) => i.devices.includes(id) || i.members.some((m) => m.scope === `device:${id}`),
  );
  const d = detail.device;
  const enc = encodeURIComponent(id);
  const back = `/devices/${enc}`;
  return (
    <LiveRegion id="device" src={`${back}?fragment=device`} topics="devices incidents" label="Device">
      <div class="grid-2">
        <section class="panel" aria-labelledby="health">
          <h2 id="health">Health</h2>
          <Facts detail={detail} />
        </section>
        <section class="panel" aria-labelledby="models">
          <h2 id="models">Models</h2>
          <Models detail={detail} />
          <h3>Actions</h3>
          <div class="actions">
            {d.disabled ? (
              <ActionForm
                action={`${back}/enable`}
                csrf={ctx.caller.csrfToken}
                label="Enable"
                confirm={`Enable ${id}? It may connect again.`}
                disabled={!ctx.can('admin')}
                disabledReason="needs the admin role"
              />
            ) : (
              <ActionForm
                action={`${back}/disable`}
                csrf={ctx.caller.csrfToken}
                label="Disable"
                danger
                confirm={`Disable ${id}? It is disconnected and cannot connect until enabled.`}
                disabled={!ctx.can('admin')}
                disabledReason="needs the admin role"
              />
            )}
            <ActionForm
              action={`${back}/revoke`}
              csrf={ctx.caller.csrfToken}
              label="Revoke credential"
              danger
              confirm={`Revoke ${id}'s credential? It must enroll again to connect.`}
              disabled={!ctx.can('admin')}
              disabledReason="needs the admin role"
            />
          </div>
          <ActionForm
            action={`${back}/deploy`}
            csrf={ctx.caller.csrfToken}
            label="Deploy"
            confirm={`Deploy the chosen version to ${id}?`}
            disabled={!ctx.can('operator')}
            disabledReason="needs the operator role"
          >
            <label class="field">
              Version to deploy
              <select name="version" required>
                {models.models.map((m) => (
                  <option value={`${m.name}@${m.version}`}>
                    {m.name} v{m.version} ({m.status})
                  </option>
                ))}
              </select>
            </label>
          </ActionForm>
        </section>
      </div>
      <h2>Telemetry</h2>
      {charts.count === 0 ? (
        <Empty>No telemetry from this device yet.</Empty>
      ) : (
        <>
          <p class="muted">Last {charts.count} records, in the browser's time zone.</p>
          <div class="grid-2">
            <figure>
              <figcaption>Prediction vs reference value</figcaption>
              <div class="chart" data-chart="series" data-source="chart-pred" data-testid="chart-pred"></div>
              <DataIsland id="chart-pred" data={charts.predictionVsReference} />
            </figure>
            <figure>
              <figcaption>Absolute error</figcaption>
              <div class="chart" data-chart="series" data-source="chart-error"></div>
              <DataIsland id="chart-error" data={charts.error} />
            </figure>
            {charts.features.series.length ? (
              <figure>
                <figcaption>Input features</figcaption>
                <div class="chart" data-chart="series" data-source="chart-features"></div>
                <DataIsland id="chart-features" data={charts.features} />
              </figure>
            ) : null}
          </div>
        </>
      )}
      <h2>Recent records</h2>
      {telemetry.records.length === 0 ? (
        <Empty>No records yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="recent-records">
            <thead>
              <tr>
                <th scope="col">Recorded</th>
                <th scope="col">Version</th>
                <th scope="col" class="num">
                  Prediction
                </th>
                <th scope="col" class="num">
                  Reference
                </th>
                <th scope="col">Where it came from</th>
              </tr>
            </thead>
            <tbody>
              {telemetry.records.slice(0, RECENT_RECORDS).map((r) => (
                <tr data-record={String(r.id)}>
                  <td>
                    <Time at={r.ts} />
                  </td>
                  <td>
                    {r.model} v{r.version}
                    {r.shadow ? ' (shadow)' : ''}
                  </td>
                  <td class="num">{fmtNumber(r.prediction)}</td>
                  <td class="num">{fmtNumber(r.reference)}</td>
                  <td>
                    <a href={`/retraining/lineage/records/${r.id}`}>lineage of record {r.id}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="grid-2">
        <section>
          <h2>Update history</h2>
          <UpdateHistory detail={detail} />
        </section>
        <section>
          <h2>Alerts and incidents</h2>
          {alerts.alerts.length === 0 && mine.length === 0 ? <Empty>None.</Empty> : null}
          <ul>
            {mine.map((i) => (
              <li>
                <a href={`/drift/incidents/${encodeURIComponent(i.id)}`}>incident {i.rule}</a> ({i.state}) on {i.model}{' '}
                v{i.version} since <Time at={i.openedAt} />
              </li>
            ))}
            {alerts.alerts.map((a) => (
              <li>
                {a.source} alert {a.rule} ({a.severity}, {a.state}) on {a.model} v{a.version}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </LiveRegion>
  );
}

export async function devicePage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params['id']!;
  return {
    title: `Device ${id}`,
    section: 'devices',
    scripts: ['charts'],
    body: (
      <>
        <p>
          <a href="/devices">← Devices</a>
        </p>
        <h1>Device {id}</h1>
        {await deviceBody(ctx, id)}
      </>
    ),
    fragments: { device: () => deviceBody(ctx, id) },
  };
}
