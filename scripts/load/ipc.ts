/**
 * @module load/ipc
 * Messages between the orchestrator and its device worker processes (child_process IPC).
 */
import type { SparseCounts } from './histogram.js';
import type { DeviceBehaviour } from './options.js';

export interface DeviceCredentials {
  id: string;
  password: string;
  /** Position in the whole fleet: picks the source address and seeds the record generator. */
  index: number;
}

export type ToWorker =
  | {
      type: 'start';
      mqttUrl: string;
      devices: DeviceCredentials[];
      behaviour: DeviceBehaviour;
      connectConcurrency: number;
    }
  /** Stop making records; keep sending until everything made is acknowledged. */
  | { type: 'stop-making' }
  | { type: 'shutdown' };

export interface WorkerCounters {
  online: number;
  /** Records made, acknowledged as stored, acknowledged as rejected. */
  made: number;
  acked: number;
  rejected: number;
  /** Records sent; of those, sent again (after an ack timeout or a reconnect). */
  sent: number;
  resent: number;
  batches: number;
  ackTimeouts: number;
  connects: number;
  connectFailures: number;
  disconnects: number;
  /** Records made and not yet acknowledged. */
  pending: number;
  /** Creation time of the oldest unacknowledged record, or null when none is waiting. */
  oldestPendingTs: number | null;
}

export type FromWorker =
  /** Loaded and listening; the run's clock starts when every worker is. */
  | { type: 'ready' }
  | ({ type: 'stats'; ackMs: SparseCounts; lagMs: SparseCounts; connectMs: SparseCounts } & WorkerCounters)
  | { type: 'final'; made: Array<[deviceId: string, made: number]> }
  | { type: 'error'; message: string };
