/**
 * @module demo/sensor-scene
 * Camera frames for the simulated devices: the simulator's garage wall seen from a parking car
 * (the baseline phase the sample models were trained on), at distances across its 0–250 mm
 * range, the car creeping back and forth with per-device offsets. Frames are rendered once up
 * front so the demo spends its CPU on the agents, not on rendering and JPEG encoding.
 */
import { loadScenario, renderFrame } from '@edgeloop/simulator';

export const FRAME_LEVELS = 24;

const mid = (r: { min: number; max: number }) => (r.min + r.max) / 2;

export async function encodeFrames(): Promise<Buffer[]> {
  const settings = loadScenario('baseline').phases[0]!.settings;
  const frames: Buffer[] = [];
  for (let i = 0; i < FRAME_LEVELS; i++) {
    const u = i / (FRAME_LEVELS - 1);
    frames.push(
      await renderFrame({
        distanceMm: settings.distance.min + u * (settings.distance.max - settings.distance.min),
        angleDeg: mid(settings.angle),
        floor: settings.floor,
        wallRgb: settings.wall,
        lighting: { gain: mid(settings.gain), offset: mid(settings.offset) },
        noise: mid(settings.noise),
        blur: mid(settings.blur),
        seed: i + 1,
      }),
    );
  }
  return frames;
}

/** Which frame device `index` sees at time t (seconds). */
export function frameAt(index: number, t: number): number {
  const phase = (Math.sin(t / 6 + index * 1.7) + 1) / 2;
  return Math.min(FRAME_LEVELS - 1, Math.floor(phase * FRAME_LEVELS));
}
