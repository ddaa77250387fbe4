/**
 * @module console/pages/rollouts/rollout-list-page
 * Every rollout, the active ones (running, paused) first and then the most recent: model and
 * version, strategy, state, wave k of n, devices by state with how many already serve the
 * candidate. Filter by model and state (in the URL, so a filtered list can be shared); the table
 * refreshes itself while rollouts move (live region on topic `rollouts`).
 */
import type { RolloutState, RolloutSummary } from '@edgeloop/protocol';
import { ROLLOUT_STATES } from '@edgeloop/protocol';
import { Empty, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import {
  ACTIVE_STATES,
  CountsByState,
  DoneProgress,
  RolloutStateBadge,
  describeTarget,
  doneCount,
  rolloutHref,
} from './rollout-bits.js';

/** How many rollouts the list shows (newest first; the API's limit). */
export const LIST_LIMIT = 200;

interface ListQuery {
  model?: string;
  state?: RolloutState;
}

function readQuery(url: URL): ListQuery {
  const model = url.searchParams.get('model')?.trim().slice(0, 64) || undefined;
  const state = url.searchParams.get('state') ?? '';
  return { model, state: (ROLLOUT_STATES as readonly string[]).includes(state) ? (state as RolloutState) : undefined };
}

/** Active rollouts first, then newest first. */
export function orderRollouts(rollouts: readonly RolloutSummary[]): RolloutSummary[] {
  const active = (r: RolloutSummary) => (ACTIVE_STATES.includes(r.state) ? 0 : 1);
  return [...rollouts].sort((a, b) => active(a) - active(b) || b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
}

async function loadRollouts(ctx: PageContext, q: ListQuery): Promise<RolloutSummary[]> {
  const { rollouts } = await ctx.api.listRollouts({
    query: { ...(q.model ? { model: q.model } : {}), ...(q.state ? { state: q.state } : {}), limit: LIST_LIMIT },
  });
  return orderRollouts(rollouts);
}

function RolloutTable(props: { rollouts: RolloutSummary[]; src: string; filtered: boolean }) {
  return (
    <LiveRegion id="rollouts" src={props.src} topics="rollouts" label="Rollouts">
      {props.rollouts.length === 0 ? (
        <Empty>
          {props.filtered ? 'No rollout matches the filter. ' : 'No rollout yet. '}
          <a href="/rollouts/new">Create a rollout</a> to bring a model version to devices wave by wave.
        </Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="rollout-table">
            <thead>
              <tr>
                <th scope="col">Rollout</th>
                <th scope="col">Model</th>
                <th scope="col">Strategy</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Wave
                </th>
                <th scope="col">On the candidate</th>
                <th scope="col">Devices by state</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {props.rollouts.map((r) => (
                <tr data-rollout={r.id}>
                  <th scope="row">
                    <a href={rolloutHref(r.id)}>{r.id}</a>
                  </th>
                  <td>
                    {r.model} v{r.version}
                    {r.baselineVersion !== null ? <span class="muted"> (from v{r.baselineVersion})</span> : null}
                  </td>
                  <td>
                    {r.strategy}
                    <div class="muted">{describeTarget(r.target)}</div>
                  </td>
                  <td>
                    <RolloutStateBadge rollout={r} />
                  </td>
                  <td class="num">
                    {Math.min(r.currentWave + 1, r.waveCount)}/{r.waveCount}
                  </td>
                  <td>
                    <DoneProgress
                      done={doneCount(r.counts)}
                      total={r.devices}
                      label={`${r.id}: devices on v${r.version}`}
                    />
                  </td>
                  <td>
                    <CountsByState counts={r.counts} />
                  </td>
                  <td>
                    {r.createdBy}, <Time at={r.createdAt} ago />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </LiveRegion>
  );
}

function Filters(props: { q: ListQuery; models: string[] }) {
  return (
    <form class="filters" method="get" action="/rollouts" role="search" aria-label="Filter rollouts">
      <label>
        Model
        <select name="model">
          <option value="" selected={!props.q.model}>
            any
          </option>
          {props.models.map((m) => (
            <option value={m} selected={m === props.q.model}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select name="state">
          <option value="" selected={!props.q.state}>
            any
          </option>
          {ROLLOUT_STATES.map((s) => (
            <option value={s} selected={s === props.q.state}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
      <a href="/rollouts">Clear</a>
    </form>
  );
}

export async function rolloutListPage(ctx: PageContext): Promise<PageResult> {
  const q = readQuery(ctx.url);
  const [rollouts, models] = await Promise.all([loadRollouts(ctx, q), ctx.api.listModels()]);
  const names = [...new Set(models.models.map((m) => m.name))].sort();
  if (q.model && !names.includes(q.model)) names.push(q.model);
  const src = new URL(ctx.url);
  src.searchParams.set('fragment', 'rollouts');
  const srcPath = src.pathname + src.search;
  const filtered = !!(q.model || q.state);
  return {
    title: 'Rollouts',
    section: 'rollouts',
    body: (
      <>
        <h1>Rollouts</h1>
        <p class="actions">
          {ctx.can('operator') ? (
            <a class="button" href="/rollouts/new" data-testid="new-rollout">
              New rollout
            </a>
          ) : (
            <span class="muted">Creating a rollout needs the operator role.</span>
          )}
        </p>
        <Filters q={q} models={names} />
        <RolloutTable rollouts={rollouts} src={srcPath} filtered={filtered} />
        {rollouts.length >= LIST_LIMIT ? (
          <p class="muted">The {LIST_LIMIT} most recent rollouts are shown; filter by model or state for older ones.</p>
        ) : null}
      </>
    ),
    fragments: {
      rollouts: async () => <RolloutTable rollouts={await loadRollouts(ctx, q)} src={srcPath} filtered={filtered} />,
    },
  };
}
