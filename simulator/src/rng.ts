/**
 * @module rng
 * Seeded randomness for the simulator. Everything random (motion, lighting, pixel noise, sensor
 * noise) comes from these generators, so a run is reproduced exactly from its seed. mulberry32
 * uses integer maths only, so its sequence is the same on every platform and Node version.
 */

/** A generator of floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: a tiny, well-known 32-bit PRNG. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit hash of integers (murmur3's finaliser over each): derives independent seeds for
 * sub-streams (a device, a frame, a parking run) so one stream's length never shifts another's.
 */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h ^= Math.imul((v | 0) ^ ((v / 4294967296) | 0), 0xcc9e2d51);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A standard normal sample (Box–Muller; uses two draws, discards the second value). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log never sees 0
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A uniform sample in [min, max]. */
export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}
