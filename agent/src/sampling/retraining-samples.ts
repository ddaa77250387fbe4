/**
 * @module sampling/retraining-samples
 * The input-sampling feature as one unit: policy (sampler), disk store, and upload.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Ack, SampleCapture } from '@edgeloop/protocol';
import type { AgentDb } from '../store/agent-db.js';
import { SampleUpload } from '../sync/sample-upload.js';
import { Sampler, type SampleInput } from './sampler.js';
import { samplingEnabled, type SamplingConfig } from './sampling-config.js';
import { SampleStore } from './sample-store.js';

export interface RetrainingSamples {
  sampler: Sampler;
  store: SampleStore;
  offer(input: SampleInput): void;
  onReference(seq: number, reference: number): void;
  handleAck(ack: Ack): void;
  setConnected(connected: boolean): void;
  requestUntil(until: number | undefined): void;
  /** The fleet's capture window (desired state), honoured when sampling.captureOnRequest is on. */
  capture(window: SampleCapture | undefined): void;
  close(): void;
}

export function startRetrainingSamples(deps: {
  config: SamplingConfig;
  db: AgentDb;
  dataDir: string;
  stream: string;
  send: (payload: Buffer) => Promise<void>;
  ackTimeoutMs: number;
  log: Logger;
}): RetrainingSamples | undefined {
  if (!samplingEnabled(deps.config)) return undefined;
  const log = deps.log.child({ part: 'sampling' });
  const store = new SampleStore(deps.db, join(deps.dataDir, 'samples'), deps.config.maxBytes);
  const sampler = new Sampler(deps.config, store, log);
  const upload = new SampleUpload(store, deps.stream, deps.config.upload, deps.send, { ackTimeoutMs: deps.ackTimeoutMs, pollMs: 1000 }, log);
  return {
    sampler,
    store,
    offer: (input) => sampler.offer(input),
    onReference: (seq, reference) => sampler.onReference(seq, reference),
    handleAck: (ack) => upload.handleAck(ack),
    setConnected: (c) => upload.setConnected(c),
    requestUntil: (until) => upload.requestUntil(until),
    capture: (window) => sampler.setCapture(window),
    close: () => upload.close(),
  };
}
