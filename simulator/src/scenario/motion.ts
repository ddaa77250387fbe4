/**
 * @module scenario/motion
 * How the simulated car moves: parking runs, not white noise. Each run backs in from near the
 * far end of the phase's range to a stop just short of the wall (slow at both ends, like a
 * driver), waits a moment, and pulls away again. About 25 frames per approach at 4 frames/s, as
 * in the origin's recordings.
 *
 * Position is a fraction of the phase's range (0: the near end, 1: the far end), so a phase that
 * widens the range (label shift) stretches the same motion. Each run also fixes what a driver
 * would keep for a whole manoeuvre: the approach angle, the sideways offset and the light.
 * Runs are drawn from a seed, lazily, and kept, so any time can be asked for in any order.
 */
import { hashInts, mulberry32, uniform } from '../rng.js';

/** What stays fixed during one parking run, as fractions of the phase's ranges. */
export interface RunTraits {
  /** 0..1 within the angle range, and the side the car is turned to. */
  angle: number;
  angleSign: 1 | -1;
  /** Sideways offset, mm. */
  lateralMm: number;
  gain: number;
  offset: number;
  noise: number;
  blur: number;
}

interface Run {
  start: number;
  /** Ends of the segments: approach, dwell, depart. */
  approachEnd: number;
  dwellEnd: number;
  end: number;
  from: number;
  stop: number;
  to: number;
  traits: RunTraits;
}

export interface MotionState {
  /** 0..1 within the phase's distance range. */
  position: number;
  traits: RunTraits;
  /** Which parking run (0, 1, …). */
  run: number;
}

/** Seconds for an approach; at 4 frames/s about 16–32 frames (the origin averaged ~25). */
const APPROACH_S = [4, 8] as const;
const DWELL_S = [0.25, 1.5] as const;
const DEPART_S = [2, 4] as const;

/** A travel profile slow at both ends: speed 1 − a·cos(2πτ), normalised. */
function travel(tau: number): number {
  const a = 0.6;
  return tau - (a * Math.sin(2 * Math.PI * tau)) / (2 * Math.PI);
}

export class ParkingMotion {
  private readonly runs: Run[] = [];

  constructor(private readonly seed: number) {}

  at(t: number): MotionState {
    if (!(t >= 0)) throw new RangeError(`time must be ≥ 0 s, got ${t}`);
    while (this.runs.length === 0 || this.runs.at(-1)!.end <= t) this.extend();
    // Binary search: runs are contiguous and sorted by start.
    let lo = 0,
      hi = this.runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.runs[mid]!.start <= t) lo = mid;
      else hi = mid - 1;
    }
    const r = this.runs[lo]!;
    let position: number;
    if (t < r.approachEnd) position = r.from + (r.stop - r.from) * travel((t - r.start) / (r.approachEnd - r.start));
    else if (t < r.dwellEnd) position = r.stop;
    else position = r.stop + (r.to - r.stop) * travel((t - r.dwellEnd) / (r.end - r.dwellEnd));
    return { position, traits: r.traits, run: lo };
  }

  private extend(): void {
    const index = this.runs.length;
    const prev = this.runs.at(-1);
    // Each run from its own stream: how many draws one run makes never shifts the next.
    const rng = mulberry32(hashInts(this.seed, index));
    const start = prev?.end ?? 0;
    const from = prev?.to ?? uniform(rng, 0.85, 1);
    const approachEnd = start + uniform(rng, ...APPROACH_S);
    const dwellEnd = approachEnd + uniform(rng, ...DWELL_S);
    const end = dwellEnd + uniform(rng, ...DEPART_S);
    this.runs.push({
      start,
      approachEnd,
      dwellEnd,
      end,
      from,
      stop: uniform(rng, 0, 0.05),
      to: uniform(rng, 0.85, 1),
      traits: {
        angle: rng(),
        angleSign: rng() < 0.5 ? -1 : 1,
        lateralMm: uniform(rng, -150, 150),
        gain: rng(),
        offset: rng(),
        noise: rng(),
        blur: rng(),
      },
    });
  }
}
