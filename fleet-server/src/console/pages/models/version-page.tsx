/**
 * @module console/pages/models/version-page
 * One model version: the facts of its signed manifest (tensors, pre/post-processing, targets,
 * signing key, expiry), the uploader's metrics, its drift baseline, where it came from (the
 * lineage walk and the graph around it), and what may be done with it: approve, deprecate,
 * revoke (confirmed; operator role), deploy it with a rollout, compare it with its parent.
 */
import type {
  LineageWalk,
  ModelDetail,
  ModelLineage,
  Postprocessing,
  Preprocessing,
  TensorSpec,
} from '@edgeloop/protocol';
import { ActionForm, Badge, Empty, Time, fmtBytes, fmtNumber } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { histogramStats, summaryHistograms } from './baseline-stats.js';
import { buildLineageGraph, trainingJobOf, versionNeighbourhood } from './lineage-graph.js';
import { LineageFigure } from './lineage-graph-view.js';
import { lineageInput, servingCounts, versionHref } from './model-data.js';
import { Labels, Metrics, StatusBadge } from './versions-table.js';

export function TensorTable(props: { specs: readonly TensorSpec[]; caption: string }) {
  return (
    <table>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Shape</th>
        </tr>
      </thead>
      <tbody>
        {props.specs.map((s) => (
          <tr>
            <th scope="row" class="mono">
              {s.name}
            </th>
            <td class="mono">{s.dtype}</td>
            <td class="mono">[{s.shape.join(', ')}]</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A processing step's fields, one per line, values as JSON. */
export function ProcessingFacts(props: { step: Preprocessing | Postprocessing }) {
  return (
    <dl class="facts">
      {Object.entries(props.step).map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </>
      ))}
    </dl>
  );
}

function Baseline(props: { detail: ModelDetail }) {
  const summary = props.detail.trainingSummary;
  if (!summary)
    return (
      <Empty>
        No training-data summary is stored, so drift on this version is judged against no baseline. Register the version
        with one (metadata <code>trainingSummary</code>).
      </Empty>
    );
  const hists = summaryHistograms(summary);
  return (
    <>
      <p>{summary.count.toLocaleString('en')} rows of training data summarised.</p>
      <table data-testid="baseline-features">
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col" class="num">
              Bins
            </th>
            <th scope="col" class="num">
              Range
            </th>
            <th scope="col" class="num">
              Mean (est.)
            </th>
            <th scope="col" class="num">
              Std (est.)
            </th>
          </tr>
        </thead>
        <tbody>
          {[...hists.entries()].map(([name, h]) => {
            const s = histogramStats(h);
            return (
              <tr>
                <th scope="row" class="mono">
                  {name}
                </th>
                <td class="num">{s.bins}</td>
                <td class="num">
                  {fmtNumber(s.min, 3)} … {fmtNumber(s.max, 3)}
                </td>
                <td class="num">{fmtNumber(s.mean, 4)}</td>
                <td class="num">{fmtNumber(s.std, 4)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/** An id the version's lineage names but the walk could not follow (the gaps say why). */
function Named(props: { id: string | undefined; href: (id: string) => string; none: string }) {
  if (!props.id) return <span class="muted">{props.none}</span>;
  return (
    <>
      <a href={props.href(props.id)}>{props.id}</a> <span class="muted">(not on this server)</span>
    </>
  );
}

function Origin(props: { walk: LineageWalk; lineage: ModelLineage }) {
  const { run, dataset, loop, sources, gaps } = props.walk;
  const l = props.lineage;
  return (
    <dl class="facts">
      <dt>Training run</dt>
      <dd>
        {run ? (
          <>
            <a href={`/retraining/jobs/${encodeURIComponent(trainingJobOf(run.id))}#run-${encodeURIComponent(run.id)}`}>
              {run.id}
            </a>{' '}
            ({run.trainer}, {run.status}
            {run.finishedAt ? (
              <>
                , finished <Time at={run.finishedAt} />
              </>
            ) : null}
            ) params{' '}
            <span class="mono">
              {Object.entries(run.params)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(' ')}
            </span>
          </>
        ) : (
          <Named
            id={l.trainingRunId}
            href={(id) => `/retraining/jobs/${encodeURIComponent(trainingJobOf(id))}#run-${encodeURIComponent(id)}`}
            none="none"
          />
        )}
      </dd>
      <dt>Dataset</dt>
      <dd>
        {dataset ? (
          <>
            <a href={`/retraining/datasets/${encodeURIComponent(dataset.id)}`}>{dataset.name ?? dataset.id}</a> (
            {dataset.origin}, {dataset.counts.total.toLocaleString('en')} items: {dataset.counts.train} train,{' '}
            {dataset.counts.validation} validation, {dataset.counts.holdout} holdout; from {sources.length} source
            {sources.length === 1 ? '' : 's'})
          </>
        ) : (
          <Named id={l.datasetId} href={(id) => `/retraining/datasets/${encodeURIComponent(id)}`} none="none" />
        )}
      </dd>
      <dt>Retraining loop</dt>
      <dd>
        {loop ? (
          <>
            <a href={`/retraining/runs/${encodeURIComponent(loop.runId)}`}>{loop.runId}</a> ({loop.state})
            {loop.incident ? (
              <>
                , started by incident{' '}
                <a href={`/drift/incidents/${encodeURIComponent(loop.incident.id)}`}>{loop.incident.rule}</a> opened{' '}
                <Time at={loop.incident.openedAt} />
              </>
            ) : null}
          </>
        ) : (
          <Named
            id={l.loopRunId}
            href={(id) => `/retraining/runs/${encodeURIComponent(id)}`}
            none="not made by the loop"
          />
        )}
      </dd>
      {gaps.length ? (
        <>
          <dt>Gaps</dt>
          <dd>{gaps.join('; ')}</dd>
        </>
      ) : null}
    </dl>
  );
}

function StatusActions(props: { ctx: PageContext; detail: ModelDetail }) {
  const { ctx } = props;
  const m = props.detail.model;
  const action = `${versionHref(m.name, m.version)}/status`;
  const allowed = ctx.can('operator');
  const why = allowed ? '' : 'needs the operator role';
  if (m.status === 'revoked')
    return <p class="muted">Revoked is final: re-release the artifact as a new version to run it again.</p>;
  const common = { action, csrf: ctx.caller.csrfToken, disabledReason: why };
  return (
    <div class="actions" data-testid="status-actions">
      <ActionForm
        {...common}
        label="Approve"
        fields={{ status: 'approved', back: versionHref(m.name, m.version) }}
        confirm={`Approve ${m.name} v${m.version}? It is marked fit to deploy.`}
        disabled={!allowed || m.status === 'approved'}
        disabledReason={allowed ? 'already approved' : why}
      />
      <ActionForm
        {...common}
        label="Deprecate"
        fields={{ status: 'deprecated', back: versionHref(m.name, m.version) }}
        confirm={`Deprecate ${m.name} v${m.version}? It stays assignable but is discouraged; devices keep running it.`}
        disabled={!allowed || m.status === 'deprecated'}
        disabledReason={allowed ? 'already deprecated' : why}
      />
      <ActionForm
        {...common}
        label="Revoke"
        danger
        fields={{ status: 'revoked', back: versionHref(m.name, m.version) }}
        confirm={`Revoke ${m.name} v${m.version}? This is final: it is removed from every device running it and can never be assigned again.`}
        disabled={!allowed}
      >
        <label class="field">
          Reason for revoking
          <input type="text" name="reason" maxlength={1024} placeholder="optional" disabled={!allowed} />
        </label>
      </ActionForm>
    </div>
  );
}

export async function versionPage(ctx: PageContext): Promise<PageResult> {
  const name = ctx.params['name']!;
  const version = Number(ctx.params['version']);
  if (!Number.isSafeInteger(version) || version < 1)
    return {
      title: 'Not a version',
      section: 'models',
      body: (
        <>
          <h1>Not a version</h1>
          <p>
            "{ctx.params['version']}" is not a version number: pick one from{' '}
            <a href={`/models/${encodeURIComponent(name)}`}>{name}</a>.
          </p>
        </>
      ),
    };
  const detail = await ctx.api.getModelVersion({ params: { name, version } });
  const m = detail.model;
  const serving = await servingCounts(ctx.api);
  const [walk, input] = await Promise.all([
    ctx.api.lineageOfVersion({ params: { name, version } }),
    lineageInput(ctx.api, name, serving),
  ]);
  const graph = buildLineageGraph(versionNeighbourhood(input, m.version));
  const devices = input.serving.get(m.version) ?? 0;
  const enc = encodeURIComponent(name);
  return {
    title: `${name} v${m.version}`,
    section: 'models',
    body: (
      <>
        <p>
          <a href="/models">← Models</a> · <a href={`/models/${enc}`}>{name}</a>
        </p>
        <h1>
          {name} v{m.version} <StatusBadge model={m} />
        </h1>
        {m.description ? <p>{m.description}</p> : null}
        <p class="actions">
          {m.status !== 'revoked' ? (
            <a
              href={`/rollouts/new?model=${enc}&version=${m.version}`}
              class="button-link"
              data-testid="deploy-link"
              title={ctx.can('operator') ? undefined : 'creating a rollout needs the operator role'}
            >
              Deploy with a rollout
            </a>
          ) : null}
          {m.lineage.parent !== undefined ? (
            <a href={`/models/${enc}/compare?a=${m.lineage.parent}&b=${m.version}`}>
              Compare with parent v{m.lineage.parent}
            </a>
          ) : null}
        </p>
        <div class="grid-2">
          <section class="panel" aria-labelledby="manifest">
            <h2 id="manifest">Manifest</h2>
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge model={m} /> {m.statusReason ?? ''}
              </dd>
              <dt>Created</dt>
              <dd>
                <Time at={Date.parse(m.createdAt)} />
              </dd>
              <dt>Expires</dt>
              <dd>
                <Time at={Date.parse(m.expiresAt)} />
                {Date.parse(m.expiresAt) < Date.now() ? (
                  <>
                    {' '}
                    <Badge tone="bad">expired</Badge>
                  </>
                ) : null}
              </dd>
              <dt>Signed by key</dt>
              <dd class="mono" data-testid="key-id">
                {m.keyId}
              </dd>
              <dt>Size</dt>
              <dd>{fmtBytes(m.size)}</dd>
              <dt>SHA-256</dt>
              <dd class="mono break-anywhere">{m.sha256}</dd>
              <dt>Targets</dt>
              <dd>
                arch {m.targets.arch.length ? m.targets.arch.join(', ') : 'any'}; hardware{' '}
                {m.targets.hardware.length ? m.targets.hardware.join(', ') : 'any'}
              </dd>
              <dt>Labels</dt>
              <dd>{Object.keys(m.labels).length ? <Labels labels={m.labels} /> : <span class="muted">none</span>}</dd>
              <dt>Devices running it</dt>
              <dd>
                {devices ? (
                  <a href={`/devices?model=${encodeURIComponent(`${name}@${m.version}`)}`}>
                    {devices.toLocaleString('en')}
                  </a>
                ) : (
                  'none'
                )}
              </dd>
            </dl>
            <h3>Status</h3>
            <StatusActions ctx={ctx} detail={detail} />
          </section>
          <section class="panel" aria-labelledby="io">
            <h2 id="io">Inputs and outputs</h2>
            <TensorTable specs={m.inputs} caption="Inputs" />
            <TensorTable specs={m.outputs} caption="Outputs" />
            <h3>Preprocessing</h3>
            <ProcessingFacts step={m.preprocessing} />
            <h3>Postprocessing</h3>
            <ProcessingFacts step={m.postprocessing} />
          </section>
        </div>
        <div class="grid-2">
          <section aria-labelledby="metrics">
            <h2 id="metrics">Metrics</h2>
            <p>
              <Metrics metrics={m.metrics} />
            </p>
          </section>
          <section aria-labelledby="origin">
            <h2 id="origin">Where it came from</h2>
            <Origin walk={walk} lineage={m.lineage} />
          </section>
        </div>
        <section aria-labelledby="baseline">
          <h2 id="baseline">Training-data baseline</h2>
          <Baseline detail={detail} />
        </section>
        <section aria-labelledby="lineage">
          <h2 id="lineage">Lineage</h2>
          <LineageFigure graph={graph} title={`Lineage of ${name} v${m.version}`} />
        </section>
      </>
    ),
  };
}
