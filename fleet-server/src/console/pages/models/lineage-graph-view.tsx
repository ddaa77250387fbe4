/**
 * @module console/pages/models/lineage-graph-view
 * The lineage graph drawn as SVG on the server (no script needed, nothing inline for the CSP to
 * refuse): every node a link to its page, arrows along the flow, parent links dashed beside the
 * version column. The same facts follow as a list, for screen readers and for copying.
 */
import { Empty } from '../../layout/components.js';
import type { LineageEdge, LineageGraph, LineageNode } from './lineage-graph.js';

const NODE_W = 172;
const NODE_H = 42;
const COL_W = 232;
const ROW_H = 58;
const MARGIN = 40;
const MAX_TEXT = 26;

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);
const x = (n: LineageNode) => MARGIN + n.column * COL_W;
const y = (n: LineageNode) => 10 + n.row * ROW_H;

function edgePath(a: LineageNode, b: LineageNode, e: LineageEdge): string {
  if (e.kind === 'parent') {
    // Beside the version column, on its left: from the parent's left edge round to the child's.
    const x0 = x(a);
    const y0 = y(a) + NODE_H / 2;
    const y1 = y(b) + NODE_H / 2;
    const bulge = Math.min(MARGIN - 6, 14 + 6 * Math.abs(b.row - a.row));
    return `M${x0},${y0} C${x0 - bulge},${y0} ${x0 - bulge},${y1} ${x0 - 2},${y1}`;
  }
  const x0 = x(a) + NODE_W;
  const y0 = y(a) + NODE_H / 2;
  const x1 = x(b) - 2;
  const y1 = y(b) + NODE_H / 2;
  const mid = (x0 + x1) / 2;
  return `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`;
}

export function LineageGraphSvg(props: { graph: LineageGraph; title: string }) {
  const { graph } = props;
  if (graph.nodes.length === 0) return <Empty>No lineage recorded.</Empty>;
  const byKey = new Map(graph.nodes.map((n) => [n.key, n]));
  const width = MARGIN * 2 + (graph.columns - 1) * COL_W + NODE_W;
  const height = 20 + (graph.rows - 1) * ROW_H + NODE_H;
  return (
    <div class="graph" data-testid="lineage-graph">
      <svg
        class="lineage"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="group"
        aria-label={props.title}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {graph.edges.map((e) => {
          const a = byKey.get(e.from);
          const b = byKey.get(e.to);
          if (!a || !b) return null;
          return <path class={`edge edge-${e.kind}`} d={edgePath(a, b, e)} marker-end="url(#arrow)" />;
        })}
        {graph.nodes.map((n) => (
          <a href={n.href} class={`node node-${n.kind}`} data-node={n.key}>
            <title>{`${n.label}: ${n.detail}`}</title>
            <rect x={x(n)} y={y(n)} width={NODE_W} height={NODE_H} rx="6" />
            <text x={x(n) + 8} y={y(n) + 17} class="label">
              {clip(n.label)}
            </text>
            <text x={x(n) + 8} y={y(n) + 33} class="detail">
              {clip(n.detail)}
            </text>
          </a>
        ))}
      </svg>
    </div>
  );
}

/** The graph as sentences, one per version: where it came from, what was done with it. */
export function LineageText(props: { graph: LineageGraph }) {
  const { graph } = props;
  const byKey = new Map(graph.nodes.map((n) => [n.key, n]));
  const into = (key: string) => graph.edges.filter((e) => e.to === key).map((e) => byKey.get(e.from)!);
  const outOf = (key: string) => graph.edges.filter((e) => e.from === key).map((e) => byKey.get(e.to)!);
  const A = (p: { n: LineageNode }) => (
    <a href={p.n.href}>{p.n.kind === 'devices' || p.n.kind === 'version' ? p.n.label : `${p.n.label} ${p.n.detail}`}</a>
  );
  const versions = graph.nodes.filter((n) => n.kind === 'version').sort((a, b) => a.row - b.row);
  return (
    <ul class="lineage-text">
      {versions.map((v) => {
        const sources = into(v.key).filter((n) => n.kind !== 'version');
        const parent = graph.edges.find((e) => e.to === v.key && e.kind === 'parent');
        const origins = sources.map((s) => ({ s, before: into(s.key) }));
        const rollouts = outOf(v.key).filter((n) => n.kind === 'rollout');
        const devices = [
          ...new Set([...outOf(v.key), ...rollouts.flatMap((r) => outOf(r.key))].filter((n) => n.kind === 'devices')),
        ];
        return (
          <li>
            <A n={v} /> ({v.detail || 'no status'})
            {parent ? (
              <>
                , derived from <A n={byKey.get(parent.from)!} />
              </>
            ) : null}
            {origins.map(({ s, before }) => (
              <>
                ; made by <A n={s} />
                {before.map((b) => (
                  <>
                    {' '}
                    from <A n={b} />
                  </>
                ))}
              </>
            ))}
            {rollouts.length ? (
              <>
                ; rolled out by{' '}
                {rollouts.map((r, i) => (
                  <>
                    {i ? ', ' : ''}
                    <A n={r} />
                  </>
                ))}
              </>
            ) : null}
            {devices.map((d) => (
              <>
                ; running on <A n={d} />
              </>
            ))}
            .
          </li>
        );
      })}
      {graph.omittedRollouts ? (
        <li>
          {graph.omittedRollouts} older rollout{graph.omittedRollouts === 1 ? '' : 's'} not drawn:{' '}
          <a href="/rollouts">see every rollout</a>.
        </li>
      ) : null}
    </ul>
  );
}

export function LineageFigure(props: { graph: LineageGraph; title: string }) {
  return (
    <figure class="lineage-figure">
      <LineageGraphSvg graph={props.graph} title={props.title} />
      <figcaption>
        <details>
          <summary>{props.title}, as text</summary>
          <LineageText graph={props.graph} />
        </details>
      </figcaption>
    </figure>
  );
}
