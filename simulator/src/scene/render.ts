/**
 * @module scene/render
 * The rear camera's frame: floor, and the wall behind the car at distance d, drawn with a pinhole
 * camera into a raw RGB buffer, then JPEG-encoded by sharp.
 *
 * Geometry (millimetres): the camera sits CAMERA_HEIGHT above the floor, CAMERA_SETBACK behind
 * the bumper (the ToF sensor's zero), looking straight back. The wall stands at depth
 * CAMERA_SETBACK + d on the optical axis, rotated about the vertical by the approach angle. The
 * wall's base then lies at row y0 + f·h / depth: the closer the wall, the lower its base and the
 * more of the frame it fills, strictly monotonic in d. The skirting board's height in pixels and
 * the size of the floor pattern encode d a second and third way. Edges are drawn with fractional
 * coverage, so sub-pixel changes in d still change pixel values (a model can read d finer than
 * one row).
 *
 * Order of effects, as in a camera: scene → lens vignette → exposure (gain, offset) → optical
 * blur → sensor noise → 8-bit quantisation. Everything is a function of the params, so the same
 * params give the same bytes.
 */
import sharp from 'sharp';
import { mulberry32 } from '../rng.js';
import { floorShade, wallShade, type FloorTexture } from './texture.js';

export type Rgb = readonly [number, number, number];

/** Camera height above the floor, mm. */
export const CAMERA_HEIGHT = 100;
/** Camera to bumper (the distance sensor's zero point), mm. */
export const CAMERA_SETBACK = 150;
/** Height of the wall's skirting board, mm. */
export const SKIRTING_HEIGHT = 40;
/** Focal length as a fraction of the frame width (~69° horizontal field of view). */
const FOCAL = 0.73;
/** The horizon's row as a fraction of the frame height (the camera is tilted slightly down). */
const HORIZON = 0.3;

export const DEFAULT_WALL: Rgb = [226, 222, 212];
const SKIRTING: Rgb = [150, 142, 132];

export interface SceneParams {
  /** Bumper to wall along the camera axis, mm (what the ToF sensor measures, before its noise). */
  distanceMm: number;
  /** Approach angle: the wall's rotation about the vertical, degrees (|angle| ≤ 45). */
  angleDeg?: number;
  /** Sideways offset of the car, mm: moves the floor pattern, not the wall. */
  lateralMm?: number;
  floor: { rgb: Rgb; texture: FloorTexture; textureSeed?: number };
  wallRgb?: Rgb;
  /** Exposure: value × gain + offset, on 0..255 levels. */
  lighting?: { gain: number; offset: number };
  /** Sensor noise: standard deviation in 8-bit levels, per channel and pixel. */
  noise?: number;
  /** Optical blur: box radius in pixels of the rendered frame (0: sharp). */
  blur?: number;
  /** Seeds the sensor noise. */
  seed: number;
  width?: number;
  height?: number;
}

export interface RawFrame {
  /** Interleaved 8-bit RGB, width × height × 3. */
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

export const DEFAULT_WIDTH = 160;
export const DEFAULT_HEIGHT = 120;
export const JPEG_QUALITY = 85;

/** 4096 standard normals from a fixed seed: noise by table lookup is ~10× cheaper than Box–Muller. */
const NORMALS = (() => {
  const rng = mulberry32(0x6e6f6973);
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const a = 2 * Math.PI * rng();
    table[i] = r * Math.cos(a);
    table[i + 1] = r * Math.sin(a);
  }
  return table;
})();

export function checkSceneParams(p: SceneParams): void {
  const problems: string[] = [];
  if (!Number.isFinite(p.distanceMm) || p.distanceMm < 0 || p.distanceMm > 5000)
    problems.push(`distanceMm must be 0..5000, got ${p.distanceMm}`);
  if (p.angleDeg !== undefined && !(Math.abs(p.angleDeg) <= 45))
    problems.push(`angleDeg must be -45..45, got ${p.angleDeg}`);
  const w = p.width ?? DEFAULT_WIDTH,
    h = p.height ?? DEFAULT_HEIGHT;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 16 || h < 12 || w > 1920 || h > 1440)
    problems.push(`frame size must be whole pixels from 16×12 to 1920×1440, got ${w}×${h}`);
  if (p.noise !== undefined && !(p.noise >= 0 && p.noise <= 64)) problems.push(`noise must be 0..64, got ${p.noise}`);
  if (p.blur !== undefined && !(p.blur >= 0 && p.blur <= 16)) problems.push(`blur must be 0..16, got ${p.blur}`);
  if (problems.length) throw new RangeError(`bad scene parameters: ${problems.join('; ')}`);
}

