/**
 * @module console/pages/drift/incident-parts
 * Pieces the drift pages share: the section's sub-navigation and the incident table (what, where,
 * which version, since when), used by the drift page's open incidents and the incident list.
 */
import type { IncidentView } from '@edgeloop/protocol/rest';
import { Badge, Time } from '../../layout/components.js';

const SUBNAV = [
  { key: 'drift', href: '/drift', label: 'Drift and error' },
  { key: 'incidents', href: '/drift/incidents', label: 'Incidents' },
  { key: 'rules', href: '/drift/rules', label: 'Rules' },
] as const;

export function DriftSubnav(props: { current: (typeof SUBNAV)[number]['key'] }) {
  return (
    <nav class="subnav" aria-label="Drift and error pages">
      <ul>
        {SUBNAV.map((n) => (
          <li>
            <a href={n.href} aria-current={n.key === props.current ? 'page' : undefined}>
              {n.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Where an incident is: fleet-wide, which groups, how many devices (the members' scopes in words). */
export function incidentWhere(i: IncidentView): string {
  const scopes = [...new Set(i.members.map((m) => m.scope))];
  const wide = scopes.filter((s) => !s.startsWith('group:') && !s.startsWith('device:'));
  const groups = scopes.filter((s) => s.startsWith('group:')).map((s) => s.slice('group:'.length));
  const devices = new Set([...i.devices, ...i.members.flatMap((m) => (m.deviceId ? [m.deviceId] : []))]);
  const parts = [
    ...wide.map((s) => (s === 'version' || s === 'fleet' ? 'fleet-wide' : s)),
    ...(groups.length ? [`group ${groups.join(', ')}`] : []),
    ...(devices.size ? [`${devices.size} device${devices.size === 1 ? '' : 's'}`] : []),
  ];
  return parts.length ? [...new Set(parts)].join('; ') : '–';
}

export function IncidentStateBadge(props: { i: IncidentView }) {
  const { i } = props;
  if (i.state === 'resolved') return <Badge tone="ok">resolved</Badge>;
  return <Badge tone={i.severity === 'critical' ? 'bad' : 'warn'}>{`open, ${i.severity}`}</Badge>;
}

export function IncidentTable(props: { incidents: readonly IncidentView[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">Metric</th>
            <th scope="col">Version</th>
            <th scope="col">Where</th>
            <th scope="col">State</th>
            <th scope="col">Since</th>
            <th scope="col">Resolved</th>
          </tr>
        </thead>
        <tbody>
          {props.incidents.map((i) => (
            <tr data-incident={i.id}>
              <th scope="row">
                <a href={`/drift/incidents/${encodeURIComponent(i.id)}`}>{i.rule}</a>
              </th>
              <td>
                <code>{i.metric}</code>
              </td>
              <td>
                {i.model} v{i.version}
              </td>
              <td>{incidentWhere(i)}</td>
              <td>
                <IncidentStateBadge i={i} />
              </td>
              <td>
                <Time at={i.openedAt} />
              </td>
              <td>
                <Time at={i.resolvedAt} empty="–" />
                {i.resolvedBy ? (
                  <span class="muted">
                    {' '}
                    by {i.resolvedBy.model}
                    {i.resolvedBy.version !== null ? ` v${i.resolvedBy.version}` : ''}
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
