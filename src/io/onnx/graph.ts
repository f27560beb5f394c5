/**
 * Builds an ONNX graph: nodes, initializers and unique names, and keeps track of each value's
 * layout. receptive is NHWC; ONNX's Conv, pooling and BatchNormalization are NCHW, so image
 * tensors are kept NCHW inside the graph and a Transpose is inserted only where a layer needs
 * the other layout (the graph's inputs and outputs, Flatten, Reshape, Dense on images ...).
 */
import type { Shape } from '../../nn/layer.js';
import { AttributeType, DataType } from './schema.js';

/** A tensor of the graph: its ONNX name, its receptive (NHWC) shape, and whether it is held NCHW. */
export interface Value {
  /** The value's name in the ONNX graph (unique). */
  name: string;
  /** The shape as receptive sees it (NHWC for images), batch axis possibly null. */
  shape: Shape;
  /** Rank-4 values are usually held NCHW in the graph; true when this one is. */
  nchw: boolean;
}

export type Attr =
  | { type: typeof AttributeType.INT; i: number }
  | { type: typeof AttributeType.FLOAT; f: number }
  | { type: typeof AttributeType.STRING; s: Uint8Array }
  | { type: typeof AttributeType.INTS; ints: number[] }
  | { type: typeof AttributeType.FLOATS; floats: number[] };

/** Makes the attributes of an ONNX node (`attr.int(1)`, `attr.ints([1, 1])`, ...). */
export const attr = {
  /** An INT attribute. */
  int: (i: number): Attr => ({ type: AttributeType.INT, i }),
  /** A FLOAT attribute. */
  float: (f: number): Attr => ({ type: AttributeType.FLOAT, f }),
  /** An INTS attribute (a list of integers: pads, strides, perm). */
  ints: (ints: number[]): Attr => ({ type: AttributeType.INTS, ints }),
  /** A STRING attribute (UTF-8). */
  str: (s: string): Attr => ({ type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
};

interface NodeRecord {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: ({ name: string } & Attr)[];
}

interface TensorRecord {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** NHWC axis → NCHW axis. */
export const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

/**
 * An ONNX graph under construction: a custom layer's exporter (registerOnnxExporter) adds its
 * nodes and weights here, through the ExportContext it is given.
 */
export class OnnxGraph {
  /** The nodes so far, in execution order. */
  readonly nodes: NodeRecord[] = [];
  /** The constant tensors so far (weights, shapes), stored as raw little-endian bytes. */
  readonly initializers: TensorRecord[] = [];
  private readonly names = new Set<string>();
  private readonly converted = new Map<string, Value>();
  private readonly constants = new Map<string, string>();

  /** A name not used yet in the graph: `base`, `base_1`, `base_2` ... (ONNX names are free-form strings). */
  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Reserves a name that must stay as it is (graph inputs). */
  reserve(name: string): void {
    this.names.add(name);
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, name?: string): string {
    const out = this.uniqueName(name ?? opType.toLowerCase());
    this.nodes.push({
      name: out,
      op_type: opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, a]) => ({ name: k, ...a })),
    });
    return out;
  }

  /** A float32 initializer (a weight). */
  weight(name: string, dims: number[], data: Float32Array): string {
    const n = this.uniqueName(name);
    this.initializers.push({
      name: n,
      dims,
      data_type: DataType.FLOAT,
      raw_data: littleEndianBytes(data),
    });
    return n;
  }

  /** An int64 initializer, e.g. the shape of a Reshape or the pads of a Pad; shared when repeated. */
  int64s(name: string, values: number[]): string {
    const key = `i64:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const n = this.uniqueName(name);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({
      name: n,
      dims: [values.length],
      data_type: DataType.INT64,
      raw_data: littleEndianBytes(data),
    });
    this.constants.set(key, n);
    return n;
  }

  /** A float32 scalar initializer, shared when repeated. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const n = this.uniqueName(`const_${String(value).replace(/[^0-9a-zA-Z]/g, '_')}`);
    this.initializers.push({
      name: n,
      dims: [],
      data_type: DataType.FLOAT,
      raw_data: littleEndianBytes(new Float32Array([value])),
    });
    this.constants.set(key, n);
    return n;
  }

  /** The value held NCHW (a Transpose is added once, then reused). Rank-4 values only. */
  toNCHW(v: Value): Value {
    if (v.nchw || v.shape.length !== 4) return v;
    return this.transposed(v, true);
  }

  /** The value held NHWC, as receptive has it. */
  toNHWC(v: Value): Value {
    if (!v.nchw) return v;
    return this.transposed(v, false);
  }

  private transposed(v: Value, nchw: boolean): Value {
    const key = `${v.name}:${nchw}`;
    const known = this.converted.get(key);
    if (known) return known;
    const out = this.node(
      'Transpose',
      [v.name],
      { perm: attr.ints(nchw ? [0, 3, 1, 2] : [0, 2, 3, 1]) },
      `${v.name}_${nchw ? 'nchw' : 'nhwc'}`,
    );
    const res = { name: out, shape: v.shape, nchw };
    this.converted.set(key, res);
    return res;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (TensorProto.raw_data). */
function littleEndianBytes(a: Float32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN)
    return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const out = new Uint8Array(a.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) view.setFloat32(i * 4, a[i]!, true);
    else view.setBigInt64(i * 8, a[i]!, true);
  }
  return out;
}
