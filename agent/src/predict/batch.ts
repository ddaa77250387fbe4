/**
 * @module predict/batch
 * Stacking several requests into one ONNX Runtime call. One call with a batch of N costs far
 * less than N calls (one dispatch, better vectorisation), so a batch request uses it whenever
 * that is safe: every model input has a dynamic first dimension (-1 or a symbolic name — by ONNX
 * convention the batch dimension), every item feeds exactly one sample (first dimension 1), and
 * the items agree on every input's dtype and shape. Items are grouped by shape, so a batch mixing
 * two image sizes still makes two calls, not N.
 */
import type { Manifest } from '@edgeloop/protocol';
import type { TensorData } from '../runtime/model-runner.js';

type Feeds = Record<string, TensorData>;

/** True when the model's inputs can take a stacked batch at all. */
export function hasDynamicBatch(manifest: Manifest): boolean {
  return manifest.inputs.every((i) => i.shape.length > 0 && (i.shape[0] === -1 || typeof i.shape[0] === 'string'));
}

/**
 * Partitions item indices into groups that can share one call (same dtype + shape on every
 * input, one sample each). Items that cannot be stacked come back as groups of one.
 */
export function batchGroups(manifest: Manifest, items: readonly Feeds[]): number[][] {
  if (!hasDynamicBatch(manifest)) return items.map((_, i) => [i]);
  const groups = new Map<string, number[]>();
  const singles: number[][] = [];
  items.forEach((feeds, index) => {
    const tensors = manifest.inputs.map((i) => feeds[i.name]);
    if (tensors.some((t) => !t || t.dims[0] !== 1)) return void singles.push([index]);
    const key = tensors.map((t) => `${t!.dtype}:${t!.dims.join('x')}`).join('|');
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  return [...groups.values(), ...singles];
}

/** One tensor per input with the items' samples stacked along the first dimension. */
export function stackFeeds(items: readonly Feeds[]): Feeds {
  const first = items[0]!;
  const stacked: Feeds = {};
  for (const [name, t] of Object.entries(first)) {
    const per = t.data.length;
    const Ctor = t.data.constructor as new (length: number) => TensorData['data'];
    const data = new Ctor(per * items.length);
    items.forEach((feeds, i) => copyInto(data, feeds[name]!.data, i * per));
    stacked[name] = { dtype: t.dtype, dims: [items.length, ...t.dims.slice(1)], data };
  }
  return stacked;
}

/**
 * Splits a batched result back into one result per item, or undefined when some output does not
 * have the batch as its first dimension (then the caller runs the items one by one instead).
 */
export function unstackOutputs(outputs: Feeds, count: number): Feeds[] | undefined {
  const entries = Object.entries(outputs);
  if (entries.some(([, t]) => t.dims[0] !== count || t.data.length % count !== 0)) return undefined;
  return Array.from({ length: count }, (_, i) => {
    const item: Feeds = {};
    for (const [name, t] of entries) {
      const per = t.data.length / count;
      item[name] = { dtype: t.dtype, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(i * per, (i + 1) * per) };
    }
    return item;
  });
}

/** TypedArray.set across the union type: both arrays always share a constructor here. */
function copyInto(target: TensorData['data'], source: TensorData['data'], offset: number): void {
  (target as Float32Array).set(source as Float32Array, offset);
}
