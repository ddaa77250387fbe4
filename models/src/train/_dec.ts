import sharp from 'sharp';
import { readDataset } from './dataset-reader.js';
import { decodeImage } from './preprocess.js';
const ds = await readDataset('/tmp/train-oIlB/sim2000');
const items = ds.items.slice(0, 600);
for (const [vips, conc] of [[0, 8], [1, 8], [1, 2], [1, 4], [0, 2]] as const) {
  if (vips) sharp.concurrency(vips); else sharp.concurrency(2);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (next < items.length) await decodeImage(items[next++]!.bytes); }));
  console.log({ vips: sharp.concurrency(), conc, ms: Math.round(performance.now() - t0) });
}
