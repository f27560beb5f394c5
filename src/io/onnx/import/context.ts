/**
 * The state of one import: what each ONNX value has become (a constant known at import, or a
 * receptive symbolic tensor and the layout it is held in), the converters by operator, and the
 * layout moves between ONNX's NCHW and receptive's NHWC.
 *
 * Layouts: a 4-D ONNX activation [n, c, h, w] is held NHWC ('nhwc') wherever the layers allow,
 * so convolutions and pooling need no transposes. 'plain' means receptive's axes are ONNX's
 * axes. 'flat' is a Flatten of an NHWC-held image: its features are in HWC order, not ONNX's
 * CHW; a Gemm/MatMul that reads it permutes its weight rows instead of the data.
 */

import { backend } from '../../../backend/registry.js';
import type { Initializer } from '../../../nn/initializers.js';
import type { Layer, SymbolicTensor } from '../../../nn/layer.js';
import { Flatten } from '../../../nn/layers/core.js';
import { Permute } from '../../../nn/layers/tensor_ops.js';
import { Tensor } from '../../../tensor.js';
import { fmtShape, OnnxImportError } from '../../../util/errors.js';
import { firstNonFinite, fmtNonFinite } from '../../../util/finite.js';
import type { AttrValue, ConstTensor, OnnxGraphDef, OnnxNode } from './decode.js';

export type Layout =
  | { kind: 'plain' }
  | { kind: 'nhwc' }
  | { kind: 'flat'; image: SymbolicTensor; c: number; h: number; w: number };

export type Val =
  | { kind: 'const'; value: ConstTensor }
  | { kind: 'tensor'; t: SymbolicTensor; layout: Layout };

/** A tensor value of the graph: its symbolic tensor and layout. */
export type TensorVal = Extract<Val, { kind: 'tensor' }>;

/** Converts one node: reads its inputs from the context, sets its outputs. */
export type OpConverter = (node: OnnxNode, cx: ImportContext) => void;

const converters = new Map<string, OpConverter>();

/** Registers the converter of an ONNX operator (default domain). */
export function registerOp(opType: string | string[], fn: OpConverter): void {
  for (const op of Array.isArray(opType) ? opType : [opType]) converters.set(op, fn);
}

export function converterFor(opType: string): OpConverter | undefined {
  return converters.get(opType);
}

/** The operators importOnnx converts, sorted. */
export function supportedOps(): string[] {
  return [...converters.keys()].sort();
}

/** HELD_TO_ONNX[i]: the ONNX (NCHW) axis an NHWC-held value keeps at axis i; ONNX_TO_HELD the reverse. */
export const HELD_TO_ONNX = [0, 2, 3, 1];
export const ONNX_TO_HELD = [0, 3, 1, 2];

export class ImportContext {
  readonly values = new Map<string, Val>();
  /** How many nodes (and graph outputs) read each value: a fold may consume a value only it reads. */
  readonly readers = new Map<string, number>();
  /** Nodes already converted by a converter that fused them into an earlier node. */
  readonly done = new Set<OnnxNode>();
  private readonly layerNames = new Set<string>();
  /**
   * Layout moves already made, so a value read by several nodes is moved once; by the tensor
   * moved (one tensor can be two values: a folded Transpose reads a plain tensor as NHWC-held).
   */
  private readonly toPlainMade = new Map<SymbolicTensor, TensorVal>();
  private readonly toNhwcMade = new Map<SymbolicTensor, TensorVal>();
  /** The node being converted (for messages). */
  node: OnnxNode | null = null;
  /** The batch size the file declares for its inputs, where it fixes one (a Reshape to [1, -1] keeps the batch). */
  batchSize: number | null = null;

  constructor(readonly graph: OnnxGraphDef) {
    for (const n of graph.nodes)
      for (const i of n.inputs) if (i) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
    for (const o of graph.outputs) this.readers.set(o.name, (this.readers.get(o.name) ?? 0) + 1);
  }

  get opset(): number {
    return this.graph.opset;
  }

  /** An OnnxImportError naming the node being converted, its operator and the opset. */
  error(why: string): OnnxImportError {
    const n = this.node;
    const where = n ? `node '${n.name}' (${n.opType}, opset ${this.opset})` : 'the graph';
    return new OnnxImportError(`importOnnx: ${where}: ${why}`);
  }

