/**
 * @module console/pages/retraining/training-job-page
 * A training job's sweep side by side: one column per run, its parameters (rows where the runs
 * differ are marked), its metrics, the best run marked; the learning curves of every run
 * (validation MAE and loss per epoch, from the progress each trainer printed); and the tail of a
 * run's log (the best run's unless `?log=<run id>` names another). Live while the job trains.
 */
import type { TrainingJobDetail, TrainingRunSummary } from '@edgeloop/protocol';
import type { SeriesChartData } from '../../client/charts/chart-data.js';
import { Badge, DataIsland, Empty, LiveRegion, Time, fmtNumber } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { TrainingStatusBadge, fmtDuration, fmtParam, links } from './retraining-format.js';

const LOG_LINES = 80;

/** Per-epoch validation MAE and loss of every run, aligned on the epochs any run reached. */
export function sweepCurves(runs: readonly TrainingRunSummary[]): { valMae: SeriesChartData; loss: SeriesChartData } {
  const epochs = [...new Set(runs.flatMap((r) => (r.progress?.curve ?? []).map((c) => c.epoch)))].sort((a, b) => a - b);
  const series = (pick: (c: { loss: number; valMae?: number | undefined }) => number | undefined) =>
    runs
      .filter((r) => r.progress?.curve?.length)
      .map((r) => {
        const byEpoch = new Map(r.progress!.curve!.map((c) => [c.epoch, pick(c)]));
        return { label: `run ${r.position + 1}`, values: epochs.map((e) => byEpoch.get(e) ?? null) };
      });
  const base = { x: epochs, xTime: false, xLabel: 'epoch' };
  return {
    valMae: { ...base, series: series((c) => c.valMae), yLabel: 'validation MAE' },
    loss: { ...base, series: series((c) => c.loss), yLabel: 'loss' },
  };
}

function metricRows(runs: readonly TrainingRunSummary[]) {
  const m = (pick: (r: TrainingRunSummary) => number | undefined | null, digits = 3) =>
    runs.map((r) => fmtNumber(pick(r) ?? null, digits));
  const rows: Array<[string, string[]]> = [
    ['validation MAE', m((r) => r.metrics?.validation.mae)],
    ['validation RMSE', m((r) => r.metrics?.validation.rmse)],
    ['holdout MAE', m((r) => r.metrics?.holdout?.mae)],
    ['holdout RMSE', m((r) => r.metrics?.holdout?.rmse)],
    ['train MAE', m((r) => r.metrics?.train?.mae)],
    ['mean-baseline MAE', m((r) => r.metrics?.meanBaselineMae)],
    ['epochs', m((r) => r.metrics?.epochs ?? r.progress?.epoch, 0)],
  ];
  const extra = [...new Set(runs.flatMap((r) => Object.keys(r.metrics?.extra ?? {})))].sort();
  for (const k of extra) rows.push([k, m((r) => r.metrics?.extra?.[k])]);
  return rows.filter(([, values]) => values.some((v) => v !== '–'));
}

