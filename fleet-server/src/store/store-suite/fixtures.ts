/**
 * @module store/store-suite/fixtures
 * Rows the store contract tests write: a birth, telemetry records with every optional field
 * varying by seq, model versions, rollouts and their devices.
 */
import type { Birth, TelemetryRecord } from '@edgeloop/protocol';
import type { FleetStore, NewModelVersion, RolloutDeviceRecord, RolloutRecord } from '../fleet-store.js';

/** Declares one contract test that runs against a fresh store. */
export type WithStore = (title: string, fn: (store: FleetStore) => Promise<void>) => void;

export const birth = (deviceId: string, session: number, extra: Partial<Birth> = {}): Birth => ({
  v: 1,
  type: 'birth',
  deviceId,
  session,
  ts: 1,
  agentVersion: '0.1.0',
  arch: 'arm64',
  platform: 'linux',
  cpus: 4,
  memTotalMb: 4096,
  runtime: { name: 'onnxruntime-node', version: '1.30.0' },
  models: [],
  stream: 's1',
  backlog: 0,
  ...extra,
});

export const record = (seq: number, extra: Partial<TelemetryRecord> = {}): TelemetryRecord => ({
  seq,
  ts: 1_000 + seq,
  model: seq % 2 ? 'a' : 'b',
  version: 1 + (seq % 3),
  output: seq % 5 ? [seq / 4] : [1, -2.5, seq],
  prediction: seq % 7 ? seq / 4 : null,
  latencyMs: seq / 8,
  features: seq % 4 ? { f: seq, g: -seq / 3 } : {},
  reference: seq % 3 ? seq + 0.5 : null,
  ...(seq % 6 ? {} : { requestId: `r${seq}` }),
  ...(seq % 9 ? {} : { shadow: true }),
  ...extra,
});

export const modelVersion = (
  name: string,
  version: number,
  sha256 = `${name}-${version}`.padEnd(64, '0'),
): NewModelVersion => ({
  name,
  version,
  sha256,
  size: 10 * version,
  keyId: 'k1',
  createdAt: 5,
  envelope: { payloadType: 't', payload: `p${version}`, signatures: [] },
  manifest: { name, version } as unknown as NewModelVersion['manifest'],
  description: null,
  labels: { team: 'a' },
  metrics: { mae: 1.5 },
  trainingSummary: null,
  lineage: {},
});

export const rollout = (id: string, model: string, state = 'running'): RolloutRecord => ({
  id,
  model,
  version: 2,
  baselineVersion: 1,
  strategy: 'staged',
  role: 'serve',
  target: { all: true },
  params: { waitMs: 1 },
  waves: [{ size: 1 }],
  state,
  reason: null,
  createdBy: 'op',
  createdAt: 10,
  updatedAt: 10,
  finishedAt: null,
  currentWave: 0,
  holding: false,
  promotedAt: null,
  judgedSince: 10,
  rollbackVersions: {},
});

export const rolloutDevice = (
  rolloutId: string,
  deviceId: string,
  position: number,
  extra: Partial<RolloutDeviceRecord> = {},
): RolloutDeviceRecord => ({
  rolloutId,
  deviceId,
  wave: 0,
  position,
  state: 'pending',
  previousVersion: 1,
  assignedAt: null,
  stateAt: 10,
  times: { pending: 10 },
  reason: null,
  acknowledged: false,
  ...extra,
});
