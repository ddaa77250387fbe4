/**
 * @module console/pages/models/lineage-graph
 * Where a model's versions came from and where they went, as a graph the server can draw without
 * JavaScript: dataset → training run → version → rollouts → devices, trigger incident → loop run
 * → version, and parent (champion) → child version. Pure: it takes what the API answered and
 * returns positioned nodes and edges; lineage-graph-view.tsx turns them into SVG and a text list.
 *
 * The layout is layered: one column per kind of node, versions top to bottom by number, every
 * other node placed at the mean height of the versions it connects to (then pushed down so no two
 * overlap). Columns a model does not use (no datasets, no incidents) are left out.
 */
import type { ModelLineage } from '@edgeloop/protocol';

export type LineageNodeKind = 'dataset' | 'incident' | 'run' | 'loop' | 'version' | 'rollout' | 'devices';

export interface LineageNode {
  /** `<kind>:<id>`, e.g. "dataset:ds-1", "version:distance@2" (stable, for tests and links). */
  key: string;
  kind: LineageNodeKind;
  label: string;
  detail: string;
  href: string;
  /** Layout, in node units: column and row (rows may be fractional). */
  column: number;
  row: number;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** parent: an earlier version this one was derived from (drawn dashed, beside the column). */
  kind: 'flow' | 'parent';
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
  columns: number;
  rows: number;
  /** Rollouts left out of the picture (only the latest few per version are drawn). */
  omittedRollouts: number;
}

export interface LineageInput {
  name: string;
  versions: ReadonlyArray<{ version: number; status: string; lineage: ModelLineage }>;
  rollouts: ReadonlyArray<{ id: string; version: number; state: string; strategy: string; createdAt: number }>;
  /** Version → devices running it now. */
  serving: ReadonlyMap<number, number>;
}

export const MAX_ROLLOUTS_PER_VERSION = 4;

const COLUMN_OF: Record<LineageNodeKind, number> = {
  dataset: 0,
  incident: 0,
  run: 1,
  loop: 1,
  version: 2,
  rollout: 3,
  devices: 4,
};

/** A training run's id is its job's id and its position in the sweep ("tj-…-2"). */
export function trainingJobOf(runId: string): string {
  return runId.replace(/-\d+$/, '');
}

const enc = encodeURIComponent;

export function versionKey(name: string, version: number): string {
  return `version:${name}@${version}`;
}

export function buildLineageGraph(input: LineageInput): LineageGraph {
  const nodes = new Map<string, Omit<LineageNode, 'column' | 'row'>>();
  const edges: LineageEdge[] = [];
  const edgeSeen = new Set<string>();
  const add = (node: Omit<LineageNode, 'column' | 'row'>) => {
    if (!nodes.has(node.key)) nodes.set(node.key, node);
    return node.key;
  };
  const link = (from: string, to: string, kind: LineageEdge['kind'] = 'flow') => {
    const id = `${from}→${to}`;
    if (edgeSeen.has(id)) return;
    edgeSeen.add(id);
    edges.push({ from, to, kind });
  };
  const name = input.name;
  const versions = [...input.versions].sort((a, b) => a.version - b.version);
  const known = new Set(versions.map((v) => v.version));
  let omittedRollouts = 0;

  for (const v of versions) {
    const l = v.lineage;
    const key = add({
      key: versionKey(name, v.version),
      kind: 'version',
      label: `${name} v${v.version}`,
      detail: [v.status, l.trigger].filter(Boolean).join(' · '),
      href: `/models/${enc(name)}/versions/${v.version}`,
    });
    const dataset = l.datasetId
      ? add({
          key: `dataset:${l.datasetId}`,
          kind: 'dataset',
          label: 'dataset',
          detail: l.datasetId,
          href: `/retraining/datasets/${enc(l.datasetId)}`,
        })
      : undefined;
    const run = l.trainingRunId
      ? add({
          key: `run:${l.trainingRunId}`,
          kind: 'run',
          label: 'training run',
          detail: l.trainingRunId,
          href: `/retraining/jobs/${enc(trainingJobOf(l.trainingRunId))}#run-${enc(l.trainingRunId)}`,
        })
      : undefined;
    if (dataset && run) link(dataset, run);
    if (run) link(run, key);
    else if (dataset) link(dataset, key);

    const incident = l.incidentId
      ? add({
          key: `incident:${l.incidentId}`,
          kind: 'incident',
          label: 'incident',
          detail: l.incidentId,
          href: `/drift/incidents/${enc(l.incidentId)}`,
        })
      : undefined;
    const loop = l.loopRunId
      ? add({
          key: `loop:${l.loopRunId}`,
          kind: 'loop',
          label: 'loop run',
          detail: l.loopRunId,
          href: `/retraining/runs/${enc(l.loopRunId)}`,
        })
      : undefined;
    if (incident && loop) link(incident, loop);
    if (loop) link(loop, key);
    else if (incident) link(incident, key);

    if (l.parent !== undefined && known.has(l.parent)) link(versionKey(name, l.parent), key, 'parent');

    const mine = input.rollouts
      .filter((r) => r.version === v.version)
      .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    omittedRollouts += Math.max(0, mine.length - MAX_ROLLOUTS_PER_VERSION);
    const rolloutKeys = mine.slice(0, MAX_ROLLOUTS_PER_VERSION).map((r) => {
      const rk = add({
        key: `rollout:${r.id}`,
        kind: 'rollout',
        label: `${r.strategy} rollout`,
        detail: `${r.state} · ${r.id}`,
        href: `/rollouts/${enc(r.id)}`,
      });
      link(key, rk);
      return rk;
    });
    const count = input.serving.get(v.version) ?? 0;
    if (count > 0) {
      const dk = add({
        key: `devices:${name}@${v.version}`,
        kind: 'devices',
        label: `${count.toLocaleString('en')} device${count === 1 ? '' : 's'}`,
        detail: `running v${v.version}`,
        href: `/devices?model=${enc(`${name}@${v.version}`)}`,
      });
      if (rolloutKeys.length) for (const rk of rolloutKeys) link(rk, dk);
      else link(key, dk);
    }
  }
  return { ...layout([...nodes.values()], edges), edges, omittedRollouts };
}

