/**
 * @module console/pages/drift/incident-list-page
 * Every incident, newest first, filtered by state and model and paged backwards with the API's
 * `before` cursor (so a page stays stable while new incidents open). Live: the first page follows
 * new incidents as they open and resolve.
 */
import { Empty, LiveRegion } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { DriftSubnav, IncidentTable } from './incident-parts.js';

export const INCIDENT_PAGE_SIZE = 50;

interface IncidentListQuery {
  state?: 'open' | 'resolved';
  model?: string;
  before?: string;
}

function readQuery(url: URL): IncidentListQuery {
  const p = url.searchParams;
  const state = p.get('state');
  const text = (k: string, max: number) => p.get(k)?.trim().slice(0, max) || undefined;
  return {
    state: state === 'open' || state === 'resolved' ? state : undefined,
    model: text('model', 64),
    before: text('before', 64),
  };
}

function listUrl(q: IncidentListQuery): string {
  const p = new URLSearchParams();
  if (q.state) p.set('state', q.state);
  if (q.model) p.set('model', q.model);
  if (q.before) p.set('before', q.before);
  const s = p.toString();
  return s ? `/drift/incidents?${s}` : '/drift/incidents';
}

async function IncidentList(props: { ctx: PageContext; q: IncidentListQuery }) {
  const { ctx, q } = props;
  const page = await ctx.api.listIncidents({
    query: {
      limit: INCIDENT_PAGE_SIZE,
      ...(q.state ? { state: q.state } : {}),
      ...(q.model ? { model: q.model } : {}),
      ...(q.before ? { before: q.before } : {}),
    },
  });
  const src = listUrl(q) + (listUrl(q).includes('?') ? '&' : '?') + 'fragment=incidents';
  return (
    <LiveRegion id="incidents" src={src} topics="incidents" label="Incidents">
      {page.incidents.length === 0 ? (
        <Empty>
          {q.before
            ? 'No older incidents.'
            : 'No incident matches. Incidents open when a rule fires; the rules are on the Rules page.'}
        </Empty>
      ) : (
        <IncidentTable incidents={page.incidents} />
      )}
      <nav class="pager" aria-label="Pages">
        <span>
          {page.incidents.length} incident{page.incidents.length === 1 ? '' : 's'}
          {q.before ? ' (older page)' : ''}
        </span>
        {q.before ? <a href={listUrl({ ...q, before: undefined })}>← Newest</a> : null}
        {page.next ? (
          <a href={listUrl({ ...q, before: page.next })} rel="next">
            Older →
          </a>
        ) : null}
      </nav>
    </LiveRegion>
  );
}

export async function incidentListPage(ctx: PageContext): Promise<PageResult> {
  const q = readQuery(ctx.url);
  const { models } = await ctx.api.listModels();
  const names = [...new Set(models.map((m) => m.name))].sort();
  return {
    title: 'Incidents',
    section: 'drift',
    body: (
      <>
        <h1>Incidents</h1>
        <DriftSubnav current="incidents" />
        <form class="filters" method="get" action="/drift/incidents" aria-label="Filter incidents">
          <label>
            State
            <select name="state">
              <option value="" selected={!q.state}>
                any
              </option>
              <option value="open" selected={q.state === 'open'}>
                open
              </option>
              <option value="resolved" selected={q.state === 'resolved'}>
                resolved
              </option>
            </select>
          </label>
          <label>
            Model
            <select name="model">
              <option value="" selected={!q.model}>
                any
              </option>
              {names.map((n) => (
                <option value={n} selected={n === q.model}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Filter</button>
          <a href="/drift/incidents">Clear</a>
        </form>
        {await IncidentList({ ctx, q })}
      </>
    ),
    fragments: { incidents: () => IncidentList({ ctx, q }) },
  };
}