function SweepTable(props: { detail: TrainingJobDetail }) {
  const { job, runs } = props.detail;
  const paramNames = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const differs = (k: string) => new Set(runs.map((r) => JSON.stringify(r.params[k] ?? null))).size > 1;
  return (
    <div class="table-wrap">
      <table class="sweep" data-testid="sweep-table">
        <caption class="muted">
          One column per run; best by {job.metric} ({job.goal === 'min' ? 'lowest' : 'highest'} wins)
        </caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            {runs.map((r) => (
              <th scope="col" id={`run-${r.id}`} data-run={r.id} class={r.id === job.bestRunId ? 'best' : undefined}>
                run {r.position + 1}{' '}
                {r.id === job.bestRunId ? (
                  <Badge tone="ok" title="the job's best run">
                    ★ best
                  </Badge>
                ) : null}
                <div class="muted mono">{r.id}</div>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">status</th>
            {runs.map((r) => (
              <td>
                <TrainingStatusBadge status={r.status} />
                {r.status === 'running' && r.progress?.epoch && r.progress.epochs ? (
                  <div>
                    <progress
                      max={r.progress.epochs}
                      value={r.progress.epoch}
                      aria-label={`run ${r.position + 1} epoch ${r.progress.epoch} of ${r.progress.epochs}`}
                    />{' '}
                    epoch {r.progress.epoch}/{r.progress.epochs}
                  </div>
                ) : null}
                {r.error ? <div class="muted">{r.error}</div> : null}
              </td>
            ))}
          </tr>
          {paramNames.map((k) => {
            const d = differs(k);
            return (
              <tr class={d ? 'differs' : undefined} data-param={k} data-differs={d ? 'yes' : 'no'}>
                <th scope="row">
                  {k} {d ? <Badge tone="info">differs</Badge> : null}
                </th>
                {runs.map((r) => (
                  <td class="mono">{fmtParam(r.params[k])}</td>
                ))}
              </tr>
            );
          })}
          {paramNames.includes('seed') ? null : (
            <tr>
              <th scope="row">seed</th>
              {runs.map((r) => (
                <td class="mono">{r.seed}</td>
              ))}
            </tr>
          )}
          {metricRows(runs).map(([name, values]) => (
            <tr data-metric={name}>
              <th scope="row">{name}</th>
              {values.map((v) => (
                <td class="num">{v}</td>
              ))}
            </tr>
          ))}
          <tr>
            <th scope="row">took</th>
            {runs.map((r) => (
              <td>{fmtDuration(r.durationMs)}</td>
            ))}
          </tr>
          <tr>
            <th scope="row">log</th>
            {runs.map((r) => (
              <td>
                <a href={`${links.job(job.id)}?log=${encodeURIComponent(r.id)}#log`}>log of run {r.position + 1}</a>
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function JobFacts(props: { detail: TrainingJobDetail }) {
  const { job } = props.detail;
  return (
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <TrainingStatusBadge status={job.status} /> {job.error ?? ''}
      </dd>
      <dt>Dataset</dt>
      <dd>
        <a href={links.dataset(job.datasetId)} data-node={`dataset:${job.datasetId}`}>
          {job.datasetId}
        </a>
      </dd>
      <dt>Trainer</dt>
      <dd>
        {job.trainer}, {job.parallel} at a time, timeout {fmtDuration(job.timeoutMs)} per run
      </dd>
      <dt>Created</dt>
      <dd>
        <Time at={job.createdAt} /> by {job.createdBy}
      </dd>
      <dt>Finished</dt>
      <dd>
        <Time at={job.finishedAt} empty="not yet" />
      </dd>
      <dt>Registered</dt>
      <dd>
        {job.registered ? (
          <a href={links.version(job.registered.name, job.registered.version)}>
            {job.registered.name} v{job.registered.version}
          </a>
        ) : job.register ? (
          `the best run becomes the next version of ${job.register.model} when the job succeeds`
        ) : (
          'no version (register a run with edgeloop train register)'
        )}
      </dd>
    </dl>
  );
}

async function jobBody(ctx: PageContext, id: string) {
  const detail = await ctx.api.getTrainingJob({ params: { id } });
  const { job, runs } = detail;
  const curves = sweepCurves(runs);
  const logRunId = ctx.url.searchParams.get('log') ?? job.bestRunId ?? runs.find((r) => r.startedAt)?.id;
  const logRun = runs.find((r) => r.id === logRunId);
  const log = logRun ? await ctx.api.getTrainingRun({ params: { id: logRun.id } }) : undefined;
  const tail = log ? log.log.split('\n').slice(-LOG_LINES).join('\n') : '';
  const src = new URL(ctx.url);
  src.searchParams.set('fragment', 'job');
  return (
    <LiveRegion id="job" src={src.pathname + src.search} topics="training" label="Training job">
      <JobFacts detail={detail} />
      <h2>Runs</h2>
      {runs.length === 0 ? <Empty>This job has no runs.</Empty> : <SweepTable detail={detail} />}
      <h2>Learning curves</h2>
      {curves.valMae.x.length === 0 ? (
        <Empty>No per-epoch progress yet: curves appear as the trainer reports epochs.</Empty>
      ) : (
        <div class="grid-2">
          <figure>
            <figcaption>Validation MAE per epoch, each run</figcaption>
            <div class="chart" data-chart="series" data-source="curve-valmae" data-testid="curve-valmae"></div>
            <DataIsland id="curve-valmae" data={curves.valMae} />
          </figure>
          <figure>
            <figcaption>Training loss per epoch, each run</figcaption>
            <div class="chart" data-chart="series" data-source="curve-loss"></div>
            <DataIsland id="curve-loss" data={curves.loss} />
          </figure>
        </div>
      )}
      <h2 id="log">Log{logRun ? ` of run ${logRun.position + 1}` : ''}</h2>
      {logRun ? (
        tail.trim() ? (
          <pre class="log" data-testid="run-log" tabindex={0}>
            {tail}
          </pre>
        ) : (
          <Empty>The trainer printed nothing yet.</Empty>
        )
      ) : (
        <Empty>No run has started yet.</Empty>
      )}
    </LiveRegion>
  );
}

export async function trainingJobPage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params['id']!;
  return {
    title: `Training job ${id}`,
    section: 'retraining',
    scripts: ['charts'],
    body: (
      <>
        <p>
          <a href="/retraining">← Retraining</a>
        </p>
        <h1>Training job {id}</h1>
        {await jobBody(ctx, id)}
      </>
    ),
    fragments: { job: () => jobBody(ctx, id) },
  };
}