/** Renders the frame as raw RGB (no encoding: for benchmarks and in-process feature checks). */
export function renderRaw(p: SceneParams): RawFrame {
  checkSceneParams(p);
  const width = p.width ?? DEFAULT_WIDTH;
  const height = p.height ?? DEFAULT_HEIGHT;
  const f = FOCAL * width;
  const cx = width / 2;
  const y0 = HORIZON * height;
  const h = CAMERA_HEIGHT;
  const theta = ((p.angleDeg ?? 0) * Math.PI) / 180;
  const tan = Math.tan(theta),
    cos = Math.cos(theta),
    sin = Math.sin(theta);
  const depth = CAMERA_SETBACK + p.distanceMm;
  const lateral = p.lateralMm ?? 0;
  const texSeed = (p.floor.textureSeed ?? 1) | 0;
  const [fr, fg, fb] = p.floor.rgb;
  const [wr, wg, wb] = p.wallRgb ?? DEFAULT_WALL;
  const [sr, sg, sb] = SKIRTING;
  const gain = p.lighting?.gain ?? 1;
  const offset = p.lighting?.offset ?? 0;

  // Per column: where the wall's base and the skirting's top fall, and the wall's depth.
  const colZ = new Float64Array(width);
  const colBase = new Float64Array(width);
  const colSkirt = new Float64Array(width);
  const colXn = new Float64Array(width);
  const colXWall = new Float64Array(width);
  for (let u = 0; u < width; u++) {
    const xn = (u + 0.5 - cx) / f;
    // The wall's depth along this column's ray; a wall turned away from a ray is never reached
    // within the field of view for |angle| ≤ 45° and this focal length.
    const zWall = depth / Math.max(1 - xn * tan, 0.05);
    colXn[u] = xn;
    colZ[u] = zWall;
    colBase[u] = y0 + (f * h) / zWall;
    colSkirt[u] = y0 + (f * (h - SKIRTING_HEIGHT)) / zWall;
    colXWall[u] = (xn * zWall) / cos;
  }

  const img = new Float32Array(width * height * 3);
  const rmax2 = cx * cx + (height / 2) * (height / 2);
  for (let v = 0, i = 0; v < height; v++) {
    const dy = v + 0.5 - height / 2;
    for (let u = 0; u < width; u++, i += 3) {
      const zWall = colZ[u]!,
        base = colBase[u]!,
        skirtTop = colSkirt[u]!;
      const wallCover = Math.min(1, Math.max(0, base - v));
      const skirtCover = Math.min(1, Math.max(0, Math.min(base, v + 1) - Math.max(skirtTop, v)));
      const plainCover = wallCover - skirtCover;
      const floorCover = 1 - wallCover;
      let r = 0,
        g = 0,
        b = 0;
      if (plainCover > 0) {
        const row = Math.min(v + 0.5, skirtTop);
        const above = h - ((row - y0) * zWall) / f;
        const s = wallShade(colXWall[u]!, above, texSeed) * plainCover;
        r += wr * s;
        g += wg * s;
        b += wb * s;
      }
      if (skirtCover > 0) {
        r += sr * skirtCover;
        g += sg * skirtCover;
        b += sb * skirtCover;
      }
      if (floorCover > 0) {
        const row = Math.max(v + 0.5, base);
        const z = (f * h) / (row - y0);
        const x = colXn[u]! * z;
        // Floor coordinates in the room: measured from the wall's base, turned with the wall.
        const along = (depth - z) * sin + x * cos + lateral;
        const away = (depth - z) * cos - x * sin;
        let s = floorShade(p.floor.texture, along, away, texSeed);
        // The wall shades the floor right in front of it.
        const gap = zWall - z;
        if (gap < 60) s *= 1 - 0.22 * Math.exp(-gap / 18);
        s *= floorCover;
        r += fr * s;
        g += fg * s;
        b += fb * s;
      }
      // Lens vignette and exposure. fround: the scene value as a 32-bit float, as it is stored.
      const dx = u + 0.5 - cx;
      const k = (1 - (0.22 * (dx * dx + dy * dy)) / rmax2) * gain;
      img[i] = Math.fround(r) * k + offset;
      img[i + 1] = Math.fround(g) * k + offset;
      img[i + 2] = Math.fround(b) * k + offset;
    }
  }

  const radius = Math.round(p.blur ?? 0);
  if (radius > 0) boxBlur(img, width, height, radius);

  const out = Buffer.allocUnsafe(width * height * 3);
  const sigma = p.noise ?? 0;
  const rng = mulberry32(p.seed);
  for (let i = 0; i < out.length; i++) {
    const n = sigma > 0 ? sigma * NORMALS[(rng() * 4096) | 0]! : 0;
    const value = Math.round(img[i]! + n);
    out[i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
  return { data: out, width, height, channels: 3 };
}

/** The frame as a JPEG, as a camera module would hand it to the agent. */
export async function renderFrame(p: SceneParams, quality: number = JPEG_QUALITY): Promise<Buffer> {
  return encodeJpeg(renderRaw(p), quality);
}

export function encodeJpeg(frame: RawFrame, quality: number = JPEG_QUALITY): Promise<Buffer> {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** In-place separable box blur with clamped edges. */
function boxBlur(img: Float32Array, width: number, height: number, radius: number): void {
  const line = new Float32Array(Math.max(width, height) * 3);
  const pass = (count: number, length: number, index: (line: number, k: number) => number) => {
    const n = 2 * radius + 1;
    for (let l = 0; l < count; l++) {
      for (let k = 0; k < length; k++) {
        const i = index(l, k);
        line[k * 3] = img[i]!;
        line[k * 3 + 1] = img[i + 1]!;
        line[k * 3 + 2] = img[i + 2]!;
      }
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) sum += line[Math.min(length - 1, Math.max(0, k)) * 3 + c]!;
        for (let k = 0; k < length; k++) {
          img[index(l, k) + c] = sum / n;
          sum += line[Math.min(length - 1, k + radius + 1) * 3 + c]! - line[Math.max(0, k - radius) * 3 + c]!;
        }
      }
    }
  };
  pass(height, width, (row, k) => (row * width + k) * 3);
  pass(width, height, (col, k) => (k * width + col) * 3);
}
