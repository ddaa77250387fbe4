/**
 * @module console/pages/retraining/retraining-page
 * The retraining loop at a glance: its runs (state, model, trigger, step, outcome), the policy of
 * each model, the recent training jobs, and "Retrain now" for a model with a policy. The runs and
 * jobs refresh themselves while the loop works (live region on topics `loop` and `training`).
 */
import { LOOP_RUN_STATES, type LoopPolicyView, type LoopRun, type TrainingJobSummary } from '@edgeloop/protocol/rest';
import type { RestClient } from '@edgeloop/protocol/client';
import { ActionForm, Badge, Empty, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { LoopStateBadge, TrainingStatusBadge, fmtDuration, links, spanMs, triggerText } from './retraining-format.js';

const RUNS_PER_PAGE = 25;
const JOBS_SHOWN = 10;

interface RunQuery {
  model?: string;
  state?: LoopRun['state'];
  before?: number;
}

function readRunQuery(url: URL): RunQuery {
  const q: RunQuery = {};
  const model = url.searchParams.get('model');
  if (model && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(model)) q.model = model;
  const state = url.searchParams.get('state');
  if (state && (LOOP_RUN_STATES as readonly string[]).includes(state)) q.state = state as LoopRun['state'];
  const before = Number(url.searchParams.get('before'));
  if (Number.isSafeInteger(before) && before > 0) q.before = before;
  return q;
}

/** The outcome of a run in one sentence: why it ended, or what its current step is doing. */
export function runOutcome(run: LoopRun): string {
  if (run.reason) return run.reason;
  if (run.state === 'succeeded')
    return run.version !== null ? `${run.model} v${run.version} serves and the trigger cleared` : 'succeeded';
  const current = run.steps.find((s) => s.name === run.step);
  return current?.outcome ?? `${run.step} ${current?.status ?? 'pending'}`;
}

async function loadRuns(api: RestClient, q: RunQuery) {
  return api.listLoopRuns({
    query: {
      limit: RUNS_PER_PAGE,
      ...(q.model ? { model: q.model } : {}),
      ...(q.state ? { state: q.state } : {}),
      ...(q.before ? { before: q.before } : {}),
    },
  });
}

function RunTable(props: { runs: LoopRun[]; next: number | null; url: URL; q: RunQuery }) {
  const { runs, next, url, q } = props;
  const page = (before: number | undefined) => {
    const u = new URL(url);
    u.searchParams.delete('fragment');
    if (before === undefined) u.searchParams.delete('before');
    else u.searchParams.set('before', String(before));
    return u.pathname + u.search;
  };
  return (
    <>
      {runs.length === 0 ? (
        <Empty>
          {q.model || q.state || q.before
            ? 'No loop run matches.'
            : 'No loop run yet. A run starts when a policy’s trigger fires (a drift incident, a schedule, new data) or with “Retrain now” below.'}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="loop-runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Trigger</th>
                <th scope="col">Step</th>
                <th scope="col">Champion → version</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr data-run={r.id}>
                  <th scope="row">
                    <a href={links.loopRun(r.id)}>{r.id}</a>
                  </th>
                  <td>
                    <a href={links.model(r.model)}>{r.model}</a>
                  </td>
                  <td>
                    <LoopStateBadge state={r.state} />
                  </td>
                  <td>
                    {r.trigger.incidentId ? (
                      <a href={links.incident(r.trigger.incidentId)}>{triggerText(r.trigger)}</a>
                    ) : (
                      triggerText(r.trigger)
                    )}
                  </td>
                  <td>{r.step}</td>
                  <td>
                    {r.champion !== null ? `v${r.champion}` : 'none'} →{' '}
                    {r.version !== null ? <a href={links.version(r.model, r.version)}>v{r.version}</a> : '–'}
                  </td>
                  <td>
                    <Time at={r.createdAt} ago />
                  </td>
                  <td>{fmtDuration(spanMs(r.createdAt, r.finishedAt))}</td>
                  <td>{runOutcome(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Loop run pages">
        {q.before ? <a href={page(undefined)}>← Newest</a> : null}
        {next !== null ? (
          <a href={page(next)} rel="next">
            Older runs →
          </a>
        ) : null}
      </nav>
    </>
  );
}

function JobTable(props: { jobs: TrainingJobSummary[] }) {
  if (props.jobs.length === 0)
    return <Empty>No training job yet. The loop starts one per run; edgeloop train starts one by hand.</Empty>;
  return (
    <div class="table-wrap">
      <table data-testid="training-jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Dataset</th>
            <th scope="col">Trainer</th>
            <th scope="col">Runs</th>
            <th scope="col">Registered</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {props.jobs.map((j) => (
            <tr>
              <th scope="row">
                <a href={links.job(j.id)}>{j.id}</a>
              </th>
              <td>
                <TrainingStatusBadge status={j.status} />
              </td>
              <td>
                <a href={links.dataset(j.datasetId)}>{j.datasetId}</a>
              </td>
              <td>{j.trainer}</td>
              <td>
                {Object.entries(j.counts)
                  .map(([status, n]) => `${n} ${status.replace('_', ' ')}`)
                  .join(', ')}
              </td>
              <td>
                {j.registered ? (
                  <a href={links.version(j.registered.name, j.registered.version)}>
                    {j.registered.name} v{j.registered.version}
                  </a>
                ) : (
                  '–'
                )}
              </td>
              <td>
                <Time at={j.createdAt} ago /> by {j.createdBy}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function triggersText(p: LoopPolicyView['policy']): string {
  if (p.triggers.length === 0) return 'manual only';
  return p.triggers
    .map((t) =>
      t.kind === 'incident'
        ? `incidents${t.rules ? ` of ${t.rules.join(', ')}` : ''}`
        : t.kind === 'schedule'
          ? `every ${fmtDuration(t.everyMs)}`
          : `${t.minNewSamples} new samples`,
    )
    .join('; ');
}

function PolicyTable(props: { policies: LoopPolicyView[] }) {
  if (props.policies.length === 0)
    return (
      <Empty>
        No model has a retraining policy, so nothing retrains by itself: set one with edgeloop loop policy set FILE
        (docs/retraining-loop.md).
      </Empty>
    );
  return (
    <div class="table-wrap">
      <table data-testid="loop-policies">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Enabled</th>
            <th scope="col">Triggers</th>
            <th scope="col">Dataset</th>
            <th scope="col">Gate</th>
            <th scope="col">Rollout</th>
            <th scope="col">Guards</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {props.policies.map(({ policy: p, updatedAt, updatedBy }) => (
            <tr>
              <th scope="row">
                <a href={links.model(p.model)}>{p.model}</a>
              </th>
              <td>{p.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="muted">disabled</Badge>}</td>
              <td>{triggersText(p)}</td>
              <td>
                {typeof p.dataset.devices === 'string' ? p.dataset.devices : `group ${p.dataset.devices.group}`}{' '}
                devices, ≥ {p.dataset.minSamples} samples, {Math.round(p.dataset.replayShare * 100)} % replay
              </td>
              <td>
                ≥ {Math.round(p.gate.minImprovement * 100)} % better on recent, ≤{' '}
                {Math.round(p.gate.originalTolerance * 100)} % worse on original
              </td>
              <td>{p.rollout.strategy}</td>
              <td>
                cool-down {fmtDuration(p.guards.cooldownMs)}, ≤ {p.guards.maxRunsPerDay}/day
              </td>
              <td>
                <Time at={updatedAt} ago /> by {updatedBy}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RetrainNow(props: { ctx: PageContext; policies: LoopPolicyView[] }) {
  const { ctx, policies } = props;
  if (policies.length === 0) return <Empty>Retrain now needs a model with a retraining policy.</Empty>;
  const canOperate = ctx.can('operator');
  return (
    <ActionForm
      action="/retraining/trigger"
      csrf={ctx.caller.csrfToken}
      label="Retrain now"
      confirm="Start a retraining of the chosen model now? It builds a dataset, trains, gates and may roll out a new version."
      disabled={!canOperate}
      disabledReason="needs the operator role"
      fields={{ back: '/retraining' }}
    >
      <label class="field">
        Model
        <select name="model" required data-testid="retrain-model">
          {policies.map(({ policy }) => (
            <option value={policy.model}>{policy.model}</option>
          ))}
        </select>
      </label>
      <label class="field">
        Reason (optional)
        <input name="reason" maxlength={500} />
      </label>
      <label class="check">
        <input type="checkbox" name="force" value="true" />
        Force (start inside the cool-down or over the daily budget)
      </label>
    </ActionForm>
  );
}

function RunFilters(props: { q: RunQuery; models: string[] }) {
  const { q, models } = props;
  return (
    <form class="filters" method="get" action="/retraining" role="search" aria-label="Filter loop runs">
      <label>
        Model
        <select name="model">
          <option value="" selected={!q.model}>
            any
          </option>
          {models.map((m) => (
            <option value={m} selected={q.model === m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select name="state">
          <option value="" selected={!q.state}>
            any
          </option>
          {LOOP_RUN_STATES.map((s) => (
            <option value={s} selected={q.state === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
      <a href="/retraining">Clear</a>
    </form>
  );
}

export async function retrainingPage(ctx: PageContext): Promise<PageResult> {
  const q = readRunQuery(ctx.url);
  const pageUrl = new URL(ctx.url);
  pageUrl.searchParams.delete('fragment');
  const src = new URL(pageUrl);
  src.searchParams.set('fragment', 'loop');
  const [policies, models] = await Promise.all([ctx.api.listLoopPolicies(), ctx.api.listModels()]);
  const modelNames = [
    ...new Set([...models.models.map((m) => m.name), ...policies.policies.map((p) => p.policy.model)]),
  ];
  const live = async () => {
    const [runs, jobs] = await Promise.all([loadRuns(ctx.api, q), ctx.api.listTrainingJobs()]);
    return (
      <LiveRegion id="loop" src={src.pathname + src.search} topics="loop training" label="Loop runs and training jobs">
        <h2>Loop runs</h2>
        <RunTable runs={runs.runs} next={runs.next} url={pageUrl} q={q} />
        <h2>Recent training jobs</h2>
        <JobTable jobs={jobs.jobs.slice(0, JOBS_SHOWN)} />
      </LiveRegion>
    );
  };
  return {
    title: 'Retraining',
    section: 'retraining',
    body: (
      <>
        <h1>Retraining</h1>
        <p>
          <a href="/retraining/datasets">Datasets</a> · <a href="/retraining/lineage">Lineage of a record or version</a>
        </p>
        <section class="panel" aria-labelledby="retrain-now">
          <h2 id="retrain-now">Retrain now</h2>
          <RetrainNow ctx={ctx} policies={policies.policies} />
        </section>
        <RunFilters q={q} models={modelNames.sort()} />
        {await live()}
        <h2>Policies</h2>
        <PolicyTable policies={policies.policies} />
      </>
    ),
    fragments: { loop: live },
  };
}
