/**
 * Functional: a graph of layers from symbolic inputs (rc.Input) to outputs, the functional
 * API's container. It is itself a Layer, so models nest. The public rc.Model (src/model/)
 * extends it with training (src/train) and saving (src/io); nn imports neither.
 */

import { isGradEnabled } from '../autograd.js';
import { hasFusedConv2d } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { ActivationReleaser } from './activation_release.js';
import { type FusionPlan, planFusion, runChain } from './inference_fusion.js';
import {
  type CallOptions,
  fmtSymShape,
  Layer,
  type LayerArgs,
  type LayerConfig,
  layerFromConfig,
  type Shape,
  SymbolicTensor,
} from './layer.js';
import { InputLayer } from './layers/core.js';
import { summarize } from './summary.js';

/** A symbolic input of a functional model: the shape of one example (no batch axis). */
export function Input(
  shape: number[],
  options: { name?: string; batchSize?: number } = {},
): SymbolicTensor {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(
      `Input: shape must be positive integers for one example (no batch axis), got ${JSON.stringify(shape)}.`,
    );
  }
  checkOptions('Input', options, ['name', 'batchSize']);
  const layer = new InputLayer({ inputShape: shape, ...options });
  const t = new SymbolicTensor([options.batchSize ?? null, ...shape], layer, [], 0);
  layer.inboundNodes.push({ inputs: [], output: t });
  return t;
}

/** Every symbolic tensor that `outputs` depend on, inputs first (topological order). */
function topoSort(outputs: SymbolicTensor[]): SymbolicTensor[] {
  const order: SymbolicTensor[] = [];
  const state = new Map<SymbolicTensor, 1 | 2>();
  const stack: [SymbolicTensor, boolean][] = outputs.map((o) => [o, false]);
  stack.reverse();
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      state.set(t, 2);
      order.push(t);
      continue;
    }
    if (state.has(t)) continue;
    state.set(t, 1);
    stack.push([t, true]);
    for (const i of [...t.inputs].reverse()) if (!state.has(i)) stack.push([i, false]);
  }
  return order;
}

/** Arguments of a functional {@link Model}: the graph between symbolic inputs and outputs. */
export interface ModelArgs {
  /** The model's input(s), each from {@link Input}. */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The output(s): symbolic tensors that layers' `apply` made from the inputs. */
  outputs: SymbolicTensor | SymbolicTensor[];
  /**
   * Extra outputs that exist in training only (GoogLeNet's auxiliary classifiers): callAll
   * returns them after the outputs when training, and inference never computes them.
   */
  trainingOutputs?: SymbolicTensor[];
  /** Default weights of each output's loss in training (outputs, then trainingOutputs). */
  lossWeights?: number[];
  /** The model's name (default: an automatic one). */
  name?: string;
}

export class Functional extends Layer {
  static override className = 'Functional';
  /** The symbolic inputs, in order. */
  inputs: SymbolicTensor[] = [];
  /** The symbolic outputs, in order. */
  outputs: SymbolicTensor[] = [];
  /** Every layer of the graph, in topological order, InputLayers included. */
  protected graphLayers: Layer[] = [];
  /** Every symbolic tensor of the graph, in topological order. */
  protected nodes: SymbolicTensor[] = [];
  /** The nodes inference needs (the training-only outputs' branches left out). */
  protected inferenceNodes: SymbolicTensor[] = [];
  /** Outputs computed in training only (GoogLeNet's auxiliary classifiers). */
  trainingOutputs: SymbolicTensor[] = [];
  /** Default loss weights per output in training (compile's lossWeights override them). */
  lossWeights?: number[];
  /**
   * Inference with gradients off (predict, evaluate) runs convolution → batch norm → ReLU
   * chains as one convolution with the normalization folded in, where the backend has the
   * fused kernel (native). Outputs differ from the separate ops by rounding. false: never.
   */
  fuseInference = true;
  private plan: FusionPlan | null = null;

