import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleMetadata, MetadataError } from '../../client/upload/model-upload.js';
import {
  buildLineageGraph,
  MAX_ROLLOUTS_PER_VERSION,
  versionNeighbourhood,
  type LineageInput,
} from './lineage-graph.js';

const input: LineageInput = {
  name: 'm',
  versions: [
    { version: 1, status: 'approved', lineage: { datasetId: 'ds-a' } },
    { version: 2, status: 'registered', lineage: { parent: 1, datasetId: 'ds-a', trainingRunId: 'tj-x-2' } },
    { version: 3, status: 'registered', lineage: { parent: 2, incidentId: 'inc-1', loopRunId: 'lr-1' } },
    { version: 4, status: 'registered', lineage: { parent: 1, trigger: 'manual' } },
  ],
  rollouts: Array.from({ length: MAX_ROLLOUTS_PER_VERSION + 2 }, (_, i) => ({
    id: `ro-${i}`,
    version: 3,
    state: 'completed',
    strategy: 'staged',
    createdAt: 1000 + i,
  })),
  serving: new Map([
    [1, 5],
    [3, 12],
  ]),
};

test('the lineage graph: one node per thing, flows left to right, parents beside the versions', () => {
  const g = buildLineageGraph(input);
  const keys = g.nodes.map((n) => n.key);
  assert.equal(keys.filter((k) => k === 'dataset:ds-a').length, 1, 'a dataset shared by two versions is one node');
  const col = (key: string) => g.nodes.find((n) => n.key === key)!.column;
  assert.ok(col('dataset:ds-a') < col('run:tj-x-2'));
  assert.ok(col('run:tj-x-2') < col('version:m@2'));
  assert.equal(col('loop:lr-1'), col('run:tj-x-2'));
  assert.ok(col('version:m@3') < col('rollout:ro-5') && col('rollout:ro-5') < col('devices:m@3'));
  assert.equal(g.nodes.find((n) => n.key === 'run:tj-x-2')!.href, '/retraining/jobs/tj-x#run-tj-x-2');
  const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to)?.kind;
  assert.equal(edge('dataset:ds-a', 'version:m@1'), 'flow', 'a dataset without a run points at the version');
  assert.equal(edge('dataset:ds-a', 'run:tj-x-2'), 'flow');
  assert.equal(edge('incident:inc-1', 'loop:lr-1'), 'flow');
  assert.equal(edge('version:m@1', 'version:m@4'), 'parent');
  assert.equal(edge('version:m@1', 'devices:m@1'), 'flow', 'no rollout: the devices hang off the version');
  assert.equal(edge('rollout:ro-5', 'devices:m@3'), 'flow');
  assert.equal(g.omittedRollouts, 2, 'only the latest rollouts per version are drawn');
  assert.ok(!keys.includes('rollout:ro-0'));
  // No two nodes of a column overlap.
  for (const c of new Set(g.nodes.map((n) => n.column))) {
    const rows = g.nodes
      .filter((n) => n.column === c)
      .map((n) => n.row)
      .sort((a, b) => a - b);
    rows.forEach((r, i) => i && assert.ok(r - rows[i - 1]! >= 1, `column ${c} rows ${rows.join(',')}`));
  }
  assert.equal(g.columns, 5);
});

test("a version's neighbourhood: its ancestors and children only", () => {
  const near = versionNeighbourhood(input, 2);
  assert.deepEqual(
    near.versions.map((v) => v.version),
    [1, 2, 3],
  );
  assert.equal(near.rollouts.length, input.rollouts.length);
  assert.deepEqual(
    versionNeighbourhood(input, 4).versions.map((v) => v.version),
    [1, 4],
  );
});

test('the upload form assembles metadata and names the field that is wrong', () => {
  assert.deepEqual(
    assembleMetadata({
      metadata: '{"postprocessing": {"kind": "raw"}, "description": "old"}',
      description: ' new ',
      labels: 'team=vision\n\n site = plant-1 ',
      metrics: '{"mae": 1.5}',
    }),
    {
      postprocessing: { kind: 'raw' },
      description: 'new',
      labels: { team: 'vision', site: 'plant-1' },
      metrics: { mae: 1.5 },
    },
  );
  assert.deepEqual(assembleMetadata({ metadata: ' ', description: '', labels: '', metrics: '' }), {});
  assert.throws(
    () => assembleMetadata({ metadata: '', description: '', labels: 'team', metrics: '' }),
    (e: unknown) => e instanceof MetadataError && /Labels line 1 \("team"\): write key=value/.test(e.message),
  );
  assert.throws(
    () => assembleMetadata({ metadata: '[1]', description: '', labels: '', metrics: '' }),
    /More metadata must be a JSON object/,
  );
  assert.throws(
    () => assembleMetadata({ metadata: '', description: '', labels: '', metrics: '{"mae": "low"}' }),
    /Metrics must be a JSON object of numbers/,
  );
  assert.throws(() => assembleMetadata({ metadata: '{', description: '', labels: '', metrics: '' }), /not valid JSON/);
});
