/**
 * @module scenario/timeline
 * Which phase is on at time t, and its settings at that moment: during a gradual transition
 * every number (colours, ranges, light, noise, blur) moves linearly from the previous phase's
 * value to the new one; the floor pattern, which cannot be blended, switches halfway.
 */
import type { Rgb } from '../scene/render.js';
import type { Phase, PhaseSettings, Range, Scenario } from './load.js';

export interface PhaseAt {
  phase: Phase;
  settings: PhaseSettings;
  /** 0..1 through the blend-in, 1 once the phase is fully on. */
  blend: number;
}

export function phaseAt(scenario: Scenario, t: number): PhaseAt {
  const phases = scenario.phases;
  let i = phases.findIndex((p) => t < p.end);
  if (i < 0) i = phases.length - 1; // after the end the last phase stays on
  const phase = phases[i]!;
  const previous = phases[i - 1];
  if (!previous || phase.blendSeconds === 0) return { phase, settings: phase.settings, blend: 1 };
  const w = Math.min(1, Math.max(0, (t - phase.start) / phase.blendSeconds));
  if (w >= 1) return { phase, settings: phase.settings, blend: 1 };
  return { phase, settings: blendSettings(previous.settings, phase.settings, w), blend: w };
}

const lerp = (a: number, b: number, w: number) => a + (b - a) * w;
const lerpRange = (a: Range, b: Range, w: number): Range => ({
  min: lerp(a.min, b.min, w),
  max: lerp(a.max, b.max, w),
});
const lerpRgb = (a: Rgb, b: Rgb, w: number): Rgb => [
  Math.round(lerp(a[0], b[0], w)),
  Math.round(lerp(a[1], b[1], w)),
  Math.round(lerp(a[2], b[2], w)),
];

export function blendSettings(a: PhaseSettings, b: PhaseSettings, w: number): PhaseSettings {
  const pattern = w < 0.5 ? a.floor : b.floor;
  return {
    distance: lerpRange(a.distance, b.distance, w),
    angle: lerpRange(a.angle, b.angle, w),
    floor: { rgb: lerpRgb(a.floor.rgb, b.floor.rgb, w), texture: pattern.texture, textureSeed: pattern.textureSeed },
    wall: lerpRgb(a.wall, b.wall, w),
    gain: lerpRange(a.gain, b.gain, w),
    offset: lerpRange(a.offset, b.offset, w),
    noise: lerpRange(a.noise, b.noise, w),
    blur: lerpRange(a.blur, b.blur, w),
  };
}
