/**
 * @module monitoring/test-support
 * For monitoring tests: monitoring features of a camera over a floor, with the means and
 * spreads measured on the simulator's rendered frames (beige and green floors, 40-240 mm, ±10°),
 * and frame-to-frame correlation as consecutive video frames have it (AR(1), ρ = 0.9), plus the
 * training baseline such frames give.
 */
import { FEATURE_EDGES, histogramOf, type TrainingSummary } from '@edgeloop/protocol';

type Floor = Record<string, { mean: number; std: number }>;

export const FLOORS: Record<'beige' | 'green', Floor> = {
  beige: {
    saturation: { mean: 0.138, std: 0.012 },
    mean_r: { mean: 0.751, std: 0.009 },
    mean_g: { mean: 0.718, std: 0.006 },
    mean_b: { mean: 0.65, std: 0.003 },
    brightness: { mean: 0.72, std: 0.006 },
    contrast: { mean: 0.101, std: 0.009 },
  },
  green: {
    saturation: { mean: 0.189, std: 0.023 },
    mean_r: { mean: 0.608, std: 0.025 },
    mean_g: { mean: 0.65, std: 0.011 },
    mean_b: { mean: 0.558, std: 0.024 },
    brightness: { mean: 0.627, std: 0.017 },
    contrast: { mean: 0.179, std: 0.002 },
  },
};

/** Deterministic uniform (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A camera's frames: call with the floor of the moment, get that frame's features. */
export function camera(seed: number, rho = 0.9): (floor: Floor) => Record<string, number> {
  const random = seeded(seed);
  const gauss = () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const state: Record<string, number> = {};
  const innovation = Math.sqrt(1 - rho * rho);
  return (floor) => {
    const out: Record<string, number> = {};
    for (const [name, { mean, std }] of Object.entries(floor)) {
      state[name] = rho * (state[name] ?? gauss()) + innovation * gauss();
      out[name] = mean + std * state[name];
    }
    return out;
  };
}

/** The baseline a trainer writes for `n` frames of a floor (FEATURE_EDGES, as the trainer's). */
export function baselineOf(floor: Floor, n = 2000, seed = 99): TrainingSummary {
  const frames = Array.from(
    { length: n },
    (
      (cam) => () =>
        cam(floor)
    )(camera(seed, 0)),
  );
  const features: TrainingSummary['features'] = {};
  for (const name of Object.keys(floor))
    features[name] = histogramOf(
      frames.map((f) => f[name]!),
      FEATURE_EDGES[name]!,
    );
  return { count: n, features };
}
