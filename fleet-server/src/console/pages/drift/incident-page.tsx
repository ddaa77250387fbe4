/**
 * @module console/pages/drift/incident-page
 * One incident, answering "since when, where, which version": when it opened and each member
 * scope since when, the devices it is seen on, the version, the metric around the onset with the
 * onset, the rule's threshold and any rollout marked, its alerts, the retraining runs it started
 * and what resolved it.
 */
import type { RestClient } from '@edgeloop/protocol/client';
import type { IncidentView, SeriesResponse } from '@edgeloop/protocol/rest';
import type { SeriesChartData } from '../../client/charts/chart-data.js';
import { Badge, DataIsland, Empty, LiveRegion, Time, fmtNumber } from '../../layout/components.js';
import { describeFailure, type PageContext, type PageResult } from '../../page-context.js';
import { conditionLines, driftMarks, seriesScopeOf, spanRange, stepFor, versionSeries } from './drift-charts.js';
import { DriftSubnav, IncidentStateBadge, incidentWhere } from './incident-parts.js';

const BEFORE_ONSET_MS = 30 * 60_000;
const AFTER_END_MS = 10 * 60_000;
const MAX_SPAN_MS = 24 * 3_600_000;
const MEMBER_MARKS = 5;

/** The scope the chart reads: fleet-wide when any member is, else the first member's group or device. */
function chartScope(i: IncidentView): string {
  const scopes = i.members.map((m) => seriesScopeOf(m.scope));
  return scopes.includes('fleet') || scopes.length === 0 ? 'fleet' : scopes[0]!;
}

async function onsetChart(api: RestClient, i: IncidentView) {
  const firstSince = Math.min(i.openedAt, ...i.members.map((m) => m.since));
  const from = firstSince - BEFORE_ONSET_MS;
  const end = (i.resolvedAt ?? Math.max(i.updatedAt, Date.now())) + AFTER_END_MS;
  const to = Math.min(end, from + MAX_SPAN_MS);
  const scope = chartScope(i);
  const step = stepFor(from, to, scope);
  const versions = [...new Set([i.version, ...(i.resolvedBy?.version ? [i.resolvedBy.version] : [])])];
  const notes: string[] = [];
  const answers: SeriesResponse[] = [];
  for (const version of versions) {
    try {
      answers.push(
        await api.metricSeries({
          query: { model: i.model, version, metric: i.metric, scope: scope as 'fleet', from, to, step },
        }),
      );
    } catch (err) {
      notes.push(`v${version}: ${describeFailure(err)}`);
    }
  }
  const [rule, rollouts] = await Promise.all([
    api.getRule({ params: { name: i.rule } }).catch(() => undefined),
    api.listRollouts({ query: { model: i.model, limit: 200 } }),
  ]);
  const marks = driftMarks([i], rollouts.rollouts, from, to);
  const members = [...i.members].sort((a, b) => a.since - b.since).slice(0, MEMBER_MARKS);
  for (const m of members)
    if (m.since !== i.openedAt) marks.push({ at: m.since, kind: 'other', label: `${m.scope} fired` });
  const chart: SeriesChartData = {
    ...spanRange(versionSeries(answers), from, to),
    thresholds: rule ? conditionLines(rule.rule.rule.name, rule.rule.rule.condition) : [],
    marks: marks.sort((a, b) => a.at - b.at),
    yLabel: i.metric,
  };
  return { chart, notes, scope, from, to, hasPoints: answers.some((a) => a.points.length) };
}

