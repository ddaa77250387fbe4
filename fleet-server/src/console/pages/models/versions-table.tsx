/**
 * @module console/pages/models/versions-table
 * The versions of one model as a table: status, when, size, the uploader's metrics, whether a
 * drift baseline is stored, what it is, and how many devices run it. The registry page shows one
 * per model, the model page its own.
 */
import type { ModelVersionSummary } from '@edgeloop/protocol';
import { Badge, Time, fmtBytes, fmtNumber } from '../../layout/components.js';
import { STATUS_TONE, versionHref } from './model-data.js';

export function Metrics(props: { metrics: Record<string, number> }) {
  const entries = Object.entries(props.metrics).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span class="muted">none reported</span>;
  return (
    <>
      {entries.map(([k, v], i) => (
        <>
          {i ? ', ' : ''}
          <span class="mono">{k}</span> {fmtNumber(v, 4)}
        </>
      ))}
    </>
  );
}

export function Labels(props: { labels: Record<string, string> }) {
  const entries = Object.entries(props.labels);
  if (entries.length === 0) return null;
  return (
    <>
      {entries.map(([k, v]) => (
        <code class="label-tag">
          {k}={v}
        </code>
      ))}
    </>
  );
}

export function StatusBadge(props: { model: ModelVersionSummary }) {
  const m = props.model;
  return (
    <Badge tone={STATUS_TONE[m.status]} title={m.statusReason ?? undefined}>
      {m.status}
    </Badge>
  );
}

export function VersionsTable(props: {
  name: string;
  versions: readonly ModelVersionSummary[];
  serving: ReadonlyMap<number, number>;
  caption?: string;
}) {
  const { name, versions, serving } = props;
  return (
    <div class="table-wrap">
      <table data-testid={`versions-${name}`}>
        {props.caption ? <caption class="muted">{props.caption}</caption> : null}
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">
              Size
            </th>
            <th scope="col">Metrics (uploader's)</th>
            <th scope="col">Baseline</th>
            <th scope="col">Description and labels</th>
            <th scope="col" class="num">
              Devices
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.map((m) => {
            const devices = serving.get(m.version) ?? 0;
            return (
              <tr data-version={m.version}>
                <th scope="row">
                  <a href={versionHref(name, m.version)}>v{m.version}</a>
                </th>
                <td>
                  <StatusBadge model={m} />
                </td>
                <td>
                  <Time at={Date.parse(m.createdAt)} />
                </td>
                <td class="num">{fmtBytes(m.size)}</td>
                <td>
                  <Metrics metrics={m.metrics} />
                </td>
                <td>{m.hasTrainingSummary ? 'yes' : <span class="muted">no</span>}</td>
                <td>
                  {m.description ? <span>{m.description} </span> : null}
                  <Labels labels={m.labels} />
                  {!m.description && Object.keys(m.labels).length === 0 ? <span class="muted">–</span> : null}
                </td>
                <td class="num">
                  {devices ? (
                    <a href={`/devices?model=${encodeURIComponent(`${name}@${m.version}`)}`}>
                      {devices.toLocaleString('en')}
                    </a>
                  ) : (
                    '0'
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