function layout(
  raw: ReadonlyArray<Omit<LineageNode, 'column' | 'row'>>,
  edges: readonly LineageEdge[],
): { nodes: LineageNode[]; columns: number; rows: number } {
  const used = [...new Set(raw.map((n) => COLUMN_OF[n.kind]))].sort((a, b) => a - b);
  const columnOf = (kind: LineageNodeKind) => used.indexOf(COLUMN_OF[kind]);
  const row = new Map<string, number>();
  // Versions first, in order; then the columns nearest to them, each placed by its neighbours.
  raw.filter((n) => n.kind === 'version').forEach((n, i) => row.set(n.key, i));
  const order = [1, 3, 0, 4];
  for (const col of order) {
    const inCol = raw.filter((n) => COLUMN_OF[n.kind] === col);
    const wanted = inCol.map((n, i) => {
      const near = edges
        .filter((e) => e.kind === 'flow' && (e.from === n.key || e.to === n.key))
        .map((e) => row.get(e.from === n.key ? e.to : e.from))
        .filter((r): r is number => r !== undefined);
      return { n, i, want: near.length ? near.reduce((a, b) => a + b, 0) / near.length : 0 };
    });
    wanted.sort((a, b) => a.want - b.want || a.i - b.i);
    let next = 0;
    for (const w of wanted) {
      const r = Math.max(w.want, next);
      row.set(w.n.key, r);
      next = r + 1;
    }
  }
  const nodes = raw.map((n) => ({ ...n, column: columnOf(n.kind), row: row.get(n.key) ?? 0 }));
  const rows = nodes.reduce((m, n) => Math.max(m, n.row + 1), 0);
  return { nodes, columns: used.length, rows };
}

/** The graph restricted to one version's neighbourhood: its ancestors, its children, and what hangs off them. */
export function versionNeighbourhood(input: LineageInput, version: number): LineageInput {
  const byVersion = new Map(input.versions.map((v) => [v.version, v]));
  const keep = new Set<number>();
  for (let v: number | undefined = version; v !== undefined && byVersion.has(v) && !keep.has(v);) {
    keep.add(v);
    v = byVersion.get(v)!.lineage.parent;
  }
  for (const v of input.versions) if (v.lineage.parent === version) keep.add(v.version);
  return {
    ...input,
    versions: input.versions.filter((v) => keep.has(v.version)),
    rollouts: input.rollouts.filter((r) => keep.has(r.version)),
  };
}
