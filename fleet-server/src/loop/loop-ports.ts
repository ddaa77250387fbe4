/**
 * @module loop/loop-ports
 * What the retraining loop needs from the rest of the server, as narrow interfaces: its own
 * records, the policies, the data it trains on, the gate's evaluation, training, registering,
 * rolling out and the incidents it resolves. start-loop.ts binds them to the real services; the
 * loop's tests bind them to the same services over a real store.
 */
import type { Logger } from 'pino';
import type { GateComparison, LoopPolicy, LoopRun, LoopRunState } from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { IncidentTracker } from '../monitoring/incident-tracker.js';
import type { MonitoringEvents } from '../monitoring/monitoring-events.js';
import type { RolloutEngine } from '../rollouts/rollout-engine.js';
import type { FleetStore, ModelVersionRecord, TrainingRunRecord } from '../store/fleet-store.js';
import type { TrainingService } from '../training/training-service.js';

/** The loop's records (the store's loop repository). */
export interface LoopRunStore {
  startRun(run: LoopRun): Promise<boolean>;
  updateRun(run: LoopRun): Promise<void>;
  getRun(id: string): Promise<LoopRun | undefined>;
  listRuns(q?: { model?: string; state?: LoopRunState; before?: number; limit?: number }): Promise<LoopRun[]>;
  runningRun(model: string): Promise<LoopRun | undefined>;
  countAutomaticSince(model: string, since: number): Promise<number>;
  lastFinished(model: string): Promise<LoopRun | undefined>;
}

/** Samples matching a loop run's recent window. */
export interface RecentWindow {
  model: string;
  /** undefined: every device. */
  devices: string[] | undefined;
  from: number;
  to: number;
  /** Versions whose samples are left out (being rolled back). */
  excludeVersions: number[];
}

export type LoopDatasetOutcome =
  | { ok: true; datasetId: string; recent: number; replayed: number; total: number }
  | { ok: false; have: number; need: number };

export interface LoopDataPort {
  countRecent(w: RecentWindow): Promise<number>;
  build(
    w: RecentWindow & {
      minSamples: number;
      maxSamples?: number | undefined;
      replayShare: number;
      parentDatasetId: string | null;
      name: string;
      description: string;
    },
  ): Promise<LoopDatasetOutcome>;
  /**
   * Asks the devices to keep every Nth input and upload it for `forMs` (of wall time: devices
   * compare the window with their own clocks); how many were asked.
   */
  openCapture(q: { model: string; devices: string[] | undefined; everyN: number; forMs: number }): Promise<number>;
  /** Samples with a reference value stored since `since` (the data trigger). */
  newSamplesSince(model: string, since: number): Promise<number>;
}

export interface LoopGatePort {
  evaluate(a: {
    champion: ModelVersionRecord;
    run: TrainingRunRecord;
    datasetId: string;
    gate: LoopPolicy['gate'];
    signal: AbortSignal;
  }): Promise<GateComparison>;
}

export interface LoopDeps {
  runs: LoopRunStore;
  /** The policy in force for a model (API over config), and every model that has one. */
  policy(model: string): Promise<LoopPolicy | undefined>;
  policies(): Promise<LoopPolicy[]>;
  store: FleetStore;
  data: LoopDataPort;
  gate: LoopGatePort;
  training: TrainingService;
  rollouts: RolloutEngine;
  incidents: IncidentTracker;
  events: MonitoringEvents;
  audit: AuditLog;
  log: Logger;
  /** Data time: windows, waits, cool-downs and settling count on it (the simulator passes its own). */
  now: () => number;
  tickMs?: number;
}
