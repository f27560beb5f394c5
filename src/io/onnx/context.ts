/**
 * The state of one export: the graph being built, and the dispatch from a layer to its
 * exporter (also used by composite layers for their sublayers, and by nested models).
 */
import type { ActivationName } from '../../nn/activation_fns.js';
import type { Functional } from '../../nn/functional.js';
import type { Layer, Shape, SymbolicTensor } from '../../nn/layer.js';
import { InputLayer } from '../../nn/layers/core.js';
import { ReceptiveError } from '../../util/errors.js';
import { attr, type OnnxGraph, type Value } from './graph.js';

/** A model that cannot be written as ONNX (a layer without an exporter, an unsupported setting). */
export class OnnxExportError extends ReceptiveError {}

/** Writes one layer application into the graph: its input values → its output value. */
export type OnnxExporter<L extends Layer = Layer> = (
  layer: L,
  inputs: Value[],
  ctx: ExportContext,
) => Value;

const exporters = new Map<string, OnnxExporter>();

/** Makes a layer class exportable to ONNX (custom layers register theirs the same way). */
export function registerOnnxExporter<L extends Layer>(
  className: string,
  fn: OnnxExporter<L>,
): void {
  exporters.set(className, fn as unknown as OnnxExporter);
}

/** The class names that have an ONNX exporter. */
export function onnxExportableLayers(): string[] {
  return [...exporters.keys()].sort();
}

export class ExportContext {
  constructor(
    /** The graph being written. */
    readonly graph: OnnxGraph,
  ) {}

  /** Exports one application of `layer` to these inputs. */
  layer(layer: Layer, inputs: Value[]): Value {
    const fn = exporters.get(layer.className);
    if (!fn) {
      throw new OnnxExportError(
        `exportOnnx: ${layer.label} has no ONNX exporter. Layers that export: ${onnxExportableLayers().join(', ')}. ` +
          `For a custom layer, register one: rc.registerOnnxExporter('${layer.className}', (layer, inputs, ctx) => ...).`,
      );
    }
    return fn(layer, inputs, this);
  }

  /** The receptive output shape of `layer` applied to these inputs. */
  outShape(layer: Layer, inputs: Value[], list = inputs.length > 1): Shape {
    return layer.computeOutputShape(list ? inputs.map((v) => v.shape) : inputs[0]!.shape);
  }

  /** Runs a model's inference graph (training-only outputs left out) on these input values. */
  model(model: Functional, inputs: Value[]): Value[] {
    if (model.outputs.length === 0)
      throw new OnnxExportError(
        `exportOnnx: ${model.label} is not built yet: give its first layer an inputShape, or call it on data once.`,
      );
    if (inputs.length !== model.inputs.length)
      throw new OnnxExportError(
        `exportOnnx: ${model.label} takes ${model.inputs.length} inputs, got ${inputs.length}.`,
      );
    const needed = new Set<SymbolicTensor>();
    const stack = [...model.outputs];
    while (stack.length) {
      const t = stack.pop()!;
      if (needed.has(t)) continue;
      needed.add(t);
      stack.push(...t.inputs);
    }
    const values = new Map<SymbolicTensor, Value>();
    for (const [i, s] of model.inputs.entries()) values.set(s, inputs[i]!);
    for (const t of model.graphNodes) {
      if (!needed.has(t) || values.has(t)) continue;
      if (t.layer instanceof InputLayer)
        throw new OnnxExportError(
          `exportOnnx: ${model.label} depends on input '${t.layer.name}' that is not among its inputs.`,
        );
      const ins = t.inputs.map((i) => values.get(i)!);
      const layer = t.layer;
      values.set(
        t,
        this.withName(layer, () => this.layer(layer, ins)),
      );
    }
    return model.outputs.map((o) => values.get(o)!);
  }

  /** Prefixes errors with the layer, so a failure says where. */
  private withName<T>(layer: Layer, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ReceptiveError && !e.message.includes(`'${layer.name}'`))
        e.message = `exportOnnx: ${layer.label}: ${e.message}`;
      throw e;
    }
  }

  /** Adds a node whose output keeps the input's layout and receptive shape. */
  unary(op: string, v: Value, name: string, attrs: Parameters<OnnxGraph['node']>[2] = {}): Value {
    return { ...v, name: this.graph.node(op, [v.name], attrs, name) };
  }

  /** x ⊙ c or x + c for a float constant c. */
  withScalar(op: 'Mul' | 'Add', v: Value, c: number, name: string): Value {
    return { ...v, name: this.graph.node(op, [v.name, this.graph.scalar(c)], {}, name) };
  }

  /** A named activation function (activation_fns.ts) on a value of any layout. */
  activation(v: Value, act: ActivationName, name: string): Value {
    const g = this.graph;
    switch (act) {
      case 'linear':
        return v;
      case 'relu':
        return this.unary('Relu', v, name);
      case 'tanh':
        return this.unary('Tanh', v, name);
      case 'sigmoid':
        return this.unary('Sigmoid', v, name);
      case 'softmax':
        // receptive's softmax is over the last axis: the channels, axis 1 when held NCHW.
        return this.unary('Softmax', v, name, { axis: attr.int(v.nchw ? 1 : -1) });
      case 'elu':
        return this.unary('Elu', v, name, { alpha: attr.float(1) });
      case 'leakyRelu':
        return this.unary('LeakyRelu', v, name, { alpha: attr.float(0.2) });
      case 'gelu': {
        // The exact GELU x/2·(1 + erf(x/√2)); ONNX has no Gelu before opset 20.
        const erf = this.unary(
          'Erf',
          this.withScalar('Mul', v, Math.SQRT1_2, `${name}_scaled`),
          `${name}_erf`,
        );
        const half = this.withScalar('Mul', v, 0.5, `${name}_half`);
        return {
          ...v,
          name: g.node(
            'Mul',
            [half.name, this.withScalar('Add', erf, 1, `${name}_1p`).name],
            {},
            name,
          ),
        };
      }
      case 'swish': {
        const s = this.unary('Sigmoid', v, `${name}_sigmoid`);
        return { ...v, name: g.node('Mul', [v.name, s.name], {}, name) };
      }
      case 'scaledTanh': {
        // LeCun's 1.7159·tanh(2x/3).
        const t = this.unary(
          'Tanh',
          this.withScalar('Mul', v, 2 / 3, `${name}_in`),
          `${name}_tanh`,
        );
        return this.withScalar('Mul', t, 1.7159, name);
      }
      default:
        throw new OnnxExportError(`exportOnnx: the activation '${String(act)}' has no ONNX form.`);
    }
  }
}
