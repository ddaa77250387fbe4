/**
 * @module train/export-onnx
 * Writes a trained reference network as ONNX with the onnx-graph builder:
 *
 *   image [batch,3,48,64] ─ Mul 255 ─ Round ─ AveragePool p×p ─ Flatten ─ Cast double
 *     ─ Sub mean ─ Mul 1/std ─ Gemm ─ Relu ─ [Gemm ─ Relu] ─ Gemm ─ Mul labelStd ─ Add labelMean
 *     ─ Cast float ─ distance [batch,1]
 *
 * The front (up to Flatten) is features.ts, exact in float32. The dense part runs in double:
 * in float32 a few hundred products per unit, summed in whatever order the engine picks, leave
 * the output a few ulps (around 1e-4 mm at 200 mm) from the function trained, and each engine
 * lands somewhere else; in double the only rounding left is the final cast. The weights are
 * stored as float32 (what tfjs trained) and cast once when the session loads (constant folding),
 * so the file is no bigger. The dense kernels are tfjs's [in, out] layout, Gemm's B without a
 * transpose. Same weights in → same bytes out.
 */
import { attr, floatTensor, node, serializeModel, valueInfo } from '../onnx-graph.js';
import { BATCH_DIM, REFERENCE_INPUT, REFERENCE_OUTPUT } from '../reference-model.js';
import { INPUT_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH, PIXEL_SCALE } from './features.js';
import type { NetworkWeights } from './network.js';

export interface ExportInfo {
  readonly pool: number;
  /** Free-form provenance written into the model's metadata_props (kept in the given order). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** TensorProto.DataType codes for Cast's `to`. */
const FLOAT = 1;
const DOUBLE = 11;

export function exportOnnx(weights: NetworkWeights, info: ExportInfo): Uint8Array {
  const features = weights.featureMean.length;
  const initializers = [
    floatTensor('pixel.scale', [], [PIXEL_SCALE]),
    floatTensor('feature.mean', [features], weights.featureMean),
    floatTensor('feature.inv_std', [features], weights.featureInvStd),
    floatTensor('label.std', [], [weights.labelStd]),
    floatTensor('label.mean', [], [weights.labelMean]),
  ];
  const nodes = [
    node({ opType: 'Mul', inputs: [REFERENCE_INPUT.name, 'pixel.scale'], outputs: ['pixels'] }),
    node({ opType: 'Round', inputs: ['pixels'], outputs: ['pixels_8bit'] }),
    node({
      opType: 'AveragePool',
      inputs: ['pixels_8bit'],
      outputs: ['pooled'],
      attributes: { kernel_shape: attr.ints([info.pool, info.pool]), strides: attr.ints([info.pool, info.pool]) },
    }),
    node({ opType: 'Flatten', inputs: ['pooled'], outputs: ['features32'], attributes: { axis: attr.int(1) } }),
    toDouble('features32', 'features'),
    toDouble('feature.mean'),
    toDouble('feature.inv_std'),
    node({ opType: 'Sub', inputs: ['features', 'feature.mean.f64'], outputs: ['centred'] }),
    node({ opType: 'Mul', inputs: ['centred', 'feature.inv_std.f64'], outputs: ['h0'] }),
  ];
  weights.layers.forEach((layer, i) => {
    initializers.push(floatTensor(`dense${i + 1}.kernel`, [layer.inputs, layer.units], layer.kernel));
    initializers.push(floatTensor(`dense${i + 1}.bias`, [layer.units], layer.bias));
    const last = i === weights.layers.length - 1;
    const out = last ? 'z' : `dense${i + 1}`;
    nodes.push(toDouble(`dense${i + 1}.kernel`), toDouble(`dense${i + 1}.bias`));
    nodes.push(
      node({ opType: 'Gemm', inputs: [`h${i}`, `dense${i + 1}.kernel.f64`, `dense${i + 1}.bias.f64`], outputs: [out] }),
    );
    if (!last) nodes.push(node({ opType: 'Relu', inputs: [out], outputs: [`h${i + 1}`] }));
  });
  nodes.push(toDouble('label.std'), toDouble('label.mean'));
  nodes.push(node({ opType: 'Mul', inputs: ['z', 'label.std.f64'], outputs: ['z_scaled'] }));
  nodes.push(node({ opType: 'Add', inputs: ['z_scaled', 'label.mean.f64'], outputs: ['distance_f64'] }));
  nodes.push(
    node({
      opType: 'Cast',
      inputs: ['distance_f64'],
      outputs: [REFERENCE_OUTPUT.name],
      attributes: { to: attr.int(FLOAT) },
    }),
  );

  return serializeModel({
    docString: 'EdgeLoop reference parking-distance model, trained: wall image -> distance in mm.',
    metadata: info.metadata,
    graph: {
      name: 'edgeloop_distance',
      nodes,
      initializers,
      inputs: [valueInfo(REFERENCE_INPUT.name, 'float32', [BATCH_DIM, INPUT_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH])],
      outputs: [valueInfo(REFERENCE_OUTPUT.name, 'float32', [BATCH_DIM, 1])],
    },
  });
}

function toDouble(input: string, output = `${input}.f64`) {
  return node({ opType: 'Cast', inputs: [input], outputs: [output], attributes: { to: attr.int(DOUBLE) } });
}
