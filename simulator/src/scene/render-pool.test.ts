import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFrame, type SceneParams } from './render.js';
import { RenderPool } from './render-pool.js';

const scene = (i: number): SceneParams => ({
  distanceMm: 20 + i * 30,
  angleDeg: i % 2 ? 10 : 0,
  floor: { rgb: [214, 196, 160], texture: 'tiles' },
  noise: 3,
  blur: i % 3,
  seed: i,
});

test('frames from the render threads are byte for byte those of renderFrame', async (t) => {
  const pool = new RenderPool(2);
  t.after(() => pool.close());
  const frames = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.renderFrame(scene(i))));
  for (const [i, frame] of frames.entries()) assert.deepEqual(frame, await renderFrame(scene(i)));
});

test('bad parameters are refused through the pool as they are directly; a closed pool refuses work', async () => {
  const pool = new RenderPool(1);
  await assert.rejects(pool.renderFrame({ ...scene(0), distanceMm: -5 }), /distanceMm must be 0\.\.5000, got -5/);
  await pool.close();
  await assert.rejects(pool.renderFrame(scene(0)), /closed/);
  assert.throws(() => new RenderPool(0), /render threads must be 1 to 16/);
});
