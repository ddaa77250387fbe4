/**
 * @module rollouts/live-error
 * Live error per arm of a rollout, straight from the telemetry table: mean absolute error of
 * prediction vs reference over records that have both (late reference values count as soon as
 * they arrive). Times are the server's receive times, so device clocks do not matter.
 *
 * - candidate arm: the candidate version's records on rollout devices, received after the device
 *   was given the candidate and after `judgedSince` (a resume starts a fresh judgement).
 * - baseline arm (serve rollouts): each device's previous version, on devices given the candidate
 *   during `lookbackMs` before their switch, plus devices not yet given it since the rollout began.
 * - baseline arm (shadow): the serving version on the same devices over the same window, since
 *   there both run side by side on the same inputs. Shadow records (telemetry.shadow = 1) only
 *   ever count for a shadow rollout's candidate arm.
 */
import type { ErrorArm } from '@edgeloop/protocol';
import type { TelemetryRepository } from '../store/fleet-store.js';

export interface ArmQuery {
  rolloutId: string;
  model: string;
  candidate: number;
  baselineVersion: number | null;
  createdAt: number;
  judgedSince: number;
  lookbackMs: number;
  shadow: boolean;
}

export class LiveErrorQueries {
  constructor(private readonly telemetry: TelemetryRepository) {}

  async arms(q: ArmQuery): Promise<{ candidate: ErrorArm; baseline: ErrorArm }> {
    const [c, b] = await Promise.all([
      this.telemetry.rolloutArm({ ...q, arm: 'candidate' }),
      this.telemetry.rolloutArm({ ...q, arm: 'baseline' }),
    ]);
    return {
      candidate: { version: q.candidate, records: c.records, mae: c.mae },
      baseline: { version: q.baselineVersion, records: b.records, mae: b.mae },
    };
  }

  /** The newest predictions of each arm (not only reference-joined ones), for drift. */
  async predictions(q: ArmQuery, limit = 5000): Promise<{ candidate: number[]; baseline: number[] }> {
    const [candidate, baseline] = await Promise.all([
      this.telemetry.rolloutArmPredictions({ ...q, arm: 'candidate' }, limit),
      this.telemetry.rolloutArmPredictions({ ...q, arm: 'baseline' }, limit),
    ]);
    return { candidate, baseline };
  }
}
