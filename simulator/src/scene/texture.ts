/**
 * @module scene/texture
 * Procedural surface patterns in world millimetres: the floor seen by the rear camera (plain,
 * carpet-like noise, tiles, planks) and the wall's faint plaster grain. Patterns are fixed in the
 * world, so they slide and shrink in the frame as the car moves, the way a real floor does. All
 * return a brightness factor around 1 and are pure functions of position and seed.
 */

export const FLOOR_TEXTURES = ['plain', 'noise', 'tiles', 'planks'] as const;
export type FloorTexture = (typeof FLOOR_TEXTURES)[number];

/** A lattice hash in [0, 1): the corner values of value noise. Inlined integer maths for speed. */
function lattice(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1) with features about one unit apart. */
export function valueNoise(x: number, y: number, seed: number): number {
  const ix = Math.floor(x),
    iy = Math.floor(y);
  const fx = x - ix,
    fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx),
    sy = fy * fy * (3 - 2 * fy);
  const a = lattice(ix, iy, seed),
    b = lattice(ix + 1, iy, seed),
    c = lattice(ix, iy + 1, seed),
    d = lattice(ix + 1, iy + 1, seed);
  const top = a + (b - a) * sx;
  const bottom = c + (d - c) * sx;
  return top + (bottom - top) * sy;
}

const TILE_MM = 100;
const GROUT_MM = 5;
const PLANK_MM = 90;

/** Brightness factor of the floor at world point (x, z) mm (z: distance from the wall). */
export function floorShade(texture: FloorTexture, x: number, z: number, seed: number): number {
  switch (texture) {
    case 'plain':
      // Large, faint blotches: a painted or vinyl floor under uneven light.
      return 0.96 + 0.08 * valueNoise(x / 300, z / 300, seed);
    case 'noise':
      // Carpet or concrete: two octaves of grain.
      return 0.8 + 0.25 * valueNoise(x / 40, z / 40, seed) + 0.12 * valueNoise(x / 11, z / 11, seed ^ 0x5bd1e995);
    case 'tiles': {
      const tx = Math.floor(x / TILE_MM),
        tz = Math.floor(z / TILE_MM);
      const gx = x - tx * TILE_MM,
        gz = z - tz * TILE_MM;
      if (gx < GROUT_MM || gz < GROUT_MM) return 0.62;
      return 0.93 + 0.1 * lattice(tx, tz, seed) + 0.04 * valueNoise(x / 25, z / 25, seed);
    }
    case 'planks': {
      const p = Math.floor(x / PLANK_MM);
      const gap = x - p * PLANK_MM < 3 ? 0.7 : 1;
      const grain = 0.06 * valueNoise(x / 6, z / 140, seed ^ p);
      return gap * (0.86 + 0.14 * lattice(p, 7, seed) + grain);
    }
  }
}

/** Brightness factor of the wall's plaster at along-wall x and height y (mm). */
export function wallShade(x: number, y: number, seed: number): number {
  return 0.95 + 0.07 * valueNoise(x / 22, y / 22, seed ^ 0x68e31da4);
}
