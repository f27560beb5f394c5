/**
 * Finding a layer inside a model's graph and computing its output for an input: what the
 * feature-map and receptive-field pictures need. Works for Sequential and functional models
 * alike, through the symbolic graph (a Sequential with a known input shape has one too).
 */
import { noGrad } from '../autograd.js';
import type { Model } from '../model/model.js';
import type { Layer, SymbolicTensor } from '../nn/layer.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';

/** Builds a Sequential that has not seen its input shape yet (needs one example's shape). */
function ensureGraph(model: Model, inputShape?: number[]): void {
  if (model.graphNodes.length > 0) return;
  if (!inputShape) {
    throw new ArgumentError(
      `${model.label}: the model is not built yet (its input shape is unknown); give it an inputShape or call it once.`,
    );
  }
  model.build([null, ...inputShape]);
}

/** Names of the layers whose output is an image-like [batch, h, w, c] tensor, in run order. */
export function spatialLayerNames(model: Model): string[] {
  return model.graphNodes
    .filter((t) => t.inputs.length > 0 && t.rank === 4)
    .map((t) => t.layer.name)
    .filter((n, i, all) => all.indexOf(n) === i);
}

/** The first convolution of the model (what `--filters` shows by default). */
export function firstConvLayer(model: Model): Layer {
  const conv = model.graphNodes
    .map((t) => t.layer)
    .find((l) => /Conv/.test(l.className) && (l as { kernel?: Tensor }).kernel !== undefined);
  if (!conv)
    throw new ArgumentError(`${model.label}: has no convolution layer with a kernel to show.`);
  return conv;
}

/** The symbolic output of the named layer in the model's graph (its first application). */
export function layerNode(model: Model, layerName: string, inputShape?: number[]): SymbolicTensor {
  ensureGraph(model, inputShape);
  const node = model.graphNodes.find((t) => t.layer.name === layerName && t.inputs.length > 0);
  if (!node) {
    throw new ArgumentError(
      `${model.label}: no layer named '${layerName}'. Layers with image-like outputs: ${spatialLayerNames(model).join(', ') || '(none)'}.`,
    );
  }
  return node;
}

/**
 * Checks that x fits the model's single input: the error says how to fix it.
 * @throws ArgumentError for a model with several inputs
 * @throws ShapeError for an x whose shape is not the input's
 */
export function checkModelInput(model: Model, x: Tensor, where: string): void {
  if (model.inputs.length > 1)
    throw new ArgumentError(`${where}: ${model.label} has several inputs; this takes one.`);
  const want = model.inputs[0]!.shape;
  if (x.rank !== want.length || want.some((d, i) => d !== null && d !== x.shape[i])) {
    throw new ShapeError(
      `${where}: ${model.label}'s input must have shape [batch, ${want.slice(1).join(', ')}], got ${fmtShape(x.shape)}.` +
        (x.rank === want.length - 1 ? ' Add the batch axis: rc.expandDims(x, 0).' : ' Resize it.'),
    );
  }
}

/**
 * Runs the part of the model's graph that `targets` depend on, in inference mode, from the
 * input x (checked with checkModelInput first). `onValue(node, value)` sees each computed
 * value and returns the one the rest of the graph uses (explanations watch an inner layer's
 * output there). `given` supplies values of nodes already computed: the graph above them is
 * not run again. Returns the targets' values. Records on the tape as the caller's mode says.
 */
export function runGraph(
  model: Model,
  x: Tensor,
  targets: SymbolicTensor[],
  onValue: (node: SymbolicTensor, value: Tensor) => Tensor = (_, v) => v,
  given: Map<SymbolicTensor, Tensor> = new Map(),
): Tensor[] {
  const input = model.inputs[0]!;
  // Only the nodes the targets depend on, inputs first.
  const order: SymbolicTensor[] = [];
  const seen = new Set<SymbolicTensor>();
  const visit = (t: SymbolicTensor) => {
    if (seen.has(t)) return;
    seen.add(t);
    if (!given.has(t)) for (const i of t.inputs) visit(i);
    order.push(t);
  };
  for (const t of targets) visit(t);
  const values = new Map<SymbolicTensor, Tensor>(given);
  if (!values.has(input)) values.set(input, onValue(input, x));
  for (const t of order) {
    if (values.has(t)) continue;
    if (t.inputs.length === 0)
      throw new ArgumentError(`${model.label}: layer '${t.layer.name}' depends on another input.`);
    const args = t.inputs.map((i) => values.get(i)!);
    values.set(t, onValue(t, t.layer.apply(t.listInput ? args : args[0]!, { training: false })));
  }
  return targets.map((t) => values.get(t)!);
}

/** Runs the model from its input to the named layer (inference mode) and returns that layer's output. */
export function layerOutput(model: Model, layerName: string, x: Tensor): Tensor {
  if (model.inputs.length > 1)
    throw new ArgumentError(`${model.label}: has several inputs; layerOutput takes one.`);
  const target = layerNode(model, layerName, x.shape.slice(1));
  checkModelInput(model, x, 'layerOutput');
  return noGrad(() => runGraph(model, x, [target])[0]!);
}