  /** A layer name from an ONNX name, unique in the model ('/' separates weight names, so not in it). */
  layerName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'onnx';
    let name = clean;
    for (let k = 1; this.layerNames.has(name); k++) name = `${clean}_${k}`;
    this.layerNames.add(name);
    return name;
  }

  /**
   * The name of the layer that takes a node's weights: the PyTorch module path where the
   * weight initializer is named as a state_dict key ('layer1.0.conv1.weight' → 'layer1.0.conv1',
   * what torch.onnx.export writes unless it folds batch norm into the weights), so that
   * exportTorchWeights gives the original names back; else the node's name.
   */
  weightLayerName(node: OnnxNode, weightInput: number): string {
    const w = node.inputs[weightInput] ?? '';
    const m = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\.weight$/.exec(w);
    return this.layerName(m && this.graph.initializers.has(w) ? m[1]! : node.name);
  }

  /** Applies a layer to symbolic tensors; a shape error is reported as this node's. */
  apply(layer: Layer, inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    try {
      return layer.apply(inputs);
    } catch (e) {
      if (e instanceof OnnxImportError) throw e;
      throw this.error(`${(e as Error).message}`);
    }
  }

  /**
   * An initializer that gives a layer the file's values when it builds: no random values made
   * only to be overwritten. `values` may be a function that makes them (a permuted weight, made
   * only then, which becomes the weight's storage without a copy). It lets go of them once used, and holds nothing of the import (the
   * layer keeps its initializer: the file's bytes and the graph must not stay alive with it); a
   * layer's config leaves function initializers out, so a rebuilt layer gets its defaults.
   */
  fromFile(values: Float32Array | (() => Float32Array), what: string): Initializer {
    let held: Float32Array | (() => Float32Array) | null = values;
    const madeForIt = typeof values === 'function';
    const where = this.node
      ? `node '${this.node.name}' (${this.node.opType}, opset ${this.opset})`
      : 'the graph';
    const fail = (why: string) => new OnnxImportError(`importOnnx: ${where}: ${why}`);
    return (shape) => {
      const made = typeof held === 'function' ? held() : held;
      held = null;
      const size = shape.reduce((a, d) => a * d, 1);
      if (!made || made.length !== size)
        throw fail(
          `its ${what} (${made?.length ?? 0} values) does not fit the layer's weight ${fmtShape(shape)}.`,
        );
      const bad = firstNonFinite(made);
      if (bad >= 0)
        throw fail(
          `its ${what} holds ${fmtNonFinite(made[bad]!)} at flat index ${bad}; weights must be finite.`,
        );
      // An array made for this weight (by the function, a whole buffer) becomes it: no copy on
      // the js and native backends. Arrays given as they are may be shared: copied.
      const b = backend();
      const own = madeForIt && made.byteLength === made.buffer.byteLength;
      return new Tensor(own && b.adopt ? b.adopt(made) : b.write(made, 'float32'), [...shape]);
    };
  }

  /** Sets a layer's weights (in its `weights` order) from ONNX arrays. */
  setWeights(layer: Layer, arrays: Float32Array[]): void {
    try {
      layer.setWeights(arrays);
    } catch (e) {
      throw this.error(`its weights do not fit ${layer.label}: ${(e as Error).message}`);
    }
  }

  /** The value named `name`; an error where the graph never defined it. */
  get(name: string): Val {
    const v = this.values.get(name);
    if (!v)
      throw this.error(
        `reads '${name}', which no node, input or initializer of the graph defines.`,
      );
    return v;
  }

  /** Input `i` of the node, or undefined where it is left out. */
  input(node: OnnxNode, i: number): Val | undefined {
    const name = node.inputs[i];
    return name ? this.get(name) : undefined;
  }

  /** Input `i` as a constant; an error where it is computed at run time. */
  constInput(node: OnnxNode, i: number, what: string): ConstTensor {
    const v = this.input(node, i);
    if (!v) throw this.error(`its ${what} (input ${i}) is missing.`);
    if (v.kind !== 'const')
      throw this.error(
        `its ${what} (input ${i}, '${node.inputs[i]}') is computed at run time; importOnnx needs it fixed in the file (an initializer or a constant expression).`,
      );
    return v.value;
  }

  /** Input `i` as a tensor of the model (not a constant). */
  tensorInput(node: OnnxNode, i: number): TensorVal {
    const v = this.input(node, i);
    if (!v) throw this.error(`input ${i} is missing.`);
    if (v.kind !== 'tensor')
      throw this.error(
        `input ${i} ('${node.inputs[i]}') is a constant where importOnnx expects the model's data flowing in.`,
      );
    return v;
  }

  setOutput(node: OnnxNode, v: Val, i = 0): void {
    const name = node.outputs[i];
    if (name) this.values.set(name, v);
  }

  /** An attribute, or the default. */
  attr<T extends AttrValue>(node: OnnxNode, name: string, fallback: T): T;
  attr<T extends AttrValue>(node: OnnxNode, name: string): T | undefined;
  attr<T extends AttrValue>(node: OnnxNode, name: string, fallback?: T): T | undefined {
    return (node.attrs.get(name) as T | undefined) ?? fallback;
  }

  /** The ONNX shape of a tensor value; null for the batch axis and other unknown sizes. */
  onnxShape(v: TensorVal): (number | null)[] {
    const s = v.t.shape;
    if (v.layout.kind === 'nhwc') return ONNX_TO_HELD.map((a) => s[a] ?? null);
    return [...s];
  }

  /** The ONNX rank of a value. */
  rank(v: Val): number {
    return v.kind === 'const' ? v.value.dims.length : this.onnxShape(v).length;
  }

  /** The value held with receptive's axes equal to ONNX's (a Permute or a re-done Flatten where needed). */
  toPlain(v: TensorVal): TensorVal {
    if (v.layout.kind === 'plain') return v;
    const known = this.toPlainMade.get(v.t);
    if (known) return known;
    const made = this.makePlain(v);
    this.toPlainMade.set(v.t, made);
    return made;
  }

  private makePlain(v: TensorVal): TensorVal {
    if (v.layout.kind === 'plain') return v;
    const base = this.layerName(`${this.node?.name ?? 'value'}_to_nchw`);
    if (v.layout.kind === 'nhwc') {
      const t = this.apply(new Permute({ name: base, dims: [3, 1, 2] }), v.t);
      return { kind: 'tensor', t, layout: { kind: 'plain' } };
    }
    const chw = this.apply(new Permute({ name: base, dims: [3, 1, 2] }), v.layout.image);
    const t = this.apply(new Flatten({ name: this.layerName(`${base}_flatten`) }), chw);
    return { kind: 'tensor', t, layout: { kind: 'plain' } };
  }

  /** A 4-D value held NHWC (a Permute where it is not). */
  toNhwc(v: TensorVal): TensorVal {
    if (v.layout.kind === 'nhwc') return v;
    const p = this.toPlain(v);
    const known = this.toNhwcMade.get(p.t);
    if (known) return known;
    if (p.t.shape.length !== 4)
      throw this.error(
        `expects a 4-D image [batch, channels, height, width], got a value of shape [${this.onnxShape(
          p,
        )
          .map((d) => d ?? '?')
          .join(', ')}] (1-D and 3-D convolutions and pooling are not supported yet).`,
      );
    const name = this.layerName(`${this.node?.name ?? 'value'}_to_nhwc`);
    const t = this.apply(new Permute({ name, dims: [2, 3, 1] }), p.t);
    const made: TensorVal = { kind: 'tensor', t, layout: { kind: 'nhwc' } };
    this.toNhwcMade.set(p.t, made);
    return made;
  }

  /** A receptive axis of the value for an ONNX axis (negative counts from the end). */
  heldAxis(v: TensorVal, onnxAxis: number): number {
    const rank = this.onnxShape(v).length;
    const a = onnxAxis < 0 ? onnxAxis + rank : onnxAxis;
    if (!Number.isInteger(a) || a < 0 || a >= rank)
      throw this.error(`axis ${onnxAxis} is out of range for a value of rank ${rank}.`);
    if (v.layout.kind === 'nhwc') return ONNX_TO_HELD[a]!;
    return a;
  }

  /** A tensor value in the given layout, made by one layer applied to it. */
  tensor(t: SymbolicTensor, layout: Layout = { kind: 'plain' }): TensorVal {
    return { kind: 'tensor', t, layout };
  }
}
