/**
 * @module support/wall-frame
 * A camera frame the committed sample models were trained for: the simulator's garage wall in
 * the baseline phase at a given distance, so a test can expect a prediction near that distance.
 */
import { loadScenario, renderFrame } from '@edgeloop/simulator';

const mid = (r: { min: number; max: number }) => (r.min + r.max) / 2;

/** A JPEG of the baseline scene `distanceMm` from the wall (0–250 mm is the samples' range). */
export function wallFrame(distanceMm: number, seed = 1): Promise<Buffer> {
  const settings = loadScenario('baseline').phases[0]!.settings;
  return renderFrame({
    distanceMm,
    angleDeg: mid(settings.angle),
    floor: settings.floor,
    wallRgb: settings.wall,
    lighting: { gain: mid(settings.gain), offset: mid(settings.offset) },
    noise: mid(settings.noise),
    blur: mid(settings.blur),
    seed,
  });
}
