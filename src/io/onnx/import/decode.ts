/**
 * ONNX bytes → a plain graph: nodes with their attributes, initializers as typed arrays, the
 * graph's inputs and outputs with their shapes, and the opset. Decoded by protobufjs from the
 * official schema (../schema.ts), as the exporter encodes.
 */
import { OnnxImportError } from '../../../util/errors.js';
import { permute, permuteFloat32Bytes } from '../../layouts.js';
import { onnxType } from '../schema.js';

/** A tensor known at import: an initializer, a Constant, or a folded shape computation. */
export interface ConstTensor {
  dims: number[];
  /** Float tensors as float32; integer and boolean ones as float64 (int64 up to 2^53 exactly; NaN: an unknown size). */
  data: Float32Array | Float64Array;
  dtype: 'float' | 'int' | 'bool';
}

export type AttrValue = number | string | number[] | string[] | ConstTensor;

export interface OnnxNode {
  /** The node's name, or a name made from its first output where the file has none. */
  name: string;
  opType: string;
  domain: string;
  /** Input names; '' marks an optional input left out. */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

export interface OnnxValueInfo {
  name: string;
  /** Each axis's size, or null where it is symbolic (a dim_param) or unknown. */
  shape: (number | null)[] | null;
  elemType: number;
}

export interface OnnxGraphDef {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, ConstTensor>;
  /** The graph's real inputs (initializers listed as inputs by old exporters left out). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The version of the default ('' / ai.onnx) operator set. */
  opset: number;
  producer: string;
}

/** TensorProto.DataType values read here. */
const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

const DT_NAMES: Record<number, string> = {
  10: 'FLOAT16',
  16: 'BFLOAT16',
  8: 'STRING',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
};

/** AttributeProto.AttributeType values. */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// biome-ignore lint/suspicious/noExplicitAny: protobufjs's plain objects are untyped.
type Plain = any;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * little-endian float32 bytes as a Float32Array: a view of the file's own buffer where they
 * are 4-byte aligned in it (no copy: the weights are read once from there into the layers),
 * else one copy.
 */
function floatsOf(raw: Uint8Array): Float32Array {
  if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}

/** Float tensors whose values are still only the file's bytes (decoded on first use of `data`). */
const undecoded = new WeakMap<ConstTensor, Uint8Array>();

/**
 * A float32 tensor of the file's raw bytes, decoded when `data` is first read (then kept).
 * Weights read once into a layer go through {@link floatsOnce} instead, which decodes without
 * keeping: the import then holds the file, the layers' weights, and one weight in passing.
 */
function lazyFloat32(dims: number[], raw: Uint8Array): ConstTensor {
  const t = { dims, dtype: 'float' } as ConstTensor;
  Object.defineProperty(t, 'data', {
    configurable: true,
    enumerable: true,
    get() {
      const data = floatsOf(raw);
      undecoded.delete(t);
      Object.defineProperty(t, 'data', { value: data, writable: true, enumerable: true });
      return data;
    },
  });
  undecoded.set(t, raw);
  return t;
}

/** A tensor's values for a reader that uses them once: decoded anew, not kept, where still undecoded. */
export function floatsOnce(t: ConstTensor): Float32Array | Float64Array {
  const raw = undecoded.get(t);
  return raw ? floatsOf(raw) : t.data;
}

/**
 * A float tensor's values permuted (a weight into receptive's layout), read once: from the
 * file's bytes where still undecoded (no aligned copy first), nothing kept.
 */
export function permutedFloats(t: ConstTensor, shape: number[], perm: number[]): Float32Array {
  const raw = undecoded.get(t);
  if (raw && raw.byteOffset % 4 !== 0) return permuteFloat32Bytes(raw, shape, perm);
  const out = permute(floatsOnce(t), shape, perm);
  return out instanceof Float32Array ? out : Float32Array.from(out);
}

function rawView(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Decodes one TensorProto (plain object from protobufjs); `where` names it in messages. */
export function decodeTensor(t: Plain, where: string): ConstTensor {
  const dims: number[] = (t.dims ?? []).map(Number);
  const size = dims.reduce((a, d) => a * d, 1);
  if (t.data_location === 1 || (t.external_data && t.external_data.length > 0)) {
    throw new OnnxImportError(
      `importOnnx: ${where} keeps its data in an external file (ONNX external data), which importOnnx does not read. ` +
        'Save the model with its weights inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False)).',
    );
  }
  const type: number = t.data_type ?? 0;
  const raw: Uint8Array | undefined = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  const fail = (why: string) =>
    new OnnxImportError(`importOnnx: ${where} (dims [${dims.join(', ')}]) ${why}`);
  let data: Float32Array | Float64Array;
  let dtype: ConstTensor['dtype'] = 'int';
  const fromRaw = (
    bytes: number,
    read: (v: DataView, o: number) => number,
    Arr: typeof Float64Array | typeof Float32Array,
  ) => {
    if (raw!.length !== size * bytes)
      throw fail(
        `has ${raw!.length} bytes of raw data, expected ${size * bytes}; the file is damaged.`,
      );
    const v = rawView(raw!);
    const out = new Arr(size);
    for (let i = 0; i < size; i++) out[i] = read(v, i * bytes);
    return out;
  };
  if (type === DT.FLOAT && raw && LITTLE_ENDIAN && raw.length === size * 4)
    return lazyFloat32(dims, raw);
  switch (type) {
    case DT.FLOAT:
      dtype = 'float';
      data = raw
        ? fromRaw(4, (v, o) => v.getFloat32(o, true), Float32Array)
        : Float32Array.from(t.float_data ?? []);
      break;
    case DT.DOUBLE:
      dtype = 'float';
      data = raw
        ? fromRaw(8, (v, o) => v.getFloat64(o, true), Float32Array)
        : Float32Array.from(t.double_data ?? []);
      break;
    case DT.INT64:
      data = raw
        ? fromRaw(8, (v, o) => Number(v.getBigInt64(o, true)), Float64Array)
        : Float64Array.from((t.int64_data ?? []).map(Number));
      break;
    case DT.UINT64:
      data = raw
        ? fromRaw(8, (v, o) => Number(v.getBigUint64(o, true)), Float64Array)
        : Float64Array.from((t.uint64_data ?? []).map(Number));
      break;
    case DT.INT32:
    case DT.INT16:
    case DT.INT8:
    case DT.UINT16:
    case DT.UINT8:
    case DT.BOOL: {
      if (type === DT.BOOL) dtype = 'bool';
      const bytes = { [DT.INT32]: 4, [DT.INT16]: 2, [DT.UINT16]: 2 }[type as 6 | 5 | 4] ?? 1;
      const read =
        {
          [DT.INT32]: (v: DataView, o: number) => v.getInt32(o, true),
          [DT.INT16]: (v: DataView, o: number) => v.getInt16(o, true),
          [DT.UINT16]: (v: DataView, o: number) => v.getUint16(o, true),
          [DT.INT8]: (v: DataView, o: number) => v.getInt8(o),
        }[type as 6 | 5 | 4 | 3] ?? ((v: DataView, o: number) => v.getUint8(o));
      data = raw ? fromRaw(bytes, read, Float64Array) : Float64Array.from(t.int32_data ?? []);
      break;
    }
    case DT.UINT32:
      data = raw
        ? fromRaw(4, (v, o) => v.getUint32(o, true), Float64Array)
        : Float64Array.from((t.uint64_data ?? []).map(Number));
      break;
    default:
      throw fail(
        `has data type ${DT_NAMES[type] ?? type}, which importOnnx does not read (float32/64 and integer tensors only).`,
      );
  }
  if (data.length !== size)
    throw fail(`holds ${data.length} values, its dims need ${size}; the file is damaged.`);
  return { dims, data, dtype };
}

function decodeAttr(a: Plain, where: string): AttrValue {
  const type: number | undefined = a.type;
  // Files from old writers leave `type` out: the field that is set says which it is.
  if (type === AT.FLOAT || (type === undefined && a.f !== undefined)) return a.f ?? 0;
  if (type === AT.INT || (type === undefined && a.i !== undefined)) return Number(a.i ?? 0);
  if (type === AT.STRING || (type === undefined && a.s !== undefined))
    return new TextDecoder().decode(a.s ?? new Uint8Array());
  if (type === AT.TENSOR || (type === undefined && a.t !== undefined))
    return decodeTensor(a.t, `${where} attribute '${a.name}'`);
  if (type === AT.FLOATS || (type === undefined && a.floats?.length)) return [...(a.floats ?? [])];
  if (type === AT.INTS || (type === undefined && a.ints?.length)) return (a.ints ?? []).map(Number);
  if (type === AT.STRINGS)
    return (a.strings ?? []).map((s: Uint8Array) => new TextDecoder().decode(s));
  if (type === undefined) return [];
  throw new OnnxImportError(
    `importOnnx: ${where} has attribute '${a.name}' of a kind importOnnx does not read (a graph or a sparse tensor, type ${type}).`,
  );
}

function valueInfo(v: Plain): OnnxValueInfo {
  const tt = v.type?.tensor_type;
  const dims: Plain[] | undefined = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    shape: dims
      ? dims.map((d) =>
          d.dim_value !== undefined && d.dim_value !== null && Number(d.dim_value) > 0
            ? Number(d.dim_value)
            : null,
        )
      : null,
    elemType: tt?.elem_type ?? 0,
  };
}

/** The graph of ONNX ModelProto bytes; OnnxImportError for bytes that are not one. */
export function decodeModel(bytes: Uint8Array): OnnxGraphDef {
  const ModelProto = onnxType('ModelProto');
  let model: Plain;
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false });
  } catch (e) {
    throw new OnnxImportError(
      `importOnnx: the ${bytes.length} bytes are not an ONNX model (protobuf decoding failed: ${(e as Error).message}). Check that the file is a complete .onnx file.`,
    );
  }
  const g = model.graph;
  if (!g || !Array.isArray(g.node) || g.node.length === 0 || !model.opset_import) {
    throw new OnnxImportError(
      `importOnnx: the ${bytes.length} bytes hold no ONNX graph (no nodes or no opset_import). Check that the file is an .onnx model.`,
    );
  }
  const opsetEntry = (model.opset_import as Plain[]).find(
    (o) => !o.domain || o.domain === 'ai.onnx',
  );
  const opset = Number(opsetEntry?.version ?? 1);
  const initializers = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? [])
    initializers.set(t.name, decodeTensor(t, `initializer '${t.name}'`));
  const nodes: OnnxNode[] = (g.node as Plain[]).map((n, i) => {
    const outputs: string[] = n.output ?? [];
    const name = n.name || `${n.op_type}_${outputs[0] ?? i}`;
    const where = `node '${name}' (${n.op_type})`;
    return {
      name,
      opType: n.op_type ?? '',
      domain: n.domain ?? '',
      inputs: n.input ?? [],
      outputs,
      attrs: new Map((n.attribute ?? []).map((a: Plain) => [a.name, decodeAttr(a, where)])),
    };
  });
  return {
    name: g.name ?? 'onnx_model',
    nodes,
    initializers,
    inputs: (g.input ?? []).map(valueInfo).filter((v: OnnxValueInfo) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(valueInfo),
    opset,
    producer: model.producer_name ?? '',
  };
}
