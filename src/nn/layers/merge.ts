/** Layers that join several inputs: Add (residual connections), Multiply, Concatenate (dense and inception blocks). */
import { add, mul } from '../../ops/elementwise.js';
import { concat } from '../../ops/shape.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, ShapeError } from '../../util/errors.js';
import { normalizeAxis } from '../../util/shape.js';
import {
  fmtSymShape,
  Layer,
  type LayerArgs,
  type LayerConfig,
  registerLayer,
  type Shape,
} from '../layer.js';

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

abstract class ElementwiseMerge extends Layer {
  protected abstract combine(a: Tensor, b: Tensor): Tensor;
  call(inputs: Tensor | Tensor[]): Tensor {
    const xs = inputs as Tensor[];
    return xs.slice(1).reduce((acc, x) => this.combine(acc, x), xs[0]!);
  }
  computeOutputShape(inputs: Shape | Shape[]): Shape {
    const list = asList(this, inputs);
    const first = list[0]!;
    for (const s of list) {
      if (
        s.length !== first.length ||
        s.some((d, i) => d !== null && first[i] !== null && d !== first[i])
      ) {
        throw new ShapeError(
          `${this.label}: all inputs must have the same shape, got ${list.map(fmtSymShape).join(' and ')}.`,
        );
      }
    }
    return first.map((d, i) => d ?? list.find((s) => s[i] !== null)?.[i] ?? null);
  }
}

/** Elementwise sum of same-shaped inputs (a residual connection). */
export class Add extends ElementwiseMerge {
  static override className = 'Add';
  protected combine(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
  static fromConfig(c: LayerConfig): Add {
    return new Add(c);
  }
}

/** Elementwise product of same-shaped inputs. */
export class Multiply extends ElementwiseMerge {
  static override className = 'Multiply';
  protected combine(a: Tensor, b: Tensor): Tensor {
    return mul(a, b);
  }
  static fromConfig(c: LayerConfig): Multiply {
    return new Multiply(c);
  }
}

/** Joins inputs along an axis (channels by default). */
export class Concatenate extends Layer {
  static override className = 'Concatenate';
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
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
  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }
  static fromConfig(c: LayerConfig): Concatenate {
    return new Concatenate(c as LayerArgs & { axis?: number });
  }
}

for (const cls of [Add, Multiply, Concatenate]) registerLayer(cls);
