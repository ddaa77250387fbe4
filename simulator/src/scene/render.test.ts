import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { renderFrame, renderRaw, type SceneParams } from './render.js';

const beige = { rgb: [214, 196, 160] as const, texture: 'noise' as const };
const scene = (over: Partial<SceneParams> = {}): SceneParams => ({
  distanceMm: 120,
  floor: beige,
  noise: 3,
  seed: 7,
  ...over,
});

/** How much of the frame is floor: beige is far warmer (R − B) than the grey wall. */
function warmth(p: SceneParams): number {
  const { data } = renderRaw(p);
  let sum = 0;
  for (let i = 0; i < data.length; i += 3) sum += data[i]! - data[i + 2]!;
  return sum;
}

test('the same parameters give the same bytes; another noise seed gives other bytes', async () => {
  const a = await renderFrame(scene({ blur: 1, angleDeg: 12 }));
  const b = await renderFrame(scene({ blur: 1, angleDeg: 12 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(renderRaw(scene({ seed: 8 })).data, renderRaw(scene()).data);
  assert.deepEqual(renderRaw(scene()).data, renderRaw(scene()).data);
});

test('renderFrame gives a JPEG of the asked size', async () => {
  const jpeg = await renderFrame(scene({ width: 320, height: 240 }));
  const meta = await sharp(jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 320);
  assert.equal(meta.height, 240);
});

test('the wall fills more of the frame the closer it is, strictly, every 5 mm over 0–350 mm', () => {
  let previous = -Infinity;
  for (let d = 0; d <= 350; d += 5) {
    const w = warmth({ distanceMm: d, floor: { ...beige, texture: 'plain' }, seed: 1, noise: 0 });
    assert.ok(w > previous, `floor share must grow with distance: at ${d} mm ${w} ≤ ${previous}`);
    previous = w;
  }
});

test('the approach angle slants the wall: its base sits lower on the side turned towards the camera', () => {
  const baseRow = (data: Buffer, width: number, height: number, column: number) => {
    for (let v = height - 1; v >= 0; v--) {
      const i = (v * width + column) * 3;
      if (data[i]! - data[i + 2]! < 35) return v; // first non-floor pixel from the bottom
    }
    return -1;
  };
  const p = { distanceMm: 150, floor: { ...beige, texture: 'plain' as const }, seed: 1, noise: 0 };
  const straight = renderRaw(p);
  const angled = renderRaw({ ...p, angleDeg: 25 });
  const rows = (f: typeof straight) => [10, 150].map((c) => baseRow(f.data, f.width, f.height, c));
  const [sl, sr] = rows(straight);
  const [al, ar] = rows(angled);
  assert.equal(sl, sr);
  assert.ok(al! > ar! + 5, `angled base rows ${al} (left) vs ${ar} (right)`);
});

test('lighting, blur and noise change the frame as a camera would', () => {
  const mean = (p: SceneParams) => {
    const d = renderRaw(p).data;
    return d.reduce((s, v) => s + v, 0) / d.length;
  };
  assert.ok(mean(scene({ lighting: { gain: 0.6, offset: 0 } })) < mean(scene()) - 30);
  assert.ok(mean(scene({ lighting: { gain: 1, offset: 20 } })) > mean(scene()) + 15);
  // Blur removes pixel-to-pixel detail (the sensor's noise comes after the lens, so compare without it).
  // Energy of the differences to the pixel below: blur spreads edges, which lowers it.
  const roughness = (p: SceneParams) => {
    const { data, width } = renderRaw(p);
    let s = 0;
    for (let i = width * 3; i < data.length; i++) s += (data[i]! - data[i - width * 3]!) ** 2;
    return s;
  };
  assert.ok(roughness(scene({ blur: 2, noise: 0 })) < roughness(scene({ noise: 0 })) * 0.6);
  assert.ok(roughness(scene({ noise: 10 })) > roughness(scene({ noise: 0 })) * 2);
});

test('bad parameters are refused with what is allowed', () => {
  assert.throws(() => renderRaw(scene({ distanceMm: -1 })), /distanceMm must be 0\.\.5000, got -1/);
  assert.throws(() => renderRaw(scene({ angleDeg: 60 })), /angleDeg must be -45\.\.45/);
  assert.throws(() => renderRaw(scene({ width: 10 })), /frame size must be whole pixels/);
});
