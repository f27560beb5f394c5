/** Sequential: a plain stack of layers, each feeding the next. */

import { ActivationReleaser } from '../nn/activation_release.js';
import { Input } from '../nn/functional.js';
import {
  type CallOptions,
  Layer,
  type LayerConfig,
  layerFromConfig,
  registerLayer,
  type Shape,
  type SymbolicTensor,
} from '../nn/layer.js';
import { InputLayer } from '../nn/layers/core.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { Model } from './model.js';

export class Sequential extends Model {
  static override className = 'Sequential';
  private stack: Layer[] = [];

  constructor(layers: Layer[] = [], options: { name?: string } = {}) {
    checkOptions('Sequential', options, ['name']);
    super(undefined, options);
    if (!Array.isArray(layers)) throw new ArgumentError('Sequential: expects an array of layers.');
    for (const l of layers) this.add(l);
  }

  /** Appends a layer; if the model's input shape is known, it is built at once. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer))
      throw new ArgumentError(`Sequential.add: expected a layer, got ${String(layer)}.`);
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0)
        throw new ArgumentError('Sequential.add: an InputLayer can only come first.');
      this.graphFrom(layer.inputShape!);
      return;
    }
    this.stack.push(layer);
    if (this.outputs.length > 0) {
      this.initGraph(this.inputs, layer.apply(this.outputs[0]!));
    } else if (this.stack.length === 1 && layer.inputShape) {
      this.graphFrom(layer.inputShape, layer.batchSize);
    } else {
      this.sublayers = [...this.stack];
    }
  }

  /** Builds the symbolic graph from the shape of one example. */
  private graphFrom(inputShape: number[], batchSize?: number): void {
    const input = Input(inputShape, batchSize === undefined ? {} : { batchSize });
    let t: SymbolicTensor = input;
    for (const l of this.stack) t = l.apply(t);
    this.initGraph(input, t);
  }

  /** The layers as added (no input layer). */
  override get layers(): Layer[] {
    return this.stack;
  }

  override call(x: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    if (Array.isArray(x))
      throw new ArgumentError(
        `${this.label}: a Sequential model takes one input tensor, got ${x.length}.`,
      );
    if (this.stack.length === 0)
      throw new ArgumentError(`${this.label}: has no layers; add some first.`);
    if (this.outputs.length === 0) {
      try {
        this.graphFrom(x.shape.slice(1));
      } catch (e) {
        // A model built from its first input takes axis 0 as the batch: one image [h, w, c] fails inside a layer.
        if (e instanceof ShapeError)
          e.message += ` (${this.label} was being built from its input ${fmtShape(x.shape)}, whose first axis is the batch axis; if it is one example, add the batch axis: rc.expandDims(x, 0).)`;
        throw e;
      }
    }
    const want = this.inputs[0]!.shape;
    if (x.rank !== want.length || want.some((d, i) => d !== null && d !== x.shape[i])) {
      throw new ShapeError(
        `${this.label}: expects input of shape (None, ${want.slice(1).join(', ')}), got ${fmtShape(x.shape)}.` +
          (x.rank === want.length - 1 ? ' Add the batch axis: rc.expandDims(x, 0).' : ''),
      );
    }
    const release = ActivationReleaser.start(options.training);
    if (!release) return this.stack.reduce((y, l) => l.apply(y, options), x);
    let y = x;
    for (const l of this.stack) {
      const input = y;
      y = release.run(() => l.apply(input, options));
      release.drop(input);
    }
    return y;
  }

  override callAll(x: Tensor | Tensor[], options: CallOptions = {}): Tensor[] {
    return [this.call(x, options)];
  }

  override computeOutputShape(s: Shape | Shape[]): Shape {
    if (this.inputs.length > 0) this.checkInputShapes([s as Shape]);
    return this.stack.reduce<Shape>((acc, l) => l.computeOutputShape(acc), s as Shape);
  }

  /** Builds from an input shape (one example) without data, like Keras's model.build. */
  override build(inputShape: Shape | Shape[]): void {
    if (this.outputs.length === 0) this.graphFrom((inputShape as Shape).slice(1) as number[]);
    this.built = true;
  }

  override getConfig(): LayerConfig {
    const c: LayerConfig = {
      name: this.name,
      trainable: this.trainable,
      layers: this.stack.map((l) => ({ className: l.className, config: l.getConfig() })),
    };
    if (this.inputs.length > 0) c.inputShape = this.inputs[0]!.shape.slice(1);
    return c;
  }

  static override fromConfig(c: LayerConfig): Sequential {
    const m = new Sequential([], { name: c.name });
    const specs = c.layers as { className: string; config: LayerConfig }[];
    const layers = specs.map(layerFromConfig);
    if (c.inputShape && !layers[0]?.inputShape)
      m.add(new InputLayer({ inputShape: c.inputShape as number[] }));
    for (const l of layers) m.add(l);
    return m;
  }
}

registerLayer(Sequential);
