/**
 * @module rest
 * Shapes of the fleet server's REST API responses: the contract the `edgeloop` CLI and the
 * browser console read, and the server's views must produce.
 */
import type { RunningModel } from './messages.js';
import type { Postprocessing, Preprocessing, TensorSpec } from './tensors.js';

export interface AssignmentStatus {
  model: string;
  version: number;
  /** assigned, then whatever the device last reported: downloading, verified, active, rejected, failed, removed. */
  state: string;
  code: string | null;
  reason: string | null;
  updatedAt: number;
}

export interface DeviceSummary {
  id: string;
  online: boolean;
  lastSeen: number | null;
  firstSeen: number;
  session: number;
  agentVersion: string | null;
  arch: string | null;
  platform: string | null;
  hardware: string | null;
  runtime: { name: string; version: string } | null;
  stream: string | null;
  /** What the device runs, as it last said. */
  models: RunningModel[];
  /** What the fleet wants it to run, and how far it got. */
  assignments: AssignmentStatus[];
  backlog: number;
  /** Records the device dropped (buffer cap), as it last reported. */
  dropped: number;
  records: number;
}

export interface TelemetryRow {
  id: number;
  deviceId: string;
  stream: string;
  seq: number;
  ts: number;
  receivedAt: number;
  model: string;
  version: number;
  requestId: string | null;
  output: number[];
  prediction: number | null;
  latencyMs: number;
  features: Record<string, number>;
  reference: number | null;
  /** Made while the device was offline, forwarded after the outage. */
  historical: boolean;
}

export interface ModelVersionSummary {
  name: string;
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  expiresAt: string;
  keyId: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing: Preprocessing;
  postprocessing: Postprocessing;
  targets: { arch: string[]; hardware: string[] };
}

export interface HealthResponse {
  status: 'ok';
  version: string;
  mqttUrl: string;
  keyId: string;
  publicKey: string;
}

/** A raw input a device kept for retraining (GET /api/v1/samples; bytes at /api/v1/samples/{id}/content). */
export interface SampleSummary {
  id: number;
  deviceId: string;
  stream: string;
  seq: number;
  model: string;
  version: number;
  ts: number;
  reason: string;
  prediction: number | null;
  reference: number | null;
  contentType: string;
  sha256: string;
  bytes: number;
  receivedAt: number;
}
