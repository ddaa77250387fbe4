/**
 * @module loop/start-loop
 * The retraining loop as a server runs it: the policies of its settings stored (source "config",
 * unless the API set one for that model), and the engine bound to the store, training, the
 * gate's evaluator, the rollout engine and the monitoring events. The engine is a leader duty the
 * caller starts; its clock is the data clock it is given.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { FleetConfig } from '../config.js';
import type { DatasetService } from '../datasets/dataset-service.js';
import type { Deployments } from '../deploy/deployments.js';
import type { Monitoring } from '../monitoring/monitoring-service.js';
import type { RolloutEngine } from '../rollouts/rollout-engine.js';
import type { SampleStore } from '../samples/sample-store.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { TrainingService } from '../training/training-service.js';
import { evaluateChallenger } from './gate/challenger-gate.js';
import { loopDataPort } from './loop-data-port.js';
import { LoopEngine } from './loop-engine.js';

export interface LoopParts {
  config: FleetConfig;
  store: FleetStore;
  datasets: DatasetService;
  samples: SampleStore;
  sampleFiles: BlobStore;
  artifacts: BlobStore;
  deployments: Deployments;
  training: TrainingService;
  rollouts: RolloutEngine;
  monitoring: Monitoring;
  audit: AuditLog;
  log: Logger;
  /** Data time (default Date.now; the simulator passes its own). */
  now?: () => number;
}

export async function startLoop(p: LoopParts): Promise<LoopEngine> {
  const { store, config } = p;
  const now = p.now ?? Date.now;
  for (const policy of config.loop.policies) {
    const stored = await store.loop.getPolicy(policy.model);
    if (stored?.source === 'api') continue;
    await store.loop.putPolicy({ policy, updatedAt: Date.now(), updatedBy: 'config', source: 'config' });
  }
  const workDir = join(config.dataDir, 'loop');
  return new LoopEngine({
    runs: store.loop,
    policy: async (model) => (await store.loop.getPolicy(model))?.policy,
    policies: async () => (await store.loop.listPolicies()).map((r) => r.policy),
    store,
    data: loopDataPort({
      store,
      datasets: p.datasets,
      samples: p.samples,
      deployments: p.deployments,
      now,
    }),
    gate: {
      evaluate: (a) =>
        evaluateChallenger({
          store,
          blobs: p.sampleFiles,
          artifacts: p.artifacts,
          champion: a.champion,
          challenger: a.run,
          newDatasetId: a.datasetId,
          gate: a.gate,
          workDir,
          signal: a.signal,
        }),
    },
    training: p.training,
    rollouts: p.rollouts,
    incidents: p.monitoring.incidents,
    events: p.monitoring.events,
    audit: p.audit,
    log: p.log.child({ component: 'loop' }),
    now,
    tickMs: config.loop.tickMs,
  });
}
