/**
 * The rule engine as the server runs it: on the store's rollups (SQLite), the metric catalogue,
 * the registry's versions with their baseline and validation MAE, and a data-time clock handed in
 * as the simulator does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { buildReferenceModel } from '@edgeloop/models';
import {
  binSpecFor,
  emptyRollup,
  foldRecord,
  histogramOf,
  scopeKind,
  valueEdges,
  WINDOW_MS,
  windowStart,
  type ScopeKey,
  type TrainingSummary,
} from '@edgeloop/protocol';
import { startFleetServer } from '../server.js';
import type { RollupDelta } from '../store/fleet-store.js';

const T0 = 1_800_000_000_000;

test(
  'the server engine judges the registry versions on stored rollups at the clock it is given',
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeloop-server-engine-'));
    let now = T0;
    const server = await startFleetServer(
      {
        dataDir: dir,
        http: { port: 0 },
        mqtt: { mode: 'embedded', port: 0 },
        monitoring: { evaluateEveryMs: 600_000 },
      },
      pino({ level: 'silent' }),
      { monitoringNow: () => now },
    );
    t.after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const edges = valueEdges(50, 250);
    const values = Array.from({ length: 2000 }, (_, i) => 100 + (i % 100));
    const summary: TrainingSummary = {
      count: values.length,
      features: {},
      prediction: histogramOf(values, edges),
      reference: histogramOf(values, edges),
    };
    await server.registry.register({
      name: 'cam',
      bytes: buildReferenceModel({ seed: 1 }),
      metadata: { trainingSummary: summary, metrics: { validation_mae: 4 } },
    });
    const spec = binSpecFor(summary);

    // 3 devices for 60 s: predictions like the training data, but the sensors now read 20 more
    // (concept drift; the reference values moved too, so it is a label shift as well).
    const windows = new Map<string, RollupDelta>();
    for (let s = 0; s < 60; s++)
      for (const device of ['d1', 'd2', 'd3'])
        for (let k = 0; k < 4; k++) {
          const ts = T0 + s * 1000 + k * 250;
          const prediction = 100 + ((s * 4 + k) % 100);
          for (const scope of ['fleet', `device:${device}`] as ScopeKey[]) {
            const windowMs = WINDOW_MS[scopeKind(scope)];
            const start = windowStart(ts, windowMs);
            const key = `${scope}|${start}`;
            let d = windows.get(key);
            if (!d) {
              d = {
                model: 'cam',
                version: 1,
                role: 'serving',
                scope,
                windowStart: start,
                windowMs,
                rollup: emptyRollup(),
              };
              windows.set(key, d);
            }
            foldRecord(d.rollup, spec, { features: {}, prediction, reference: prediction + 20 });
          }
        }
    await server.store.rollups.add([...windows.values()]);

    now = T0 + 60_000;
    for (let i = 0; i < 4; i++) {
      await server.monitoring.engine!.tick();
      now += 5000;
    }
    const firing = await server.store.monitoring.listAlerts({ state: 'firing' });
    // References 20 above the predictions: shifted (PSI) and beyond the trained range.
    assert.deepEqual(firing.map((a) => [a.rule, a.scope, a.model, a.version]).sort(), [
      ['default.label-range', 'version', 'cam', 1],
      ['default.label-shift', 'version', 'cam', 1],
      ['default.live-error', 'version', 'cam', 1],
    ]);
    assert.equal(firing.find((a) => a.rule === 'default.live-error')!.value, 5, 'live MAE 20 over validation MAE 4');
    assert.deepEqual((await server.store.monitoring.listIncidents({ state: 'open' })).map((i) => i.rule).sort(), [
      'default.label-range',
      'default.label-shift',
      'default.live-error',
    ]);
  },
);
