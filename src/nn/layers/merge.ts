/**
 * Layers that join several inputs: Add (residual connections), Subtract, Multiply, Maximum,
 * Minimum, Divide, Power, Concatenate (dense and inception blocks).
 */
import { add, div, maximum, minimum, mul, pow, sub } from '../../ops/elementwise.js';
import { concat } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { normalizeAxis } from '../../util/shape.js';
import type { LayerArgs, Shape } from '../layer.js';
import { fmtSymShape, Layer, registerLayer } from '../layer.js';

function asList(layer: Layer, inputs: Shape | Shape[]): Shape[] {
  if (!Array.isArray(inputs[0])) {
    throw new ArgumentError(
      `${layer.label}: expects a list of at least two inputs, e.g. layer.apply([a, b]).`,
    );
  }
  const list = inputs as Shape[];
  if (list.length < 2)
    throw new ArgumentError(`${layer.label}: expects at least two inputs, got ${list.length}.`);
  return list;
}

/** The shapes of concrete inputs, so that a call checks them as computeOutputShape does. */
function shapesOf(inputs: Tensor | Tensor[]): Shape | Shape[] {
  return Array.isArray(inputs) ? inputs.map((t) => t.shape) : inputs.shape;
}

abstract class ElementwiseMerge extends Layer {
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  /** Joins two inputs; more are folded left to right. */
  protected abstract combine(a: Tensor, b: Tensor): Tensor;
  call(inputs: Tensor | Tensor[]): Tensor {
    this.computeOutputShape(shapesOf(inputs)); // a list of two or more, broadcastable
    const xs = inputs as Tensor[];
    return xs.slice(1).reduce((acc, x) => this.combine(acc, x), xs[0]!);
  }
  /**
   * Same shapes, or shapes that broadcast as Keras's merge layers allow (axes aligned from the
   * right; a size-1 axis stretches), e.g. features [b, h, w, c] times gates [b, 1, 1, c].
   */
  computeOutputShape(inputs: Shape | Shape[]): Shape {
    const list = asList(this, inputs);
    const rank = Math.max(...list.map((s) => s.length));
    const out: Shape = [];
    for (let k = 1; k <= rank; k++) {
      let size = 1;
      let unknown = false;
      for (const s of list) {
        const d = s.length >= k ? s[s.length - k]! : 1;
        if (d === null) unknown = true;
        else if (d !== 1) {
          if (size !== 1 && size !== d) {
            throw new ShapeError(
              `${this.label}: inputs must have the same shape (or sizes of 1 that broadcast), got ${list.map(fmtSymShape).join(' and ')}: axis ${-k} has ${size} and ${d}.`,
            );
          }
          size = d;
        }
      }
      out.unshift(size === 1 && unknown ? null : size);
    }
    return out;
  }
}

/** Elementwise sum of the inputs (a residual connection). */
export class Add extends ElementwiseMerge {
  static override className = 'Add';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
}

/** A merge of exactly two inputs, in order (Subtract, Divide, Power). */
abstract class BinaryMerge extends ElementwiseMerge {
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  override computeOutputShape(inputs: Shape | Shape[]): Shape {
    const list = asList(this, inputs);
    if (list.length !== 2)
      throw new ArgumentError(`${this.label}: expects exactly two inputs, got ${list.length}.`);
    return super.computeOutputShape(list);
  }
}

/** The first input minus the second (Keras's Subtract: exactly two inputs). */
export class Subtract extends BinaryMerge {
  static override className = 'Subtract';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return sub(a, b);
  }
}

/** Elementwise product of the inputs (attention gates: features times [batch, 1, 1, channels]). */
export class Multiply extends ElementwiseMerge {
  static override className = 'Multiply';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return mul(a, b);
  }
}

/** Elementwise largest of the inputs (Keras's Maximum); the gradient goes to the first of ties. */
export class Maximum extends ElementwiseMerge {
  static override className = 'Maximum';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return maximum(a, b);
  }
}

/** Elementwise smallest of the inputs (Keras's Minimum); the gradient goes to the first of ties. */
export class Minimum extends ElementwiseMerge {
  static override className = 'Minimum';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return minimum(a, b);
  }
}

/** The first input divided by the second (exactly two inputs; ONNX Div of two computed tensors). */
export class Divide extends BinaryMerge {
  static override className = 'Divide';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return div(a, b);
  }
}

/**
 * The first input to the power of the second (exactly two inputs; ONNX Pow of two computed
 * tensors). The exponent's gradient uses log(base): it exists where the base is positive.
 */
export class Power extends BinaryMerge {
  static override className = 'Power';
  /** The constructor arguments getConfig writes itself (see {@link Layer.args}). */
  static override args: readonly string[] = [];
  protected combine(a: Tensor, b: Tensor): Tensor {
    return pow(a, b);
  }
}

/** Joins inputs along an axis (channels by default). */
export class Concatenate extends Layer {
  static override className = 'Concatenate';
  static override configFields = ['axis'];
  /** The axis joined along; negative counts from the end (−1: channels). */
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) {
      throw new ArgumentError(
        `${this.label}: axis must be an integer (negative counts from the end), got ${JSON.stringify(args.axis)}.`,
      );
    }
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    this.computeOutputShape(shapesOf(inputs)); // a list of two or more
    return concat(inputs as Tensor[], this.axis);
  }
  computeOutputShape(inputs: Shape | Shape[]): Shape {
    const list = asList(this, inputs);
    const first = list[0]!;
    const ax = normalizeAxis(this.axis, first.length, this.label);
    const out = [...first];
    for (const s of list.slice(1)) {
      if (
        s.length !== first.length ||
        s.some((d, i) => i !== ax && d !== null && first[i] !== null && d !== first[i])
      ) {
        throw new ShapeError(
          `${this.label}: inputs must match on every axis but ${ax}, got ${list.map(fmtSymShape).join(' and ')}.`,
        );
      }
      out[ax] = out[ax] === null || s[ax] === null ? null : out[ax]! + s[ax]!;
    }
    return out;
  }
}

for (const cls of [Add, Subtract, Multiply, Maximum, Minimum, Divide, Power, Concatenate])
  registerLayer(cls);
