/**
 * @module console/pages/drift/drift-filters
 * The drift page's "what to show" form: model, the version whose histograms are drawn, metric
 * (any catalogue name, common ones suggested), scope and range. A plain GET form: the URL is the
 * view.
 */
import type { DriftContext } from './drift-page.js';
import { RANGES, SUGGESTED_METRICS } from './drift-query.js';

export function DriftFilters(props: { c: DriftContext }) {
  const { c } = props;
  return (
    <form class="filters" method="get" action="/drift" aria-label="What to show">
      <label>
        Model
        <select name="model">
          {c.models.map((m) => (
            <option value={m} selected={m === c.model}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label>
        Histograms of version
        <select name="version">
          <option value="" selected={c.q.version === undefined}>
            newest serving
          </option>
          {c.versions.map((v) => (
            <option value={String(v)} selected={v === c.q.version}>
              v{v}
            </option>
          ))}
        </select>
      </label>
      <label>
        Metric
        <input name="metric" list="drift-metrics" value={c.q.metric ?? ''} placeholder="automatic" />
      </label>
      <datalist id="drift-metrics">
        {SUGGESTED_METRICS.map((m) => (
          <option value={m}></option>
        ))}
      </datalist>
      <label>
        Scope
        <input
          name="scope"
          value={c.q.scope}
          pattern="fleet|(group|device):[A-Za-z0-9_.\-]{1,64}"
          title="fleet, group:<name> or device:<id>"
        />
      </label>
      <label>
        Range
        <select name="range">
          {RANGES.map((r) => (
            <option value={r.key} selected={r.key === c.q.range}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Show</button>
    </form>
  );
}
