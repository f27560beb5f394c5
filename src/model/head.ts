/**
 * Transfer learning on a functional model: find its classifier (the head), put a fresh one in
 * its place for a new number of classes, and freeze the rest. Model.replaceHead, Model.freeze
 * and Model.unfreeze delegate here. The classifier is the last layer with weights on the way
 * back from the output: a Dense layer (ResNet, VGG, MobileNet) or a 1×1 Conv2D followed by
 * global pooling (SqueezeNet). The layers between it and the output (an activation, pooling,
 * flatten, softmax) hold no weights; the new model gets copies of them, so it gives
 * probabilities where the old one did and logits where it gave logits.
 */

import type { Functional, ModelArgs } from '../nn/functional.js';
import { type Layer, type LayerConfig, layerFromConfig, type SymbolicTensor } from '../nn/layer.js';
import { Softmax } from '../nn/layers/activations.js';
import { Conv2D } from '../nn/layers/conv.js';
import { Dense, Flatten, InputLayer, Reshape } from '../nn/layers/core.js';
import { MAX_TENSOR_SIZE } from '../tensor.js';
import { ArgumentError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';

/** A model's classifier, where replaceHead puts the new one. */
export interface ClassifierHead {
  /** The classifier layer: a Dense layer, or a 1×1 Conv2D (SqueezeNet-style). */
  layer: Dense | Conv2D;
  /** The symbolic tensor the classifier reads (the features). */
  input: SymbolicTensor;
  /** The weightless layers' outputs from the classifier to the model's output, in order. */
  tail: SymbolicTensor[];
}

/** Whether a layer holds weights (or would, once built): a layer that learns. */
function hasWeights(l: Layer): boolean {
  return l.weights.length > 0;
}

/**
 * The classifier of a single-output model: back from the output through weightless layers of
 * one input to the first layer with weights, which must be a Dense layer or a 1×1 Conv2D.
 * @throws ArgumentError for a model with several outputs, a merge between the classifier and
 *   the output, or a last weighted layer of another kind
 */
export function findHead(model: Functional, where = `${model.label}.replaceHead`): ClassifierHead {
  if (model.outputs.length !== 1)
    throw new ArgumentError(
      `${where}: the model has ${model.outputs.length} outputs; a head is found on a model with one output. Build the new model with the functional API (rc.Model({ inputs, outputs })).`,
    );
  const tail: SymbolicTensor[] = [];
  let t = model.outputs[0]!;
  for (;;) {
    const l = t.layer;
    if (l instanceof InputLayer)
      throw new ArgumentError(
        `${where}: no layer with weights between the output and the input; there is no classifier to replace.`,
      );
    if (hasWeights(l)) {
      const oneByOne =
        l instanceof Conv2D && l.kernelSize[0] === 1 && l.kernelSize[1] === 1 && l.groups === 1;
      if ((l instanceof Dense || oneByOne) && t.inputs.length === 1)
        return { layer: l as Dense | Conv2D, input: t.inputs[0]!, tail };
      throw new ArgumentError(
        `${where}: the last layer with weights before the output is ${l.label} (${l.className}); the classifier must be a Dense layer or a 1×1 Conv2D followed by global pooling. ` +
          'Replace it with the functional API: rc.Model({ inputs: model.inputs, outputs: newLayer.apply(model.getLayer(name).output) }).',
      );
    }
    if (t.inputs.length !== 1)
      throw new ArgumentError(
        `${where}: ${l.label} (${l.className}) between the classifier and the output joins ${t.inputs.length} tensors; replaceHead follows one path back from the output. Use the functional API instead.`,
      );
    tail.unshift(t);
    t = t.inputs[0]!;
  }
}

/** Options of {@link Model.replaceHead}. */
export interface ReplaceHeadOptions {
  /** The new classifier's name (default: the old one's, so PyTorch names stay, e.g. 'fc'). */
  name?: string;
}

/** A fresh copy of a weightless layer, or of the classifier with `classes` outputs (new weights). */
function copyOf(l: Layer, config: Record<string, unknown> = l.getConfig()): Layer {
  return layerFromConfig({ className: l.className, config: config as LayerConfig });
}

/**
 * The inputs and outputs of a model like `model` with a new classifier for `numClasses`
 * classes: the body is shared (its layers and weights are the same objects), the classifier
 * is new (fresh weights, the old one's activation and options), the weightless layers after it
 * are copies.
 * @throws ArgumentError for a number of classes that is not a positive integer, unknown options,
 *   or a model whose classifier cannot be found ({@link findHead}); ShapeError for so many
 *   classes that the new weights cannot be made
 */
export function replaceHeadArgs(
  model: Functional,
  numClasses: number,
  options: ReplaceHeadOptions = {},
): ModelArgs {
  const where = `${model.label}.replaceHead`;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new ArgumentError(
      `${where}: numClasses must be a positive integer (the new number of classes), got ${JSON.stringify(numClasses)}.`,
    );
  checkOptions(where, options, ['name']);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
    throw new ArgumentError(
      `${where}: name must be a non-empty string, got ${JSON.stringify(options.name)}.`,
    );
  if (!model.built)
    throw new ArgumentError(
      `${where}: the model is not built yet; give its first layer an inputShape (or call it on data) first.`,
    );
  const head = findHead(model, where);
  const name = options.name ?? head.layer.name;
  const taken = model.layers.filter((l) => l !== head.layer).some((l) => l.name === name);
  if (taken) throw new ArgumentError(`${where}: the model already has a layer named '${name}'.`);
  // The config leaves out initializers given as functions (an imported layer's file values):
  // the new classifier gets its class's default initializers.
  const change = head.layer instanceof Dense ? { units: numClasses } : { filters: numClasses };
  const config: Record<string, unknown> = { ...head.layer.getConfig(), ...change, name };
  delete config.inputShape;
  delete config.batchSize;
  config.trainable = true;
  // The new kernel is [features, classes] (or [1, 1, channels, classes]): refused here when no
  // tensor could hold it, and said in words when memory runs out making it.
  const fanIn = head.input.shape[head.input.shape.length - 1] ?? 1;
  const size = fanIn * numClasses;
  if (size > MAX_TENSOR_SIZE)
    throw new ShapeError(
      `${where}: a classifier of ${fanIn} inputs for ${numClasses.toLocaleString('en-US')} classes needs ${size.toLocaleString('en-US')} weights, more than a tensor may hold (${MAX_TENSOR_SIZE.toLocaleString('en-US')}). Give fewer classes.`,
    );
  let t: SymbolicTensor;
  try {
    t = copyOf(head.layer, config).apply(head.input);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ShapeError(
      `${where}: could not make the classifier's ${size.toLocaleString('en-US')} weights (${e.message}). Give fewer classes.`,
    );
  }
  for (const s of head.tail) t = copyOf(s.layer).apply(t);
  return { inputs: model.inputs, outputs: t, name: model.name };
}

/** Options of {@link Model.freeze}. */
export interface FreezeOptions {
  /**
   * What stays trainable: 'head' (the classifier that {@link Model.replaceHead} finds), or the
   * names of layers ('head' among them is the classifier, unless a layer has that name).
   * Default: nothing (every layer is frozen).
   */
  except?: 'head' | string[];
}

/**
 * Freezes every layer of the model except those named: fit no longer updates their weights,
 * and frozen batch normalization runs in inference mode (its moving statistics stay as they are),
 * as in Keras. Returns the frozen layers.
 * @throws ArgumentError for unknown options or a name that is not a layer of the model
 */
export function freeze(model: Functional, options: FreezeOptions = {}): Layer[] {
  const where = `${model.label}.freeze`;
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${where}: options must be an object, got ${String(options)}.`);
  checkOptions(where, options, ['except']);
  const keep = new Set<Layer>();
  const { except } = options;
  if (except !== undefined && except !== 'head' && !Array.isArray(except))
    throw new ArgumentError(
      `${where}: except must be 'head' or an array of layer names, got ${JSON.stringify(except)}.`,
    );
  for (const n of except === undefined ? [] : except === 'head' ? [except] : except) {
    if (typeof n !== 'string')
      throw new ArgumentError(
        `${where}: except must list layer names (strings), got ${JSON.stringify(n)}.`,
      );
    // 'head' is the classifier, unless a layer has that name.
    const named = model.layers.find((l) => l.name === n);
    keep.add(n === 'head' && !named ? findHead(model, where).layer : model.getLayer(n));
  }
  const frozen: Layer[] = [];
  for (const l of model.layers) {
    if (l instanceof InputLayer) continue;
    l.setTrainable(keep.has(l));
    if (!keep.has(l)) frozen.push(l);
  }
  return frozen;
}

/** The activation a layer ends with: 'softmax' for a Softmax layer, else its `activation` (or null). */
function endsWith(l: Layer): string | null {
  if (l instanceof Softmax) return l.className === 'Softmax' ? 'softmax' : null;
  const act = (l as { activation?: unknown }).activation;
  return typeof act === 'string' ? act : null;
}

/**
 * The activation that makes the model's (first) output: 'softmax', 'sigmoid', ... from the
 * last layer before any Flatten or Reshape, or null where that layer has none (a LogSoftmax,
 * pooling).
 */
export function outputActivation(model: Functional): string | null {
  let t: SymbolicTensor | undefined = model.outputs[0];
  while (t && (t.layer instanceof Flatten || t.layer instanceof Reshape) && t.inputs.length === 1)
    t = t.inputs[0];
  return t ? endsWith(t.layer) : null;
}

/**
 * Whether the model's (first) output is probabilities (a softmax, possibly reshaped after it)
 * rather than logits: what a loss needs to know (`fromLogits`) and what `predict` shows.
 */
export function outputsProbabilities(model: Functional): boolean {
  return outputActivation(model) === 'softmax';
}
