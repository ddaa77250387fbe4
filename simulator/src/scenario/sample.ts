/**
 * @module scenario/sample
 * Per-frame scene parameters for one simulated device: the scenario's phase at time t, the
 * car's parking motion, and a per-frame seed for the camera's noise. A device is reproduced
 * exactly by (scenario, seed): frames depend only on the time asked for, never on how many were
 * drawn before.
 */
import { hashInts } from '../rng.js';
import type { SceneParams } from '../scene/render.js';
import type { PhaseSettings, Range, Scenario } from './load.js';
import { ParkingMotion, type MotionState } from './motion.js';
import type { PhaseSchedule } from './schedule.js';
import { phaseAt } from './timeline.js';

export interface SceneSample {
  /** Seconds since the scenario started. */
  t: number;
  phase: string;
  /** The true bumper-to-wall distance, mm (the ToF sensor adds its noise to this). */
  trueMm: number;
  params: SceneParams;
}

const within = (r: Range, u: number) => r.min + (r.max - r.min) * u;

/** The scene of one frame from a phase's settings, the car's motion state, and a noise seed. */
export function sampleScene(
  settings: PhaseSettings,
  motion: MotionState,
  seed: number,
  size: { width?: number; height?: number } = {},
): SceneParams {
  const w = motion.traits;
  const width = size.width ?? 160;
  return {
    distanceMm: within(settings.distance, motion.position),
    angleDeg: w.angleSign * within(settings.angle, w.angle),
    lateralMm: w.lateralMm,
    floor: { rgb: settings.floor.rgb, texture: settings.floor.texture, textureSeed: settings.floor.textureSeed },
    wallRgb: settings.wall,
    lighting: { gain: within(settings.gain, w.gain), offset: within(settings.offset, w.offset) },
    noise: within(settings.noise, w.noise),
    // Blur is declared for a 160-pixel-wide frame; scale it with the frame.
    blur: (within(settings.blur, w.blur) * width) / 160,
    seed,
    width,
    ...(size.height !== undefined ? { height: size.height } : {}),
  };
}

export interface SamplerOptions {
  seed: number;
  /** Keep this phase on for ever (its own settings, no transition) instead of following the timeline. */
  phase?: string;
  /** Follow these on-demand phase switches instead of the timeline (shared by a fleet's devices). */
  schedule?: PhaseSchedule;
  width?: number;
  height?: number;
}

export class SceneSampler {
  private readonly motion: ParkingMotion;
  private readonly only?: PhaseSettings;

  constructor(
    readonly scenario: Scenario,
    private readonly options: SamplerOptions,
  ) {
    this.motion = new ParkingMotion(hashInts(options.seed, 0x6d6f76));
    if (options.phase !== undefined) {
      const phase = scenario.phases.find((p) => p.name === options.phase);
      if (!phase)
        throw new RangeError(
          `scenario "${scenario.name}" has no phase "${options.phase}"; its phases are ${scenario.phases.map((p) => p.name).join(', ')}`,
        );
      this.only = phase.settings;
    }
  }

  at(t: number): SceneSample {
    const { phase, settings } = this.only
      ? { phase: { name: this.options.phase! }, settings: this.only }
      : (this.options.schedule?.at(t) ?? phaseAt(this.scenario, t));
    const motion = this.motion.at(t);
    // The noise seed from the time in ms: the same instant always gets the same grain.
    const params = sampleScene(settings, motion, hashInts(this.options.seed, Math.round(t * 1000)), this.options);
    return { t, phase: phase.name, trueMm: params.distanceMm, params };
  }
}
