/**
 * @module sampling/retraining-samples
 * The input-sampling feature as one unit: policy (sampler) and disk store. The outbox uploads what
 * is kept (outbox/sample-stream.ts).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SampleCapture } from '@edgeloop/protocol';
import type { AgentDb } from '../store/agent-db.js';
import { Sampler, type SampleInput } from './sampler.js';
import { samplingEnabled, type SamplingConfig } from './sampling-config.js';
import { SampleStore } from './sample-store.js';

export interface RetrainingSamples {
  sampler: Sampler;
  store: SampleStore;
  offer(input: SampleInput): void;
  onReference(seq: number, reference: number): void;
  /** The fleet's capture window (desired state), honoured when sampling.captureOnRequest is on. */
  capture(window: SampleCapture | undefined): void;
  /** The device's own capture window while a local alert fires (monitoring). */
  captureLocally(window: SampleCapture | undefined): void;
}

export function startRetrainingSamples(deps: {
  config: SamplingConfig;
  db: AgentDb;
  dataDir: string;
  log: Logger;
}): RetrainingSamples | undefined {
  if (!samplingEnabled(deps.config)) return undefined;
  const log = deps.log.child({ part: 'sampling' });
  const store = new SampleStore(deps.db, join(deps.dataDir, 'samples'), deps.config.maxBytes);
  const sampler = new Sampler(deps.config, store, log);
  return {
    sampler,
    store,
    offer: (input) => sampler.offer(input),
    onReference: (seq, reference) => sampler.onReference(seq, reference),
    capture: (window) => sampler.setCapture(window),
    captureLocally: (window) => sampler.setLocalCapture(window),
  };
}
