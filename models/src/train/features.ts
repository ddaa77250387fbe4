/**
 * @module train/features
 * The model's fixed, untrained front: input × 255, rounded back to the 8-bit pixel value, then
 * average pooling over pool × pool windows. With whole numbers summed and a power-of-two
 * window, every step is exact in float32 whatever the summation order, so these features are
 * bit-for-bit what onnxruntime computes in the exported graph (Mul, Round, AveragePool): the
 * trainer and the served model disagree only by the dense layers' rounding.
 */

/** Model input size (the reference meta's 64×48). */
export const INPUT_WIDTH = 64;
export const INPUT_HEIGHT = 48;
export const INPUT_CHANNELS = 3;
/** Scales the 0..1 input back to 8-bit pixel values in the graph. */
export const PIXEL_SCALE = 255;

export function checkPool(pool: number): void {
  if (!Number.isInteger(pool) || pool < 1 || (pool & (pool - 1)) !== 0 || INPUT_WIDTH % pool || INPUT_HEIGHT % pool) {
    throw new RangeError(
      `pool must be a power of two dividing ${INPUT_HEIGHT} and ${INPUT_WIDTH} (2, 4, 8 or 16), got ${pool}`,
    );
  }
}

export function featureCount(pool: number): number {
  checkPool(pool);
  return INPUT_CHANNELS * (INPUT_HEIGHT / pool) * (INPUT_WIDTH / pool);
}

/**
 * Pooled features of one NCHW input (values 0..1 as preprocessing made them), in the order
 * ONNX's Flatten gives them: channel, row, column.
 */
export function pooledFeatures(
  input: Float32Array,
  pool: number,
  out: Float32Array = new Float32Array(featureCount(pool)),
): Float32Array {
  const rows = INPUT_HEIGHT / pool,
    cols = INPUT_WIDTH / pool;
  const area = pool * pool;
  const scaled = Math.fround(PIXEL_SCALE);
  let k = 0;
  for (let c = 0; c < INPUT_CHANNELS; c++) {
    const plane = c * INPUT_HEIGHT * INPUT_WIDTH;
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        let sum = 0;
        for (let y = r * pool; y < (r + 1) * pool; y++) {
          const row = plane + y * INPUT_WIDTH;
          // float32 product, then round half to even as ONNX Round does.
          for (let x = q * pool; x < (q + 1) * pool; x++) sum += roundHalfEven(Math.fround(input[row + x]! * scaled));
        }
        out[k++] = sum / area;
      }
    }
  }
  return out;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
