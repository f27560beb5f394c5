/**
 * The ONNX message types, parsed once from the official schema (onnx_proto.ts) by protobufjs,
 * and the enum values the exporter writes.
 */
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx_proto.js';

let root: protobuf.Root | null = null;

/** The parsed schema (package `onnx`). */
export function onnxRoot(): protobuf.Root {
  if (!root) root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root;
}

export function onnxType(name: 'ModelProto' | 'TensorProto' | 'GraphProto'): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
} as const;

/** The IR version of ONNX 1.12 (the schema's IR_VERSION) and the operator set the exporter targets. */
export const IR_VERSION = 8;
export const OPSET = 17;
