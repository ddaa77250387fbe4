/**
 * @module console/pages/models/model-registry-page
 * The registry: every model name with all its versions (status, metrics, baseline, devices), and
 * the way to upload a new one. Refreshes itself when models or devices change.
 */
import type { RestClient } from '@edgeloop/protocol/client';
import { Empty, LiveRegion } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { groupByName, servingCounts } from './model-data.js';
import { VersionsTable } from './versions-table.js';

async function registryBody(api: RestClient) {
  const [{ models }, serving] = await Promise.all([api.listModels(), servingCounts(api)]);
  const byName = groupByName(models);
  return (
    <LiveRegion id="models" src="/models?fragment=models" topics="models devices" label="Registered models">
      {byName.size === 0 ? (
        <Empty>
          No model is registered yet. <a href="/models/upload">Upload one</a>, or push one with{' '}
          <code>edgeloop models push</code>.
        </Empty>
      ) : null}
      {[...byName.entries()].map(([name, versions]) => {
        const counts = serving.get(name) ?? new Map<number, number>();
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        return (
          <section class="model-entry" aria-labelledby={`model-${name}`} data-model={name}>
            <h2 id={`model-${name}`}>
              <a href={`/models/${encodeURIComponent(name)}`}>{name}</a>
            </h2>
            <p class="muted">
              {versions.length} version{versions.length === 1 ? '' : 's'}, running on {total.toLocaleString('en')}{' '}
              device{total === 1 ? '' : 's'} · <a href={`/models/${encodeURIComponent(name)}#lineage`}>lineage</a>
              {versions.length > 1 ? (
                <>
                  {' '}
                  ·{' '}
                  <a
                    href={`/models/${encodeURIComponent(name)}/compare?a=${versions[1]!.version}&b=${versions[0]!.version}`}
                  >
                    compare v{versions[1]!.version} with v{versions[0]!.version}
                  </a>
                </>
              ) : null}
            </p>
            <VersionsTable name={name} versions={versions} serving={counts} />
          </section>
        );
      })}
    </LiveRegion>
  );
}

export async function modelRegistryPage(ctx: PageContext): Promise<PageResult> {
  return {
    title: 'Models',
    section: 'models',
    body: (
      <>
        <h1>Models</h1>
        <p class="actions">
          <a href="/models/upload" class="button-link">
            Upload a model
          </a>
        </p>
        {await registryBody(ctx.api)}
      </>
    ),
    fragments: { models: () => registryBody(ctx.api) },
  };
}
