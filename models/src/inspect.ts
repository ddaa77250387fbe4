/**
 * @module inspect
 * Reads an ONNX file's graph inputs/outputs without loading a runtime, so the fleet server can
 * refuse a file that is not a model and derive the manifest's tensor spec from the model itself.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';

const { onnx } = onnxProto;

export interface InspectedTensor {
  name: string;
  dtype: 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'float64' | 'bool';
  /** Fixed sizes, or the symbolic name of a dynamic dimension (-1 when it has none). */
  shape: Array<number | string>;
}

export interface InspectedModel {
  irVersion: number;
  opsetVersion: number | undefined;
  producer: string;
  inputs: InspectedTensor[];
  outputs: InspectedTensor[];
}

const DTYPES: Record<number, InspectedTensor['dtype']> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.UINT8]: 'uint8',
  [onnx.TensorProto.DataType.INT8]: 'int8',
  [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.INT64]: 'int64',
  [onnx.TensorProto.DataType.DOUBLE]: 'float64',
  [onnx.TensorProto.DataType.BOOL]: 'bool',
};

export class NotAnOnnxModelError extends Error {}

export function inspectOnnx(bytes: Uint8Array): InspectedModel {
  let model: pb.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new NotAnOnnxModelError(`not an ONNX model: ${(err as Error).message}`);
  }
  // Random bytes sometimes decode as an empty protobuf; a real model always has a graph with outputs.
  if (!model.graph || !model.irVersion || (model.graph.output ?? []).length === 0) {
    throw new NotAnOnnxModelError('not an ONNX model: no graph with outputs found');
  }
  const initializers = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const toTensor = (v: pb.IValueInfoProto): InspectedTensor => {
    const tensorType = v.type?.tensorType;
    const dtype = DTYPES[tensorType?.elemType ?? -1];
    if (!v.name || !dtype)
      throw new NotAnOnnxModelError(
        `tensor "${v.name ?? '?'}" has an unsupported element type ${tensorType?.elemType}`,
      );
    const shape = (tensorType?.shape?.dim ?? []).map((d) =>
      d.dimParam
        ? d.dimParam
        : d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0
          ? Number(d.dimValue)
          : -1,
    );
    return { name: v.name, dtype, shape };
  };
  const opset = (model.opsetImport ?? []).find((o) => !o.domain);
  return {
    irVersion: Number(model.irVersion),
    opsetVersion: opset?.version !== undefined && opset.version !== null ? Number(opset.version) : undefined,
    producer: model.producerName ?? '',
    // Older exporters list initializers among graph inputs; they are weights, not feeds.
    inputs: (model.graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(toTensor),
    outputs: (model.graph.output ?? []).map(toTensor),
  };
}
