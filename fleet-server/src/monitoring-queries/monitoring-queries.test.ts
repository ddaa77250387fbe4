/**
 * The monitoring queries on a real fleet server (SQLite, answers checked against the REST
 * contract), through the typed client and the CLI: telemetry stored the way the ingest stores it,
 * record times spread over twenty minutes, then series equal computeMetric over the same records
 * folded by hand, live histograms equal histogramOf of the raw values, and the drift overview puts
 * the drifted version and device first and the quiet version as not drifted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import {
  binSpecOfVersion,
  computeMetric,
  emptyRollup,
  FEATURE_EDGES,
  foldRecord,
  histogramOf,
  MINUTE_MS,
  referenceFromSummary,
  windowStart,
  type TelemetryRecord,
  type TrainingSummary,
} from '@edgeloop/protocol';
import { createApiClient } from '../cli/api-client.js';
import { main } from '../cli/edgeloop.js';
import { startFleetServer } from '../server.js';

const TOKEN = 'monitoring-queries-test-admin-token';
const REF_EDGES = Array.from({ length: 9 }, (_, i) => i * 50);
const BRIGHTNESS = FEATURE_EDGES.brightness!;
const centre = (edges: readonly number[], i: number) => (edges[i]! + edges[i + 1]!) / 2;

/** Brightness evenly over [0.2, 0.6), predictions and references evenly over [0, 400). */
const SUMMARY: TrainingSummary = {
  count: 800,
  features: {
    brightness: { edges: [...BRIGHTNESS], counts: BRIGHTNESS.slice(1).map((_, i) => (i >= 4 && i < 12 ? 100 : 0)) },
  },
  prediction: { edges: REF_EDGES, counts: [100, 100, 100, 100, 100, 100, 100, 100] },
  reference: { edges: REF_EDGES, counts: [100, 100, 100, 100, 100, 100, 100, 100] },
};
const VALIDATION_MAE = 2;

/**
 * Values at the baseline's bin centres in turn, so a quiet device's histograms have exactly the
 * baseline's proportions; a drifted one's brightness sits in [0.7, 0.9) instead.
 */
function records(
  version: number,
  n: number,
  start: number,
  opts: { driftFrom?: number; error: number },
): TelemetryRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const reference = centre(REF_EDGES, i % 8) - 1;
    // Half the error first, one and a half times it later: the same MAE, a series that changes.
    const error = opts.error * (i < n / 2 ? 0.5 : 1.5);
    const drifted = opts.driftFrom !== undefined && i >= opts.driftFrom;
    const brightness = drifted ? centre(BRIGHTNESS, 14 + (i % 4)) : centre(BRIGHTNESS, 4 + (i % 8));
    return {
      seq: i + 1,
      ts: start + i * 4_000,
      model: 'distance',
      version,
      output: [reference + error],
      prediction: reference + error,
      reference,
      latencyMs: 1,
      features: { brightness },
    };
  });
}

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const close = (a: number | null, b: number | null) =>
  a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));

