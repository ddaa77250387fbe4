/**
 * @module rollouts/live-error
 * Live error and drift per arm of a rollout, from the devices' rollups (rollups/live-error.ts,
 * the same sums `edgeloop live-error` reads). Each device contributes its own slice of device
 * time; its rollup windows are ten minutes and count whole when they overlap the slice.
 *
 * - candidate arm: the candidate version's rollups (shadow role for a shadow rollout) on rollout
 *   devices given the candidate, from max(given, judgedSince) — a resume starts a fresh judgement.
 * - baseline arm (serve rollouts): each device's previous version, on devices given the candidate
 *   over `lookbackMs` before their switch, plus devices not yet given it since the rollout began.
 * - baseline arm (shadow): the serving version on the same devices over the same slice, since
 *   there both run side by side on the same inputs.
 *
 * Rollups are per version, so a window straddling a device's switch holds only the arm's own
 * version's records: the ten-minute granularity only blurs judgedSince (up to one window of the
 * candidate's records from before a resume still count) and the baseline's lookback start.
 *
 * Drift is the PSI of the candidate's output histogram against the baseline's, each baseline
 * version's counts moved onto the candidate's output edges first.
 */
import { psi, type ErrorArm } from '@edgeloop/protocol';
import type { FleetStore } from '../store/fleet-store.js';
import { binSpecs, errorOfVersions, rebin, sumDeviceSlices, type DeviceSlice } from '../rollups/live-error.js';
import type { RolloutDevice } from './rollout-store.js';

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

export interface ArmReadings {
  candidate: ErrorArm;
  baseline: ErrorArm;
  /** PSI of the arms' outputs, and how many outputs each arm has. */
  drift: { psi: number | null; candidate: number; baseline: number };
}

type ArmDevice = Pick<RolloutDevice, 'deviceId' | 'state' | 'assignedAt' | 'previousVersion'>;

/** The device slices of each arm (see the module comment). */
export function armSlices(
  q: ArmQuery,
  devs: readonly ArmDevice[],
): { candidate: DeviceSlice[]; baseline: DeviceSlice[] } {
  const candidate: DeviceSlice[] = [];
  const baseline: DeviceSlice[] = [];
  for (const d of devs) {
    if (d.assignedAt !== null) {
      const from = Math.max(d.assignedAt, q.judgedSince);
      candidate.push({ deviceId: d.deviceId, version: q.candidate, role: q.shadow ? 'shadow' : 'serving', from });
      if (d.previousVersion !== null)
        baseline.push(
          q.shadow
            ? { deviceId: d.deviceId, version: d.previousVersion, role: 'serving', from }
            : {
                deviceId: d.deviceId,
                version: d.previousVersion,
                role: 'serving',
                from: d.assignedAt - q.lookbackMs,
                to: d.assignedAt,
              },
        );
    } else if (!q.shadow && d.state === 'pending' && d.previousVersion !== null)
      baseline.push({ deviceId: d.deviceId, version: d.previousVersion, role: 'serving', from: q.createdAt });
  }
  return { candidate, baseline };
}

export class LiveErrorQueries {
  constructor(private readonly store: Pick<FleetStore, 'rollups' | 'models'>) {}

  async arms(q: ArmQuery, devs: readonly ArmDevice[]): Promise<ArmReadings> {
    const slices = armSlices(q, devs);
    const [c, b] = await Promise.all([
      sumDeviceSlices(this.store.rollups, q.model, slices.candidate),
      sumDeviceSlices(this.store.rollups, q.model, slices.baseline),
    ]);
    const ce = errorOfVersions(c);
    const be = errorOfVersions(b);

    const specs = await binSpecs(this.store.models, q.model, [q.candidate, ...b.keys()]);
    const edges = specs.get(q.candidate)!.output;
    const live = rebin(c.get(q.candidate)?.output.bins ?? {}, edges, edges);
    const reference = new Array<number>(edges.length - 1).fill(0);
    let baselineOutputs = 0;
    for (const [version, r] of b) {
      rebin(r.output.bins, specs.get(version)!.output, edges).forEach((n, i) => (reference[i]! += n));
      baselineOutputs += r.output.n;
    }
    const candidateOutputs = c.get(q.candidate)?.output.n ?? 0;
    return {
      candidate: { version: q.candidate, records: ce.n, mae: ce.mae },
      baseline: { version: q.baselineVersion, records: be.n, mae: be.mae },
      drift: { psi: psi(reference, live), candidate: candidateOutputs, baseline: baselineOutputs },
    };
  }
}
