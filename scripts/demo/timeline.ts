/**
 * @module demo/timeline
 * What the report plots, read from the fleet's rollups once the run is over: per serving
 * version, its fleet-wide series of live MAE, the share of reference values beyond the trained
 * range and of predictions outside the trained outputs (saturation), and the frames' mean image
 * saturation (the origin's alert signal); and per phase, the output and reference histograms of
 * the serving version on the drifted world (before) and of the new version (after).
 *
 * Fleet rollups are minute windows and a window counts whole when it overlaps a range, so a
 * "before" histogram may hold up to a minute from just before the onset.
 */
import type { PhaseSwitch } from '@edgeloop/simulator/fleet';
import type { DemoTimeline, FrameBucket, PhaseHistograms, PhaseResult, VersionSeries } from './demo-result.js';
import type { FleetReads } from './fleet-reads.js';

/** The metrics the report plots, per version. */
export const TIMELINE_METRICS = [
  'error.mae',
  'reference.out_of_range',
  'output.out_of_range',
  'feature.saturation.mean',
] as const;

export interface TimelineInput {
  reads: FleetReads;
  phases: readonly PhaseResult[];
  simEpoch: number;
  end: number;
  afterSeconds: number;
  frames: FrameBucket[];
  frameBucketSeconds: number;
  switches: PhaseSwitch[];
}

export async function collectTimeline(i: TimelineInput): Promise<DemoTimeline> {
  const versions = [
    ...new Set(i.phases.flatMap((p) => [p.previousVersion, p.version]).filter((v): v is number => v !== null)),
  ];
  const series: VersionSeries[] = [];
  for (const version of versions)
    for (const metric of TIMELINE_METRICS) {
      try {
        series.push({ metric, version, points: await i.reads.series(version, metric, i.simEpoch, i.end) });
      } catch {
        // A version without a training summary has no out-of-range or saturation baseline: leave it out.
      }
    }
  const histograms: PhaseHistograms[] = [];
  for (const p of i.phases) {
    for (const quantity of ['output', 'reference'] as const) {
      const read = async (version: number | null, from: number | null, to: number | null) =>
        version === null || from === null || to === null || to <= from
          ? null
          : await i.reads.histograms(version, quantity, from, to).catch(() => null);
      const afterFrom = p.activeAt;
      const afterTo = afterFrom === null ? null : Math.min(i.end, afterFrom + i.afterSeconds * 1000);
      histograms.push({
        phase: p.phase,
        quantity,
        before: p.phase === 1 ? null : await read(p.previousVersion, p.onsetAt, p.activeAt ?? i.end),
        after: p.outcome === 'recovered' || p.phase === 1 ? await read(p.version, afterFrom, afterTo) : null,
      });
    }
  }
  return {
    simEpoch: i.simEpoch,
    end: i.end,
    series,
    frames: i.frames,
    frameBucketSeconds: i.frameBucketSeconds,
    histograms,
    switches: i.switches,
  };
}
