/**
 * @module console/pages/retraining/lineage-page
 * The lineage walk, one link per hop: a device's telemetry record → the model version that made
 * it → the loop run that made the version (and the incident that started it) → the training run
 * → the dataset snapshot → its source devices and capture windows. A hop the server cannot make
 * is said in words (the walk's gaps). Each hop carries `data-node="<kind>:<id>"` so a test can
 * follow it. Also from a version (`/retraining/lineage/models/:name/:version`).
 */
import type { LineageWalk } from '@edgeloop/protocol';
import type { Child } from 'hono/jsx';
import { Badge, Empty, Time, fmtNumber } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { fmtParam, links } from './retraining-format.js';

function Hop(props: { kind: string; title: string; children?: Child }) {
  return (
    <li class="lineage-hop" data-hop={props.kind}>
      <h2>{props.title}</h2>
      {props.children}
    </li>
  );
}

function Missing(props: { children?: Child }) {
  return <p class="muted">{props.children}</p>;
}

export function LineageChain(props: { walk: LineageWalk }) {
  const { record, model, run, dataset, sources, loop, gaps } = props.walk;
  return (
    <>
      <ol class="lineage" data-testid="lineage">
        {record ? (
          <Hop kind="record" title="Record">
            <p>
              <span data-node={`record:${record.id}`}>record {record.id}</span> from device{' '}
              <a href={links.device(record.deviceId)} data-node={`device:${record.deviceId}`}>
                {record.deviceId}
              </a>{' '}
              (stream {record.stream}, seq {record.seq}) at <Time at={record.ts} />: predicted{' '}
              {fmtNumber(record.prediction)}, reference value {fmtNumber(record.reference)}
              {record.shadow ? (
                <>
                  {' '}
                  <Badge tone="info">shadow</Badge>
                </>
              ) : null}
            </p>
          </Hop>
        ) : null}
        <Hop kind="version" title="Model version">
          <p>
            <a href={links.version(model.name, model.version)} data-node={`version:${model.name}@${model.version}`}>
              {model.name} v{model.version}
            </a>{' '}
            <Badge tone={model.status === 'active' ? 'ok' : 'muted'}>{model.status}</Badge>, registered{' '}
            <Time at={Date.parse(model.createdAt)} />
            {model.trigger ? `, trigger ${model.trigger}` : ''}
            {model.parent !== null ? (
              <>
                , derived from <a href={links.version(model.name, model.parent)}>v{model.parent}</a>
              </>
            ) : null}
            {model.rereleaseOf !== null ? (
              <>
                {' '}
                — re-releases <a href={links.versionLineage(model.name, model.rereleaseOf)}>v{model.rereleaseOf}</a>
                's artifact (a rollback)
              </>
            ) : null}
          </p>
          <p class="muted mono">sha256 {model.sha256}</p>
        </Hop>
        <Hop kind="loop" title="Loop run">
          {loop ? (
            <>
              <p>
                <a href={links.loopRun(loop.runId)} data-node={`loop-run:${loop.runId}`}>
                  loop run {loop.runId}
                </a>{' '}
                ({loop.state}), started by {loop.trigger.kind}
                {loop.trigger.kind === 'manual' ? ` (${loop.trigger.actor})` : ''} at <Time at={loop.trigger.at} />
                {loop.gate ? (
                  <>
                    ; gate <Badge tone={loop.gate.verdict === 'accepted' ? 'ok' : 'bad'}>{loop.gate.verdict}</Badge>
                  </>
                ) : null}
              </p>
              {loop.incident ? (
                <p>
                  triggered by{' '}
                  <a href={links.incident(loop.incident.id)} data-node={`incident:${loop.incident.id}`}>
                    incident {loop.incident.id}
                  </a>{' '}
                  ({loop.incident.rule}, {loop.incident.state}), opened <Time at={loop.incident.openedAt} />
                  {loop.incident.resolvedAt !== null ? (
                    <>
                      , resolved <Time at={loop.incident.resolvedAt} />
                    </>
                  ) : null}
                </p>
              ) : null}
            </>
          ) : (
            <Missing>Not made by the retraining loop.</Missing>
          )}
        </Hop>
        <Hop kind="run" title="Training run">
          {run ? (
            <>
              <p>
                <a href={`${links.job(run.jobId)}#run-${run.id}`} data-node={`run:${run.id}`}>
                  training run {run.id}
                </a>{' '}
                of{' '}
                <a href={links.job(run.jobId)} data-node={`job:${run.jobId}`}>
                  job {run.jobId}
                </a>
                , trainer {run.trainer}, seed {run.seed} ({run.status}
                {run.finishedAt !== null ? (
                  <>
                    , finished <Time at={run.finishedAt} />
                  </>
                ) : null}
                )
              </p>
              <p>
                {Object.entries(run.params)
                  .map(([k, v]) => `${k}=${fmtParam(v)}`)
                  .join(', ')}
                {run.metrics ? `; validation MAE ${fmtNumber(run.metrics.validation.mae, 3)}` : ''}
                {run.metrics?.holdout ? `, holdout MAE ${fmtNumber(run.metrics.holdout.mae, 3)}` : ''}
              </p>
            </>
          ) : (
            <Missing>No training run is known for this version.</Missing>
          )}
        </Hop>
        <Hop kind="dataset" title="Dataset">
          {dataset ? (
            <p>
              <a href={links.dataset(dataset.id)} data-node={`dataset:${dataset.id}`}>
                dataset {dataset.name ? `${dataset.name} ` : ''}
                {dataset.id}
              </a>
              : {dataset.counts.total} items ({dataset.counts.train} train, {dataset.counts.validation} validation,{' '}
              {dataset.counts.holdout} holdout), labels {fmtNumber(dataset.label.min)}–{fmtNumber(dataset.label.max)},
              created <Time at={dataset.createdAt} />
            </p>
          ) : (
            <Missing>No dataset snapshot is known for this version.</Missing>
          )}
        </Hop>
        <Hop kind="sources" title="Sources">
          {sources.length === 0 ? (
            <Missing>No source devices are known.</Missing>
          ) : (
            <ul>
              {sources.map((s) => (
                <li>
                  {s.deviceId ? (
                    <a href={links.device(s.deviceId)} data-node={`device:${s.deviceId}`}>
                      {s.deviceId}
                    </a>
                  ) : (
                    'no device named'
                  )}
                  : {s.count} items captured <Time at={s.from} empty="?" /> to <Time at={s.to} empty="?" />
                </li>
              ))}
            </ul>
          )}
        </Hop>
      </ol>
      {gaps.length ? (
        <section aria-labelledby="gaps">
          <h2 id="gaps">Where the walk stops</h2>
          <ul data-testid="lineage-gaps">
            {gaps.map((g) => (
              <li>{g}</li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

function notFound(title: string, text: string): PageResult {
  return {
    title,
    section: 'retraining',
    body: (
      <>
        <h1>{title}</h1>
        <Empty>{text}</Empty>
      </>
    ),
  };
}

export async function recordLineagePage(ctx: PageContext): Promise<PageResult> {
  const raw = ctx.params['id']!;
  const id = Number(raw);
  if (!/^[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
    return notFound(
      'Not a record',
      `“${raw}” is not a telemetry record id (a whole number; the device page lists them).`,
    );
  const walk = await ctx.api.lineageOfRecord({ params: { id } });
  return {
    title: `Lineage of record ${id}`,
    section: 'retraining',
    body: (
      <>
        <h1>Lineage of record {id}</h1>
        <p class="muted">
          From a prediction back to the data the model that made it was trained on. The model page shows the whole
          graph.
        </p>
        <LineageChain walk={walk} />
      </>
    ),
  };
}

export async function versionLineagePage(ctx: PageContext): Promise<PageResult> {
  const name = ctx.params['name']!;
  const raw = ctx.params['version']!;
  const version = Number(raw);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) || !/^[1-9][0-9]{0,8}$/.test(raw))
    return notFound('Not a version', `“${name} v${raw}” does not name a model version (a model name and a number).`);
  const walk = await ctx.api.lineageOfVersion({ params: { name, version } });
  return {
    title: `Lineage of ${name} v${version}`,
    section: 'retraining',
    body: (
      <>
        <h1>
          Lineage of {name} v{version}
        </h1>
        <LineageChain walk={walk} />
      </>
    ),
  };
}

const seeOther = (path: string) => new Response(null, { status: 303, headers: { location: path } });

/**
 * Where to start a walk: a record id (the device page's telemetry, GET /api/v1/telemetry) or a
 * model version. The form is a plain GET, answered with a redirect to the walk.
 */
export async function lineageLookupPage(ctx: PageContext): Promise<PageResult | Response> {
  const record = ctx.url.searchParams.get('record')?.trim();
  if (record && /^[1-9][0-9]{0,15}$/.test(record)) return seeOther(links.recordLineage(Number(record)));
  const model = ctx.url.searchParams.get('model')?.trim() ?? '';
  const version = ctx.url.searchParams.get('version')?.trim() ?? '';
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(model) && /^[1-9][0-9]{0,8}$/.test(version))
    return seeOther(links.versionLineage(model, Number(version)));
  const tried = record || model || version;
  return {
    title: 'Lineage',
    section: 'retraining',
    body: (
      <>
        <h1>Lineage</h1>
        <p>Follow a prediction or a model version back to its training run, dataset and source devices.</p>
        {tried ? (
          <p class="flash flash-error" role="alert">
            Give a record id (a whole number) or a model name and version number.
          </p>
        ) : null}
        <div class="grid-2">
          <form class="filters" method="get" action="/retraining/lineage" aria-label="Lineage of a record">
            <label>
              Telemetry record id
              <input name="record" inputmode="numeric" pattern="[0-9]+" required />
            </label>
            <button type="submit">Follow the record</button>
          </form>
          <form class="filters" method="get" action="/retraining/lineage" aria-label="Lineage of a model version">
            <label>
              Model
              <input name="model" required />
            </label>
            <label>
              Version
              <input name="version" inputmode="numeric" pattern="[0-9]+" required />
            </label>
            <button type="submit">Follow the version</button>
          </form>
        </div>
      </>
    ),
  };
}
