/**
 * @module columns
 * Numeric columns as bytes: little-endian, byte-shuffled (all first bytes of every value, then
 * all second bytes, …). Shuffling puts the slowly changing sign/exponent bytes of neighbouring
 * values next to each other, which is what lets deflate shrink float columns (as Blosc does).
 *
 * Values go through typed arrays (the same ToFloat32/ToInt32/ToUint32 conversions a DataView
 * applies) because this runs for every record synced; a DataView call per value cost more than
 * the rest of the encoding. Big-endian hosts get their bytes swapped into wire order.
 */

export type ColumnKind = 'f32' | 'i32' | 'u32';
export type NumericColumn = Float32Array | Int32Array | Uint32Array;
const WIDTH = 4;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function newColumn(kind: ColumnKind, n: number): NumericColumn {
  return kind === 'f32' ? new Float32Array(n) : kind === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}

export function packColumn(values: ArrayLike<number>, kind: ColumnKind): Uint8Array {
  const column = newColumn(kind, values.length);
  for (let i = 0; i < values.length; i++) column[i] = values[i]!;
  return shuffle(column);
}

/** The wire bytes of a filled typed column. */
export function shuffle(column: NumericColumn): Uint8Array {
  const n = column.length;
  const src = new Uint8Array(column.buffer, column.byteOffset, n * WIDTH);
  const out = new Uint8Array(n * WIDTH);
  for (let b = 0; b < WIDTH; b++) {
    const from = HOST_IS_LITTLE_ENDIAN ? b : WIDTH - 1 - b;
    const plane = b * n;
    for (let i = 0; i < n; i++) out[plane + i] = src[i * WIDTH + from]!;
  }
  return out;
}

export function unpackColumn(bytes: Uint8Array, kind: 'f32', expected: number): Float32Array;
export function unpackColumn(bytes: Uint8Array, kind: 'i32', expected: number): Int32Array;
export function unpackColumn(bytes: Uint8Array, kind: 'u32', expected: number): Uint32Array;
export function unpackColumn(bytes: Uint8Array, kind: ColumnKind, expected: number): NumericColumn {
  if (bytes.length !== expected * WIDTH)
    throw new Error(`column holds ${bytes.length} bytes, expected ${expected * WIDTH}`);
  const n = expected;
  const column = newColumn(kind, n);
  const plain = new Uint8Array(column.buffer);
  for (let b = 0; b < WIDTH; b++) {
    const to = HOST_IS_LITTLE_ENDIAN ? b : WIDTH - 1 - b;
    const plane = b * n;
    for (let i = 0; i < n; i++) plain[i * WIDTH + to] = bytes[plane + i]!;
  }
  return column;
}
