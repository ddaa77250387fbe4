/**
 * @module console/pages/retraining/loop-run-page
 * One loop run step by step (trigger → data → train → gate → register → rollout → resolve): each
 * step's status, times and outcome sentence, and the ids it made as links to their pages; then
 * the gate's comparison, and "Cancel" while the run is going. The page follows the run live
 * (topics `loop` and `training`).
 */
import { LOOP_STEP_NAMES, type LoopRun, type LoopStep, type LoopStepName } from '@edgeloop/protocol/rest';
import type { Child } from 'hono/jsx';
import { ActionForm, Badge, Empty, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { GateComparisonView } from './gate-comparison.js';
import { runOutcome } from './retraining-page.js';
import { LoopStateBadge, STEP_STATUS_TONE, fmtDuration, links, spanMs, triggerText } from './retraining-format.js';

const STEP_TITLES: Record<LoopStepName, string> = {
  trigger: 'Trigger',
  data: 'Data',
  train: 'Train',
  gate: 'Gate',
  register: 'Register',
  rollout: 'Rollout',
  resolve: 'Resolve',
};

/**
 * Detail values worth a line of their own (scalars and short lists; objects show elsewhere):
 * times (`from`, `to`, `…At`) in the browser's zone, durations (`…Ms`) in words.
 */
function detailFacts(detail: Record<string, unknown>, skip: ReadonlySet<string>): Array<[string, Child]> {
  const out: Array<[string, Child]> = [];
  for (const [k, v] of Object.entries(detail)) {
    if (skip.has(k)) continue;
    if (typeof v === 'number' && (k === 'from' || k === 'to' || k.endsWith('At'))) out.push([k, <Time at={v} />]);
    else if (typeof v === 'number' && k.endsWith('Ms')) out.push([k, fmtDuration(v)]);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.push([k, String(v)]);
    else if (Array.isArray(v) && v.length <= 20 && v.every((x) => typeof x !== 'object')) out.push([k, v.join(', ')]);
  }
  return out;
}

/** The ids a step made, as links to their pages. */
function stepLinks(run: LoopRun, name: LoopStepName): Child[] {
  const out: Child[] = [];
  const t = run.trigger;
  switch (name) {
    case 'trigger':
      if (t.incidentId)
        out.push(
          <a href={links.incident(t.incidentId)} data-node={`incident:${t.incidentId}`}>
            incident {t.incidentId}
          </a>,
        );
      if (t.devices.length) out.push(<span>devices {t.devices.join(', ')}</span>);
      if (t.onset !== null)
        out.push(
          <span>
            drift onset <Time at={t.onset} />
          </span>,
        );
      break;
    case 'data':
      if (run.datasetId)
        out.push(
          <a href={links.dataset(run.datasetId)} data-node={`dataset:${run.datasetId}`}>
            dataset {run.datasetId}
          </a>,
        );
      break;
    case 'train':
      if (run.trainingJobId)
        out.push(
          <a href={links.job(run.trainingJobId)} data-node={`job:${run.trainingJobId}`}>
            training job {run.trainingJobId}
          </a>,
        );
      if (run.trainingRunId && run.trainingJobId)
        out.push(
          <a href={`${links.job(run.trainingJobId)}#run-${run.trainingRunId}`} data-node={`run:${run.trainingRunId}`}>
            best run {run.trainingRunId}
          </a>,
        );
      break;
    case 'register':
      if (run.version !== null)
        out.push(
          <a href={links.version(run.model, run.version)} data-node={`version:${run.model}@${run.version}`}>
            {run.model} v{run.version}
          </a>,
        );
      break;
    case 'rollout':
      if (run.rolloutId)
        out.push(
          <a href={links.rollout(run.rolloutId)} data-node={`rollout:${run.rolloutId}`}>
            rollout {run.rolloutId}
          </a>,
        );
      break;
    case 'resolve':
      if (t.incidentId)
        out.push(
          <a href={links.incident(t.incidentId)} data-node={`incident:${t.incidentId}`}>
            incident {t.incidentId}
          </a>,
        );
      break;
    default:
      break;
  }
  return out;
}

const SHOWN_ELSEWHERE = new Set(['recent', 'original', 'verdict']);

function Steps(props: { run: LoopRun }) {
  const { run } = props;
  return (
    <ol class="loop-steps">
      {LOOP_STEP_NAMES.map((name) => {
        const step: LoopStep = run.steps.find((s) => s.name === name) ?? {
          name,
          status: 'pending',
          startedAt: null,
          finishedAt: null,
          outcome: null,
          detail: {},
        };
        const current = run.state === 'running' && run.step === name;
        const facts = detailFacts(step.detail, SHOWN_ELSEWHERE);
        const ids = stepLinks(run, name);
        return (
          <li
            data-testid={`loop-step-${name}`}
            data-status={step.status}
            class={`loop-step step-${step.status}`}
            aria-current={current ? 'step' : undefined}
          >
            <h3>
              {STEP_TITLES[name]} <Badge tone={STEP_STATUS_TONE[step.status]}>{step.status}</Badge>
              {current ? <span class="muted"> (now)</span> : null}
            </h3>
            <p class="muted">
              {step.startedAt !== null ? (
                <>
                  started <Time at={step.startedAt} />
                  {step.finishedAt !== null ? (
                    <>
                      , finished <Time at={step.finishedAt} /> ({fmtDuration(spanMs(step.startedAt, step.finishedAt))})
                    </>
                  ) : (
                    <>, {fmtDuration(spanMs(step.startedAt, null))} so far</>
                  )}
                </>
              ) : (
                'not started'
              )}
            </p>
            {step.outcome ? <p class="outcome">{step.outcome}</p> : null}
            {ids.length ? (
              <p class="step-links">
                {ids.map((l, i) => (
                  <>
                    {i ? ' · ' : ''}
                    {l}
                  </>
                ))}
              </p>
            ) : null}
            {facts.length ? (
              <dl class="facts">
                {facts.map(([k, v]) => (
                  <>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </>
                ))}
              </dl>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

function RunFacts(props: { run: LoopRun }) {
  const { run } = props;
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <LoopStateBadge state={run.state} /> at step {run.step}
      </dd>
      <dt>Outcome</dt>
      <dd data-testid="loop-outcome">{runOutcome(run)}</dd>
      <dt>Model</dt>
      <dd>
        <a href={links.model(run.model)}>{run.model}</a>: champion{' '}
        {run.champion !== null ? <a href={links.version(run.model, run.champion)}>v{run.champion}</a> : 'none'}
        {run.version !== null ? (
          <>
            {' '}
            → <a href={links.version(run.model, run.version)}>v{run.version}</a>
          </>
        ) : null}
      </dd>
      <dt>Trigger</dt>
      <dd>
        {triggerText(run.trigger)} at <Time at={run.trigger.at} />
      </dd>
      <dt>Started</dt>
      <dd>
        <Time at={run.createdAt} />
        {run.finishedAt !== null ? (
          <>
            , ended <Time at={run.finishedAt} /> after {fmtDuration(run.finishedAt - run.createdAt)}
          </>
        ) : (
          <>, running for {fmtDuration(spanMs(run.createdAt, null))}</>
        )}
      </dd>
      <dt>Policy</dt>
      <dd>
        gate ≥ {Math.round(run.policy.gate.minImprovement * 100)} % better on recent, ≤{' '}
        {Math.round(run.policy.gate.originalTolerance * 100)} % worse on original; {run.policy.rollout.strategy}{' '}
        rollout; {Math.round(run.policy.dataset.replayShare * 100)} % replay
      </dd>
    </dl>
  );
}

async function runBody(ctx: PageContext, id: string) {
  const { run } = await ctx.api.getLoopRun({ params: { id } });
  const back = links.loopRun(id);
  return (
    <LiveRegion id="loop-run" src={`${back}?fragment=loop-run`} topics="loop training" label="Loop run">
      <div class="grid-2">
        <section class="panel" aria-labelledby="run-facts">
          <h2 id="run-facts">Run</h2>
          <RunFacts run={run} />
          {run.state === 'running' ? (
            <ActionForm
              action={`${back}/cancel`}
              csrf={ctx.caller.csrfToken}
              label="Cancel run"
              danger
              confirm={`Cancel loop run ${id}? It stops where it is; a training job it started is cancelled, a rollout it started carries on.`}
              disabled={!ctx.can('operator')}
              disabledReason="needs the operator role"
              fields={{ back }}
            >
              <label class="field">
                Reason (optional)
                <input name="reason" maxlength={500} />
              </label>
            </ActionForm>
          ) : null}
        </section>
        <section class="panel" aria-labelledby="steps">
          <h2 id="steps">Steps</h2>
          <Steps run={run} />
        </section>
      </div>
      <h2>Gate</h2>
      {run.gate ? (
        <GateComparisonView gate={run.gate} model={run.model} />
      ) : (
        <Empty>
          {run.state === 'running'
            ? 'The gate has not compared a challenger yet: it does once training has a best run.'
            : 'This run ended before the gate compared a challenger.'}
        </Empty>
      )}
    </LiveRegion>
  );
}

export async function loopRunPage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params['id']!;
  if (!/^lr-[0-9a-f]{10}$/.test(id))
    return {
      title: 'Not a loop run',
      section: 'retraining',
      body: (
        <>
          <h1>Not a loop run</h1>
          <Empty>
            “{id}” is not a loop run id (lr- and 10 hex digits). <a href="/retraining">All loop runs</a>
          </Empty>
        </>
      ),
    };
  return {
    title: `Loop run ${id}`,
    section: 'retraining',
    body: (
      <>
        <p>
          <a href="/retraining">← Retraining</a>
        </p>
        <h1>Loop run {id}</h1>
        {await runBody(ctx, id)}
      </>
    ),
    fragments: { 'loop-run': () => runBody(ctx, id) },
  };
}