  constructor(args?: ModelArgs, layerArgs: LayerArgs = {}) {
    checkOptions('Model', args, ['inputs', 'outputs', 'trainingOutputs', 'lossWeights', 'name']);
    super({ ...layerArgs, ...(args?.name ? { name: args.name } : {}) });
    if (args) {
      this.trainingOutputs = args.trainingOutputs ?? [];
      if (args.lossWeights) this.lossWeights = args.lossWeights;
      this.initGraph(args.inputs, args.outputs);
    }
  }

  /**
   * Records the graph between `inputs` and `outputs` (Sequential calls it once it knows its input shape).
   * @throws ArgumentError if they are not symbolic tensors, an input does not come from {@link Input},
   *   or an output depends on an input that is not listed
   */
  protected initGraph(
    inputs: SymbolicTensor | SymbolicTensor[],
    outputs: SymbolicTensor | SymbolicTensor[],
  ): void {
    this.inputs = Array.isArray(inputs) ? inputs : [inputs];
    this.outputs = Array.isArray(outputs) ? outputs : [outputs];
    for (const t of [...this.inputs, ...this.outputs]) {
      if (!(t instanceof SymbolicTensor)) {
        throw new ArgumentError(
          `${this.label}: inputs and outputs must be symbolic tensors (from rc.Input and layer.apply), got ${String(t)}.`,
        );
      }
    }
    for (const t of this.inputs) {
      if (!(t.layer instanceof InputLayer))
        throw new ArgumentError(`${this.label}: each input must come from rc.Input(), got ${t}.`);
    }
    this.nodes = topoSort([...this.outputs, ...this.trainingOutputs]);
    this.inferenceNodes = this.trainingOutputs.length ? topoSort(this.outputs) : this.nodes;
    const reachable = new Set(this.nodes);
    for (const t of this.nodes) {
      if (t.layer instanceof InputLayer && !this.inputs.includes(t)) {
        throw new ArgumentError(
          `${this.label}: the outputs depend on input '${t.layer.name}' which is not among the model's inputs.`,
        );
      }
    }
    for (const t of this.inputs) {
      if (!reachable.has(t))
        throw new ArgumentError(
          `${this.label}: input '${t.layer.name}' is not connected to any output.`,
        );
    }
    this.graphLayers = [...new Set(this.nodes.map((t) => t.layer))];
    this.sublayers = this.graphLayers.filter((l) => !(l instanceof InputLayer));
    this.built = true;
  }

  /** The layers in the order they run (input layers first). */
  get layers(): Layer[] {
    return this.graphLayers;
  }

