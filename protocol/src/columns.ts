/**
 * @module columns
 * Numeric columns as bytes: little-endian, byte-shuffled (all first bytes of every value, then
 * all second bytes, …). Shuffling puts the slowly changing sign/exponent bytes of neighbouring
 * values next to each other, which is what lets deflate shrink float columns (as Blosc does).
 */

type Kind = 'f32' | 'i32' | 'u32';
const WIDTH = 4;

export function packColumn(values: ArrayLike<number>, kind: Kind): Uint8Array {
  const n = values.length;
  const plain = new DataView(new ArrayBuffer(n * WIDTH));
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (kind === 'f32') plain.setFloat32(i * WIDTH, v, true);
    else if (kind === 'i32') plain.setInt32(i * WIDTH, v, true);
    else plain.setUint32(i * WIDTH, v, true);
  }
  const src = new Uint8Array(plain.buffer);
  const out = new Uint8Array(src.length);
  for (let b = 0; b < WIDTH; b++) for (let i = 0; i < n; i++) out[b * n + i] = src[i * WIDTH + b]!;
  return out;
}

export function unpackColumn(bytes: Uint8Array, kind: Kind, expected: number): number[] {
  if (bytes.length !== expected * WIDTH) throw new Error(`column holds ${bytes.length} bytes, expected ${expected * WIDTH}`);
  const n = expected;
  const plain = new Uint8Array(bytes.length);
  for (let b = 0; b < WIDTH; b++) for (let i = 0; i < n; i++) plain[i * WIDTH + b] = bytes[b * n + i]!;
  const view = new DataView(plain.buffer);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    out[i] = kind === 'f32' ? view.getFloat32(i * WIDTH, true) : kind === 'i32' ? view.getInt32(i * WIDTH, true) : view.getUint32(i * WIDTH, true);
  }
  return out;
}
