/**
 * @module demo/sensor-scene
 * Generated camera frames for the simulated devices: a wall seen from a parking car, whose
 * brightness drifts slowly (the car moving) with per-device offsets. Frames are encoded once
 * up front so the demo spends its CPU on the agents, not on JPEG encoding.
 */
import sharp from 'sharp';

export const FRAME_LEVELS = 24;

export async function encodeFrames(): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  for (let i = 0; i < FRAME_LEVELS; i++) {
    const v = Math.round(40 + (i / (FRAME_LEVELS - 1)) * 180);
    frames.push(
      await sharp({
        create: {
          width: 320,
          height: 240,
          channels: 3,
          background: { r: v, g: Math.round(v * 0.95), b: Math.round(v * 0.85) },
        },
      })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
  }
  return frames;
}

/** Which frame device `index` sees at time t (seconds). */
export function frameAt(index: number, t: number): number {
  const phase = (Math.sin(t / 6 + index * 1.7) + 1) / 2;
  return Math.min(FRAME_LEVELS - 1, Math.floor(phase * FRAME_LEVELS));
}
