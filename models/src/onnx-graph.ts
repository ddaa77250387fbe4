/**
 * @module onnx-graph
 *
 * A deliberately small, typed builder over the static `onnx-proto` classes: just enough to
 * describe a feed-forward graph (initializers, nodes, typed inputs/outputs) and serialize it.
 * We hand-build models instead of shipping a Python export pipeline so that the sample models
 * can be regenerated offline, in CI, from this repository alone.
 *
 * Determinism is a hard requirement (the committed samples are checked byte-for-byte), so
 * nothing here reads clocks, environment or locale, and tensor payloads are written as
 * explicit little-endian `raw_data` rather than relying on the host's endianness.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';

// onnx-proto is CommonJS (`module.exports = { onnx }`); Node's ESM loader cannot see its named
// exports statically, so the default import is the only form that works at runtime.
const { onnx } = onnxProto;

/** IR version 8 pairs with opset 17 in onnxruntime >= 1.13; both pinned so bytes never drift. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const PRODUCER_NAME = 'edgeloop-models';

/** Element types the builder supports; kept to what our models need. */
export type ElemType = 'float32' | 'int64';

/** A dimension: a fixed size, or a symbolic name (e.g. `"batch"`) for a dynamic axis. */
export type Dim = number | string;

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

function checkLength(name: string, dims: readonly number[], length: number): void {
  const expected = elementCount(dims);
  if (length !== expected) {
    throw new Error(`tensor ${name}: ${length} values for dims [${dims.join(',')}] (expected ${expected})`);
  }
}

/** A float32 initializer. Values are rounded to float32 here, once, so the stored bytes are canonical. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): pb.ITensorProto {
  checkLength(name, dims, values.length);
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return { name, dims: [...dims], dataType: DATA_TYPE.float32, rawData: new Uint8Array(view.buffer) };
}

/**
 * Attribute values are tagged explicitly because a JS number cannot tell ONNX whether it is an
 * INT or a FLOAT attribute, and operators reject the wrong one (e.g. Gemm's `transB` must be INT).
 */
export type AttrValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  float: (v: number): AttrValue => ({ float: v }),
  ints: (v: readonly number[]): AttrValue => ({ ints: v }),
  floats: (v: readonly number[]): AttrValue => ({ floats: v }),
  string: (v: string): AttrValue => ({ string: v }),
};

function toAttribute(name: string, value: AttrValue): pb.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Serialized in key order as given; callers pass literals, so the order is stable. */
  readonly attributes?: Readonly<Record<string, AttrValue>>;
  readonly name?: string;
}

/** A node in the default (ai.onnx) domain. */
export function node(spec: NodeSpec): pb.INodeProto {
  return {
    name: spec.name ?? spec.outputs[0] ?? spec.opType,
    opType: spec.opType,
    input: [...spec.inputs],
    output: [...spec.outputs],
    attribute: Object.entries(spec.attributes ?? {}).map(([k, v]) => toAttribute(k, v)),
  };
}

/** A graph input/output declaration; string dims become symbolic (`dim_param`) axes. */
export function valueInfo(name: string, elemType: ElemType, shape: readonly Dim[]): pb.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[elemType],
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly pb.INodeProto[];
  readonly initializers: readonly pb.ITensorProto[];
  readonly inputs: readonly pb.IValueInfoProto[];
  readonly outputs: readonly pb.IValueInfoProto[];
  readonly docString?: string;
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  readonly docString?: string;
  readonly modelVersion?: number;
  /** Free-form key/value metadata (kept in the given order). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Serialize a ModelProto. Same spec in → byte-identical bytes out. */
export function serializeModel(spec: ModelSpec): Uint8Array {
  const { graph } = spec;
  const model: pb.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: PRODUCER_NAME,
    modelVersion: spec.modelVersion ?? 1,
    docString: spec.docString ?? '',
    graph: {
      name: graph.name,
      node: [...graph.nodes],
      initializer: [...graph.initializers],
      input: [...graph.inputs],
      output: [...graph.outputs],
      docString: graph.docString ?? '',
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`invalid ModelProto: ${err}`);
  // protobufjs hands back a pooled Node Buffer; copy into a plain Uint8Array so callers get an
  // exact-length, unshared array whatever the runtime.
  return Uint8Array.from(onnx.ModelProto.encode(model).finish());
}