async function IncidentBody(props: { api: RestClient; id: string }) {
  const { incident: i, alerts, loopRuns } = await props.api.getIncident({ params: { id: props.id } });
  const chart = await onsetChart(props.api, i);
  const enc = encodeURIComponent(i.id);
  return (
    <LiveRegion
      id="incident"
      src={`/drift/incidents/${enc}?fragment=incident`}
      topics="incidents loop"
      label="Incident"
    >
      <div class="grid-2">
        <section class="panel" aria-labelledby="facts">
          <h2 id="facts">Since when, where, which version</h2>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <IncidentStateBadge i={i} />
            </dd>
            <dt>Since</dt>
            <dd data-testid="incident-since">
              <Time at={i.openedAt} /> (<Time at={i.openedAt} ago />)
            </dd>
            <dt>Where</dt>
            <dd>{incidentWhere(i)}</dd>
            <dt>Version</dt>
            <dd>
              <a href={`/models/${encodeURIComponent(i.model)}`}>{i.model}</a> v{i.version}
            </dd>
            <dt>Rule</dt>
            <dd>
              <a href={`/drift/rules/${encodeURIComponent(i.rule)}/edit`}>{i.rule}</a> on <code>{i.metric}</code> (
              {i.severity})
            </dd>
            <dt>Quiet since</dt>
            <dd>
              <Time at={i.quietSince} empty="a member still fires" />
            </dd>
            <dt>Resolved</dt>
            <dd>
              <Time at={i.resolvedAt} empty="not yet" />
            </dd>
            <dt>Resolved by</dt>
            <dd data-testid="incident-resolved-by">
              {i.resolvedBy ? (
                <>
                  {i.resolvedBy.model}
                  {i.resolvedBy.version !== null ? ` v${i.resolvedBy.version}` : ''}
                  {i.resolvedBy.loopRunId ? (
                    <>
                      {' '}
                      from{' '}
                      <a href={`/retraining/runs/${encodeURIComponent(i.resolvedBy.loopRunId)}`}>
                        retraining run {i.resolvedBy.loopRunId}
                      </a>
                    </>
                  ) : null}
                  : {i.resolvedBy.note}
                </>
              ) : (
                <span class="muted">{i.state === 'resolved' ? 'the breach ended by itself' : '–'}</span>
              )}
            </dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="members">
          <h2 id="members">Members</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Since</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {[...i.members]
                .sort((a, b) => a.since - b.since)
                .map((m) => (
                  <tr>
                    <th scope="row">
                      {m.deviceId ? <a href={`/devices/${encodeURIComponent(m.deviceId)}`}>{m.scope}</a> : m.scope}
                    </th>
                    <td>
                      <Time at={m.since} />
                    </td>
                    <td>
                      <Badge tone={m.state === 'firing' ? 'bad' : m.state === 'pending' ? 'warn' : 'muted'}>
                        {m.state}
                      </Badge>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
          <h3>Devices</h3>
          {i.devices.length === 0 ? (
            <Empty>No device named: the breach is seen on the fleet-wide windows only.</Empty>
          ) : (
            <ul class="inline-list">
              {i.devices.map((d) => (
                <li>
                  <a href={`/devices/${encodeURIComponent(d)}`}>{d}</a>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <h2>
        <code>{i.metric}</code> around the onset
      </h2>
      {chart.notes.map((n) => (
        <p class="flash flash-error">{n}</p>
      ))}
      {chart.hasPoints ? (
        <figure>
          <figcaption>
            Scope {chart.scope}, from <Time at={chart.from} /> to <Time at={chart.to} />; the onset is marked in red,
            the rule's threshold dashed
          </figcaption>
          <div class="chart" data-chart="series" data-source="incident-series" data-testid="incident-chart"></div>
          <DataIsland id="incident-series" data={chart.chart} />
        </figure>
      ) : (
        <Empty>No rollup data around the onset (it may have aged out).</Empty>
      )}
      <h2>Alerts</h2>
      {alerts.length === 0 ? (
        <Empty>No alert is stored for this incident.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Value
                </th>
                <th scope="col" class="num">
                  Threshold
                </th>
                <th scope="col" class="num">
                  Samples
                </th>
                <th scope="col">Since</th>
                <th scope="col">Fired</th>
                <th scope="col">Resolved</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr data-alert={a.id}>
                  <th scope="row">{a.scope}</th>
                  <td>{a.source}</td>
                  <td>
                    <Badge tone={a.state === 'firing' ? 'bad' : a.state === 'pending' ? 'warn' : 'muted'}>
                      {a.state}
                    </Badge>
                    {a.reason ? <span class="muted"> {a.reason}</span> : null}
                  </td>
                  <td class="num">{fmtNumber(a.value, 4)}</td>
                  <td class="num">{fmtNumber(a.threshold, 4)}</td>
                  <td class="num">{a.samples.toLocaleString('en')}</td>
                  <td>
                    <Time at={a.since} />
                  </td>
                  <td>
                    <Time at={a.firedAt} empty="–" />
                  </td>
                  <td>
                    <Time at={a.resolvedAt} empty="–" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Retraining it started</h2>
      {loopRuns.length === 0 ? (
        <Empty>
          No retraining run was started by this incident. A loop policy on the Retraining page can start one.
        </Empty>
      ) : (
        <ul>
          {loopRuns.map((r) => (
            <li data-loop-run={r.id}>
              <a href={`/retraining/runs/${encodeURIComponent(r.id)}`}>run {r.id}</a>{' '}
              <Badge tone={r.state === 'succeeded' ? 'ok' : r.state === 'running' ? 'info' : 'warn'}>{r.state}</Badge>{' '}
              at step {r.step}
              {r.version !== null ? `, version v${r.version}` : ''}
              {r.reason ? <span class="muted"> ({r.reason})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </LiveRegion>
  );
}

export async function incidentPage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params['id']!;
  const body = await IncidentBody({ api: ctx.api, id });
  return {
    title: `Incident ${id}`,
    section: 'drift',
    scripts: ['charts'],
    body: (
      <>
        <p>
          <a href="/drift/incidents">← Incidents</a>
        </p>
        <h1>Incident {id}</h1>
        <DriftSubnav current="incidents" />
        {body}
      </>
    ),
    fragments: { incident: () => IncidentBody({ api: ctx.api, id }) },
  };
}
