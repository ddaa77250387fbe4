/**
 * @module sensor/tof
 * The simulated VL53L0X time-of-flight sensor behind the bumper: what a device records as the
 * reference value. The noise model (simulator/README.md states it for users):
 *
 *   reading = round(true + σ(d)·N(0,1)),  σ(d) = 1.5 mm + 1 % of d       (≈ 4 mm at 250 mm)
 *   with probability p(angle) an outlier instead: uniform in [0, 2·d + 100] mm,
 *   p = 0.2 % + 0.3 % · (|angle| / 30°)                                    (0.5 % at 30°)
 *   readings are whole millimetres, never negative.
 *
 * The datasheet gives a few percent ranging accuracy indoors; the origin measured its 6.85 mm
 * MAE against such readings. Every error the simulator reports is against this noisy value, so
 * no model can look better than the sensor lets it.
 */
import { gaussian, type Rng } from '../rng.js';

export const TOF_SIGMA_BASE_MM = 1.5;
export const TOF_SIGMA_FRACTION = 0.01;
export const TOF_OUTLIER_BASE = 0.002;
export const TOF_OUTLIER_AT_30_DEG = 0.005;

export interface TofConditions {
  /** The wall's angle to the sensor, degrees: angled surfaces return fewer photons. */
  angleDeg?: number;
}

/** σ of the reading at this true distance, mm. */
export function tofSigma(trueMm: number): number {
  return TOF_SIGMA_BASE_MM + TOF_SIGMA_FRACTION * Math.max(0, trueMm);
}

export function tofOutlierRate(angleDeg = 0): number {
  const a = Math.min(1, Math.abs(angleDeg) / 30);
  return TOF_OUTLIER_BASE + (TOF_OUTLIER_AT_30_DEG - TOF_OUTLIER_BASE) * a;
}

/** One reading, in whole mm. Always draws 4 values from `rng`, outlier or not, so streams stay aligned. */
export function reading(trueMm: number, rng: Rng, conditions: TofConditions = {}): number {
  const outlier = rng() < tofOutlierRate(conditions.angleDeg);
  const spurious = rng() * (2 * Math.max(0, trueMm) + 100);
  const noisy = trueMm + tofSigma(trueMm) * gaussian(rng);
  return Math.max(0, Math.round(outlier ? spurious : noisy));
}