  /** Runs the graph and returns every output (and, in training, the training-only outputs after them). */
  callAll(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor[] {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    if (xs.length !== this.inputs.length) {
      throw new ArgumentError(
        `${this.label}: expects ${this.inputs.length} input(s), got ${xs.length}.`,
      );
    }
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((sym, i) => {
      const x = xs[i]!;
      const want = sym.shape;
      if (x.rank !== want.length || want.some((d, k) => d !== null && d !== x.shape[k])) {
        throw new ShapeError(
          `${this.label}: input ${i} ('${sym.layer.name}') expects shape ${fmtSymShape(want)}, got ${fmtShape(x.shape)}.` +
            (x.rank === want.length - 1 ? ' Add the batch axis: rc.expandDims(x, 0).' : ''),
        );
      }
      values.set(sym, x);
    });
    const training = options.training === true;
    const plan = training ? null : this.fusionPlan();
    const release = ActivationReleaser.start(training);
    const steps: [SymbolicTensor, SymbolicTensor[], () => Tensor][] = [];
    for (const t of training ? this.nodes : this.inferenceNodes) {
      if (values.has(t)) continue;
      if (plan) {
        if (plan.inner.has(t)) continue;
        const chain = plan.chains.get(t);
        if (chain) {
          const reads = chain.residual ? [chain.input, chain.residual] : [chain.input];
          steps.push([
            t,
            reads,
            () =>
              runChain(
                chain,
                values.get(chain.input)!,
                chain.residual ? values.get(chain.residual) : undefined,
              ),
          ]);
          continue;
        }
      }
      steps.push([
        t,
        t.inputs,
        () => {
          const args = t.inputs.map((i) => values.get(i)!);
          return t.layer.apply(t.listInput ? args : args[0]!, options);
        },
      ]);
    }
    if (!release) for (const [t, , run] of steps) values.set(t, run());
    else {
      // How many steps still read each value; the model's outputs are read by the caller.
      const readers = new Map<SymbolicTensor, number>();
      for (const o of this.outputs) readers.set(o, Number.POSITIVE_INFINITY);
      for (const [, reads] of steps)
        for (const r of new Set(reads)) readers.set(r, (readers.get(r) ?? 0) + 1);
      for (const [t, reads, run] of steps) {
        values.set(t, release.run(run));
        for (const r of new Set(reads)) {
          const left = readers.get(r)! - 1;
          readers.set(r, left);
          if (left === 0) release.drop(values.get(r)!);
        }
      }
    }
    return (training ? [...this.outputs, ...this.trainingOutputs] : this.outputs).map(
      (o) => values.get(o)!,
    );
  }

  /**
   * The inference fusion plan (nn/inference_fusion.ts) where it applies now: gradients off, a
   * backend with the fused kernel, fuseInference on; else null.
   */
  private fusionPlan(): FusionPlan | null {
    if (!this.fuseInference || isGradEnabled() || !hasFusedConv2d()) return null;
    this.plan ??= planFusion(this.inferenceNodes, this.outputs);
    return this.plan.chains.size > 0 ? this.plan : null;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions = {}): Tensor {
    if (this.outputs.length !== 1) {
      throw new ArgumentError(
        `${this.label}: has ${this.outputs.length} outputs; use model.callAll(x) to get all of them.`,
      );
    }
    return this.callAll(inputs, options)[0]!;
  }

  /** Checks the shapes a model is applied to (as a layer, symbolically) against its inputs. */
  protected checkInputShapes(shapes: Shape[]): void {
    if (shapes.length !== this.inputs.length) {
      throw new ArgumentError(
        `${this.label}: expects ${this.inputs.length} input(s), got ${shapes.length}.`,
      );
    }
    this.inputs.forEach((sym, i) => {
      const s = shapes[i]!;
      const want = sym.shape;
      if (
        s.length !== want.length ||
        want.some((d, k) => d !== null && s[k] !== null && d !== s[k])
      )
        throw new ShapeError(
          `${this.label}: input ${i} ('${sym.layer.name}') expects shape ${fmtSymShape(want)}, got ${fmtSymShape(s)}.`,
        );
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = (this.inputs.length === 1 ? [inputShape] : inputShape) as Shape[];
    this.checkInputShapes(shapes);
    const known = new Map<SymbolicTensor, Shape>();
    for (const [i, t] of this.inputs.entries()) known.set(t, shapes[i]!);
    for (const t of this.nodes) {
      if (known.has(t)) continue;
      const ins = t.inputs.map((i) => known.get(i)!);
      known.set(t, t.layer.computeOutputShape(t.listInput ? ins : ins[0]!));
    }
    return known.get(this.outputs[0]!)!;
  }

  /** The layer with this name (or at this index). */
  getLayer(nameOrIndex: string | number): Layer {
    const l =
      typeof nameOrIndex === 'number'
        ? this.layers[nameOrIndex]
        : this.layers.find((x) => x.name === nameOrIndex);
    if (!l) {
      throw new ArgumentError(
        `${this.label}: no layer ${JSON.stringify(nameOrIndex)}. Layers: ${this.layers.map((x) => x.name).join(', ')}.`,
      );
    }
    return l;
  }

  /** Prints Keras's summary table and returns it. */
  summary(options: { print?: ((line: string) => void) | false } = {}): string {
    checkOptions(`${this.label}.summary`, options, ['print']);
    const text = summarize(this);
    const print = options.print === undefined ? console.log : options.print;
    if (print) print(text);
    return text;
  }

  /** Symbolic tensors in run order (for summaries and exporters). */
  get graphNodes(): readonly SymbolicTensor[] {
    return this.nodes;
  }

  override getConfig(): LayerConfig {
    const layerNodes = (l: Layer) => this.nodes.filter((t) => t.layer === l);
    return {
      ...super.getConfig(),
      layers: this.layers.map((l) => ({
        className: l.className,
        name: l.name,
        config: l.getConfig(),
        inboundNodes: layerNodes(l)
          .filter((t) => t.inputs.length > 0)
          .map((t) => ({
            inputs: t.inputs.map((i) => [i.layer.name, i.nodeIndex]),
            list: t.listInput,
          })),
      })),
      inputLayers: this.inputs.map((t) => [t.layer.name, t.nodeIndex]),
      outputLayers: this.outputs.map((t) => [t.layer.name, t.nodeIndex]),
      ...(this.trainingOutputs.length
        ? { trainingOutputLayers: this.trainingOutputs.map((t) => [t.layer.name, t.nodeIndex]) }
        : {}),
      ...(this.lossWeights ? { lossWeights: this.lossWeights } : {}),
    };
  }

  static override fromConfig(c: LayerConfig): Functional {
    return new Functional(functionalArgs(c));
  }
}

/**
 * The inputs and outputs of a functional model rebuilt from its config: every layer from its
 * own config, applied node by node once its inputs exist (rc.Model.fromConfig builds on it).
 */
export function functionalArgs(c: LayerConfig): ModelArgs {
  type Spec = {
    className: string;
    name: string;
    config: LayerConfig;
    inboundNodes: { inputs: [string, number][]; list: boolean }[];
  };
  const specs = c.layers as Spec[];
  const byName = new Map<string, Layer>();
  const made = new Map<string, SymbolicTensor>(); // "name:nodeIndex" → tensor
  for (const spec of specs) {
    if (spec.className === 'InputLayer') {
      const shape = (spec.config.inputShape as number[]) ?? [];
      const t = Input(shape, { name: spec.name });
      byName.set(spec.name, t.layer);
      made.set(`${spec.name}:0`, t);
    } else {
      byName.set(spec.name, layerFromConfig(spec));
    }
  }
  // Apply each layer's nodes once their inputs exist (repeated passes handle shared layers).
  const pending = specs.flatMap((s) =>
    s.inboundNodes.map((n, i) => ({ spec: s, node: n, index: i })),
  );
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let k = 0; k < pending.length; k++) {
      const { spec, node, index } = pending[k]!;
      const ins = node.inputs.map(([n, i]) => made.get(`${n}:${i}`));
      if (ins.some((t) => !t)) continue;
      const layer = byName.get(spec.name)!;
      const syms = ins as SymbolicTensor[];
      made.set(`${spec.name}:${index}`, layer.apply(node.list ? syms : syms[0]!));
      pending.splice(k--, 1);
      progress = true;
    }
  }
  if (pending.length)
    throw new ArgumentError(
      `Model.fromConfig: the layer graph could not be rebuilt (missing inputs for ${pending[0]!.spec.name}).`,
    );
  const ref = (r: [string, number]) => {
    const t = made.get(`${r[0]}:${r[1]}`);
    if (!t)
      throw new ArgumentError(`Model.fromConfig: the config refers to a missing layer '${r[0]}'.`);
    return t;
  };
  return {
    inputs: (c.inputLayers as [string, number][]).map(ref),
    outputs: (c.outputLayers as [string, number][]).map(ref),
    ...(c.trainingOutputLayers
      ? { trainingOutputs: (c.trainingOutputLayers as [string, number][]).map(ref) }
      : {}),
    ...(c.lossWeights ? { lossWeights: c.lossWeights as number[] } : {}),
    name: c.name as string,
  };
}
