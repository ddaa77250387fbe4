/**
 * @module console/pages/models/model-page
 * One model: its versions, the lineage graph of all of them (data and runs in, rollouts and
 * devices out, parent → child), refreshed live, and a form to compare two versions.
 */
import type { ModelVersionSummary } from '@edgeloop/protocol';
import type { RestClient } from '@edgeloop/protocol/client';
import { LiveRegion } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { buildLineageGraph } from './lineage-graph.js';
import { LineageFigure } from './lineage-graph-view.js';
import { lineageInput, servingCounts, versionsOf } from './model-data.js';
import { VersionsTable } from './versions-table.js';

export function CompareForm(props: { name: string; versions: readonly ModelVersionSummary[]; a?: number; b?: number }) {
  const { name, versions } = props;
  if (versions.length < 2) return null;
  const a = props.a ?? versions[1]!.version;
  const b = props.b ?? versions[0]!.version;
  return (
    <form
      method="get"
      action={`/models/${encodeURIComponent(name)}/compare`}
      class="filters"
      data-testid="compare-form"
    >
      <label>
        Version A
        <select name="a">
          {versions.map((v) => (
            <option value={String(v.version)} selected={v.version === a}>
              v{v.version} ({v.status})
            </option>
          ))}
        </select>
      </label>
      <label>
        Version B
        <select name="b">
          {versions.map((v) => (
            <option value={String(v.version)} selected={v.version === b}>
              v{v.version} ({v.status})
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Compare</button>
    </form>
  );
}

async function modelBody(api: RestClient, name: string) {
  const serving = await servingCounts(api);
  const [input, versions] = await Promise.all([lineageInput(api, name, serving), versionsOf(api, name)]);
  const graph = buildLineageGraph(input);
  const enc = encodeURIComponent(name);
  return (
    <LiveRegion id="model" src={`/models/${enc}?fragment=model`} topics="models devices rollouts" label={name}>
      <h2>Versions</h2>
      <VersionsTable name={name} versions={versions} serving={input.serving} />
      <h2 id="lineage">Lineage</h2>
      <p class="muted">
        Datasets and training runs (or the incident and loop run that started retraining) on the left, versions in the
        middle with their parents linked, rollouts and the devices running each version on the right.
      </p>
      <LineageFigure graph={graph} title={`Lineage of ${name}`} />
    </LiveRegion>
  );
}

export async function modelPage(ctx: PageContext): Promise<PageResult> {
  const name = ctx.params['name']!;
  // Outside the live region, so a refresh never resets a choice being made.
  const versions = await versionsOf(ctx.api, name);
  return {
    title: `Model ${name}`,
    section: 'models',
    body: (
      <>
        <p>
          <a href="/models">← Models</a>
        </p>
        <h1>Model {name}</h1>
        {await modelBody(ctx.api, name)}
        {versions.length > 1 ? (
          <>
            <h2>Compare two versions</h2>
            <CompareForm name={name} versions={versions} />
          </>
        ) : null}
      </>
    ),
    fragments: { model: () => modelBody(ctx.api, name) },
  };
}