test(
  'series, histograms and the drift overview agree with the records they summarise',
  { timeout: 90_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-monitoring-queries-'));
    const server = await startFleetServer(
      {
        dataDir: dir,
        http: { port: 0 },
        mqtt: { mode: 'embedded', port: 0 },
        adminToken: TOKEN,
        validateResponses: true,
      },
      pino({ level: 'silent' }),
    );
    const saved = process.env.EDGELOOP_TOKEN;
    process.env.EDGELOOP_TOKEN = TOKEN;
    t.after(async () => {
      process.env.EDGELOOP_TOKEN = saved;
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const metadata = { trainingSummary: SUMMARY, metrics: { validation_mae: VALIDATION_MAE } };
    await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 1 }), metadata });
    await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 2 }), metadata });
    // v3 was trained elsewhere: a validation MAE but no baseline; v4 has neither.
    const legacy = { metrics: { validation_mae: 4 } };
    await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 3 }), metadata: legacy });
    await server.registry.register({ name: 'distance', bytes: buildReferenceModel({ seed: 4 }) });

    // Twenty minutes of records, ten-minute aligned so every device window lies inside the range.
    const start = windowStart(Date.now() - 40 * MINUTE_MS, 10 * MINUTE_MS);
    const end = start + 20 * MINUTE_MS;
    const batches = [
      { deviceId: 'quiet-1', recs: records(1, 300, start, { error: 2 }) },
      { deviceId: 'quiet-2', recs: records(1, 300, start + 1_000, { error: 2 }) },
      { deviceId: 'calm', recs: records(2, 300, start, { error: 2 }) },
      // Drifts from its 150th record on, ten minutes in.
      { deviceId: 'shifted', recs: records(2, 300, start + 2_000, { driftFrom: 150, error: 6 }) },
      { deviceId: 'legacy', recs: records(3, 100, start, { error: 2 }) },
      { deviceId: 'bare', recs: records(4, 100, start, { error: 2 }) },
    ];
    // quiet-2 is in a group, so its records also land in the group's windows.
    await server.store.devices.recordBirth({
      v: 1,
      type: 'birth',
      deviceId: 'quiet-2',
      session: 1,
      ts: Date.now(),
      agentVersion: 't',
      arch: 'x64',
      platform: 'linux',
      cpus: 1,
      memTotalMb: 1,
      runtime: { name: 't', version: '0' },
      models: [],
      stream: 's',
      backlog: 0,
    });
    assert.ok(await server.store.devices.setLabels('quiet-2', { group: 'plant-1' }));
    await server.store.telemetry.storeBatches(
      batches.map((b) => ({ deviceId: b.deviceId, stream: 's', records: b.recs, historical: false })),
    );
    const api = createApiClient(server.httpUrl, { token: TOKEN });
    const record = (await server.store.models.get('distance', 2))!;
    const spec = binSpecOfVersion(record.manifest, record.trainingSummary);
    const reference = referenceFromSummary(SUMMARY, spec, VALIDATION_MAE);
    const v2 = batches.filter((b) => b.recs[0]!.version === 2).flatMap((b) => b.recs);

    // Series: each 5-minute point is computeMetric over that step's records, folded by hand.
    for (const metric of ['error.mae', 'error.mae_ratio', 'feature.brightness.psi', 'output.mean', 'count']) {
      const s = await api.metricSeries({
        query: { model: 'distance', version: 2, metric, from: start, to: end, step: 5 * MINUTE_MS },
      });
      assert.equal(s.points.length, 4);
      for (const [k, p] of s.points.entries()) {
        assert.equal(p.t, start + k * 5 * MINUTE_MS);
        const folded = emptyRollup();
        for (const r of v2) if (r.ts >= p.t && r.ts < p.t + 5 * MINUTE_MS) foldRecord(folded, spec, r);
        const expected = computeMetric(metric, folded, spec, reference);
        assert.ok(close(p.value, expected.value), `${metric} at step ${k}: ${p.value} vs ${expected.value}`);
        assert.equal(p.samples, expected.samples);
      }
    }
    const device = await api.metricSeries({
      query: {
        model: 'distance',
        version: 2,
        metric: 'feature.brightness.mean',
        scope: 'device:shifted',
        from: start,
        to: end,
        step: 10 * MINUTE_MS,
      },
    });
    const shifted = batches[3]!.recs;
    for (const p of device.points) {
      const folded = emptyRollup();
      for (const r of shifted) if (r.ts >= p.t && r.ts < p.t + 10 * MINUTE_MS) foldRecord(folded, spec, r);
      assert.ok(close(p.value, computeMetric('feature.brightness.mean', folded, spec).value));
    }

    const group = await api.metricSeries({
      query: {
        model: 'distance',
        version: 1,
        metric: 'count',
        scope: 'group:plant-1',
        from: start,
        to: end,
        step: 10 * MINUTE_MS,
      },
    });
    assert.deepEqual(
      group.points.map((p) => p.value),
      [150, 150],
    );

    // Histograms: live counts are histogramOf the raw values; the baseline is the training summary's.
    const h = await api.histograms({
      query: { model: 'distance', version: 2, quantity: 'feature.brightness', from: start, to: end },
    });
    assert.deepEqual(h.edges, BRIGHTNESS);
    assert.deepEqual(
      h.live,
      histogramOf(
        v2.map((r) => r.features.brightness!),
        BRIGHTNESS,
      ).counts,
    );
    assert.deepEqual(h.baseline, SUMMARY.features.brightness!.counts);
    assert.equal(h.verdict?.drifted, true);
    const out = await api.histograms({
      query: { model: 'distance', version: 1, quantity: 'output', scope: 'device:quiet-1', from: start, to: end },
    });
    assert.deepEqual(
      out.live,
      histogramOf(
        batches[0]!.recs.map((r) => r.prediction!),
        REF_EDGES,
      ).counts,
    );
    assert.equal(out.verdict?.drifted, false);
    const err = await api.histograms({
      query: { model: 'distance', version: 2, quantity: 'error', from: start, to: end },
    });
    assert.equal(err.baseline, null);
    assert.deepEqual(
      err.live,
      histogramOf(
        v2.map((r) => r.prediction! - r.reference!),
        spec.error,
      ).counts,
    );

    // Overview: the drifted version first, naming its drifted device and since when; the quiet one
    // not drifted; versions without a baseline last, with their live error only.
    const overview = await api.driftOverview({ query: { model: 'distance', from: start, to: end } });
    assert.deepEqual(
      overview.versions.map((v) => [v.version, v.drifted]),
      [
        [2, ['feature.brightness']],
        [1, []],
        [3, []],
        [4, []],
      ],
    );
    const [drifted, quiet, noBaselineV3, bare] = overview.versions;
    assert.deepEqual(drifted!.driftedDevices, [
      { deviceId: 'shifted', count: 300, drifted: ['feature.brightness'], driftingSince: start + 10 * MINUTE_MS },
    ]);
    // Fleet-wide the windows are judged in stretches of ≥ 100 records (four minutes of two devices
    // here): minutes 8–11 are the first stretch holding shifted values.
    assert.equal(drifted!.driftingSince, start + 8 * MINUTE_MS);
    assert.equal(quiet!.driftingSince, null);
    assert.deepEqual(
      [noBaselineV3!.hasReference, noBaselineV3!.verdicts, noBaselineV3!.error.maeRatio],
      [false, [], 0.5],
    );
    assert.deepEqual([bare!.hasReference, bare!.error.validationMae, bare!.error.maeRatio], [false, null, null]);
    assert.equal(drifted!.count, 600);
    assert.ok(close(drifted!.error.mae, 4));
    assert.ok(close(drifted!.error.maeRatio, 2));
    assert.equal(quiet!.driftedDeviceCount, 0);
    assert.ok(quiet!.verdicts.length === 3 && quiet!.verdicts.every((v) => v.drifted === false));
    assert.ok(close(quiet!.error.maeRatio, 1));
    const page1 = await api.driftOverview({ query: { from: start, to: end, limit: 1 } });
    assert.equal(page1.versions[0]!.version, 2);
    const pages = [page1.versions.map((v) => v.version)];
    for (let cursor = page1.nextCursor; cursor !== null;) {
      const page = await api.driftOverview({ query: { from: start, to: end, limit: 1, cursor } });
      pages.push(page.versions.map((v) => v.version));
      cursor = page.nextCursor;
    }
    assert.deepEqual(pages, [[2], [1], [3], [4]]);

    // Refusals say what to send instead.
    const get = async (query: string) => {
      const res = await fetch(`${server.httpUrl}/api/v1/monitoring/${query}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return { status: res.status, error: ((await res.json()) as { error?: string }).error ?? '' };
    };
    const base = `series?model=distance&version=2&from=${start}&to=${end}`;
    assert.match((await get(`${base}&metric=error.mea`)).error, /error has no statistic "mea".*Valid forms/);
    assert.match(
      (await get(`${base}&metric=count&step=90000`)).error,
      /not a multiple of the fleet window \(60000 ms\)/,
    );
    assert.match(
      (await get(`series?model=distance&version=2&metric=count&from=0&to=${end}`)).error,
      /at most 1000 per request: use step=\d+ or more/,
    );
    assert.match(
      (await get(`${base}&metric=count&scope=devices:x`)).error,
      /scope must be fleet, group:<name> or device:<id>/,
    );
    assert.deepEqual(await get(`series?model=distance&version=9&metric=count`), {
      status: 404,
      error: 'no model version distance@9; edgeloop models list shows the registered ones',
    });
    const noBaseline = await get(`series?model=distance&version=3&metric=output.psi`);
    assert.equal(noBaseline.status, 409);
    assert.match(noBaseline.error, /distance@3 has none \(no training summary\)/);
    const ratio = await api.metricSeries({
      query: { model: 'distance', version: 3, metric: 'error.mae_ratio', from: start, to: end, step: 10 * MINUTE_MS },
    });
    assert.deepEqual(
      ratio.points.map((p) => p.value),
      [0.5, null],
      'v3: 100 records in the first 400 s, MAE 2 (half at 1, half at 3), over a validation MAE of 4',
    );
    const noValidation = await get(`series?model=distance&version=4&metric=error.mae_ratio`);
    assert.equal(noValidation.status, 409);
    assert.match(noValidation.error, /distance@4 has none in its metrics \(validation_mae\); ask for error\.mae/);
    assert.match((await get('drift?cursor=abc')).error, /pass a previous answer's nextCursor/);
    assert.match(
      (await get('histograms?model=distance&version=2&quantity=colour')).error,
      /feature\.<name>, output, reference or error/,
    );

    // The CLI prints the same, as tables.
    const s = ['--server', server.httpUrl];
    const table = await cli(['drift', '--model', 'distance', '--since', '1h', ...s]);
    assert.equal(table.code, 0, table.err);
    const lines = table.out.split('\n');
    assert.match(lines[0]!, /^version\s+role\s+records\s+mae\s+mae\/val\s+drifted\s+since\s+devices drifted$/);
    assert.match(
      lines[1]!,
      /^distance@2\s+serving\s+600\s+4\s+2\s+feature\.brightness\s+\d{4}-\d\d-\d\d \d\d:\d\d:00\s+1: shifted \(feature\.brightness\)$/,
    );
    assert.match(lines[2]!, /^distance@1\s+serving\s+600\s+2\s+1\s+none\s+-\s+-$/);
    assert.match(lines[3]!, /^distance@3\s+serving\s+100\s+2\s+0\.5\s+no baseline\s+-\s+-$/);
    const series = await cli([
      'series',
      'distance@2',
      'error.mae',
      '--scope',
      'device:shifted',
      '--since',
      '1h',
      '--step',
      '10m',
      ...s,
    ]);
    assert.equal(series.code, 0, series.err);
    assert.match(series.out, /^time\s+error\.mae\s+samples\n/);
    assert.match(
      series.out,
      /\s3\s+150\n.*\s9\s+150\n/,
      'the first ten minutes at half the error, the next at 1.5 times',
    );
    const usage = await cli(['series', 'distance@2', 'error.mea', ...s]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /error has no statistic "mea"/);
  },
);
