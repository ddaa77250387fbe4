/**
 * @module console/pages/overview/overview-page
 * The fleet at a glance: devices online/offline/updating, open incidents, active rollouts and
 * loop runs, and per model the serving versions' live error and whether drift is open.
 */
import type { RestClient } from '@edgeloop/protocol/client';
import { Badge, Empty, LiveRegion, Time, fmtNumber } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';

/** Device counts from the device facets (a few GROUP BY queries, however many devices). */
async function fleetCounts(api: RestClient) {
  const f = await api.getDeviceFacets();
  const serving = new Map<string, Map<number, number>>();
  let pending = 0;
  for (const m of f.models) {
    if (m.running > 0) {
      const byVersion = serving.get(m.model) ?? new Map<number, number>();
      byVersion.set(m.version, m.running);
      serving.set(m.model, byVersion);
    }
    pending += Math.max(0, m.assigned - m.running);
  }
  const offline = f.total - f.online - f.disabled;
  return {
    total: f.total,
    online: f.online,
    offline: Math.max(0, offline),
    disabled: f.disabled,
    updating: pending,
    serving,
  };
}

async function overviewData(api: RestClient) {
  const [counts, incidents, rollouts, loopRuns, models] = await Promise.all([
    fleetCounts(api),
    api.listIncidents({ query: { state: 'open', limit: 100 } }),
    api.listRollouts({ query: { limit: 100 } }),
    api.listLoopRuns({ query: { limit: 20 } }),
    api.listModels(),
  ]);
  const activeRollouts = rollouts.rollouts.filter((r) => !r.finishedAt);
  const runningLoops = loopRuns.runs.filter((r) => r.state === 'running');
  const modelNames = [...new Set([...counts.serving.keys(), ...models.models.map((m) => m.name)])].sort();
  const perModel = await Promise.all(
    modelNames.map(async (name) => {
      const errors = await api.liveError({ query: { model: name, since: Date.now() - 3_600_000 } });
      const versions = [...(counts.serving.get(name) ?? new Map<number, number>()).entries()].sort(
        (a, b) => b[0] - a[0],
      );
      return {
        name,
        versions,
        errors: errors.errors.filter((e) => !e.shadow),
        openIncidents: incidents.incidents.filter((i) => i.model === name),
        latest: Math.max(0, ...models.models.filter((m) => m.name === name).map((m) => m.version)),
      };
    }),
  );
  return { counts, incidents: incidents.incidents, activeRollouts, runningLoops, perModel };
}

function OverviewBody(props: { data: Awaited<ReturnType<typeof overviewData>> }) {
  const { counts, incidents, activeRollouts, runningLoops, perModel } = props.data;
  return (
    <LiveRegion id="overview" src="/?fragment=overview" topics="devices rollouts incidents loop models">
      <section aria-label="Fleet summary" class="cards">
        <a class="card" href="/devices?online=true">
          <div class="value" data-testid="online-count">
            {counts.online}
          </div>
          <div class="label">online of {counts.total} devices</div>
        </a>
        <a class="card" href="/devices?online=false">
          <div class="value">{counts.offline}</div>
          <div class="label">offline{counts.disabled ? `, ${counts.disabled} disabled` : ''}</div>
        </a>
        <div class="card">
          <div class="value">{counts.updating}</div>
          <div class="label">not yet on their assigned version</div>
        </div>
        <a class="card" href="/drift">
          <div class="value">{incidents.length}</div>
          <div class="label">open incidents</div>
        </a>
        <a class="card" href="/rollouts">
          <div class="value">{activeRollouts.length}</div>
          <div class="label">active rollouts</div>
        </a>
        <a class="card" href="/retraining">
          <div class="value">{runningLoops.length}</div>
          <div class="label">retraining runs in progress</div>
        </a>
      </section>
      <h2>Models</h2>
      {perModel.length === 0 ? (
        <Empty>No model is registered yet: upload one on the Models page or with edgeloop models push.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">Live error over the last hour, from records with a sensor reference value</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Serving (devices)</th>
                <th scope="col">Live MAE per version</th>
                <th scope="col">Drift</th>
                <th scope="col">Latest</th>
              </tr>
            </thead>
            <tbody>
              {perModel.map((m) => (
                <tr>
                  <th scope="row">
                    <a href={`/models/${encodeURIComponent(m.name)}`}>{m.name}</a>
                  </th>
                  <td>{m.versions.length ? m.versions.map(([v, n]) => `v${v} (${n})`).join(', ') : '–'}</td>
                  <td>
                    {m.errors.length
                      ? m.errors.map((e) => `v${e.version}: ${fmtNumber(e.mae)} (n=${e.n})`).join(', ')
                      : '–'}
                  </td>
                  <td>
                    {m.openIncidents.length ? (
                      <a href={`/drift?model=${encodeURIComponent(m.name)}`}>
                        <Badge tone="bad">{m.openIncidents.length} open</Badge>
                      </a>
                    ) : (
                      <Badge tone="ok">clear</Badge>
                    )}
                  </td>
                  <td>v{m.latest}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="grid-2">
        <section>
          <h2>Open incidents</h2>
          {incidents.length === 0 ? (
            <Empty>None.</Empty>
          ) : (
            <ul>
              {incidents.slice(0, 10).map((i) => (
                <li>
                  <a href={`/drift/incidents/${encodeURIComponent(i.id)}`}>{i.rule}</a> on {i.model} v{i.version},{' '}
                  {i.devices.length} device(s), since <Time at={i.openedAt} ago />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section>
          <h2>Active rollouts and retraining</h2>
          {activeRollouts.length === 0 && runningLoops.length === 0 ? <Empty>None.</Empty> : null}
          <ul>
            {activeRollouts.map((r) => (
              <li>
                <a href={`/rollouts/${encodeURIComponent(r.id)}`}>
                  {r.model} v{r.version}
                </a>{' '}
                {r.strategy}, wave {r.currentWave + 1}/{r.waveCount} <Badge tone="info">{r.state}</Badge>
              </li>
            ))}
            {runningLoops.map((r) => (
              <li>
                <a href={`/retraining/runs/${encodeURIComponent(r.id)}`}>retraining {r.model}</a> at step {r.step}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </LiveRegion>
  );
}

export async function overviewPage(ctx: PageContext): Promise<PageResult> {
  const render = async () => <OverviewBody data={await overviewData(ctx.api)} />;
  return {
    title: 'Overview',
    section: 'overview',
    body: (
      <>
        <h1>Fleet overview</h1>
        {await render()}
      </>
    ),
    fragments: { overview: render },
  };
}
