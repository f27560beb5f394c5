/**
 * rc.Model: the functional graph (nn/functional.ts) with everything a model can do, in one
 * class, as Keras's Model(Trainer, Layer): compile, fit, evaluate, predict, trainOnBatch,
 * testOnBatch (src/train), save and exportOnnx (src/io). The methods only delegate; the
 * training loop and the file formats live in those modules, which see this class as a type.
 * Where a model is saved is io/router.ts's choice, among what the entry registered (a
 * directory in Node, IndexedDB or downloads in a browser). ONNX export loads its encoder
 * (protobufjs) on first use: a bundle that never exports carries none of it.
 */

import type { SaveOptions } from '../io/model_format.js';
import type { OnnxExportOptions } from '../io/onnx/export.js';
import { saveModelTo, writeModelBytes } from '../io/router.js';
import { Functional, functionalArgs } from '../nn/functional.js';
import { type Layer, type LayerConfig, registerLayer } from '../nn/layer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeReadable, type Tensor } from '../tensor.js';
import type { BatchSource } from '../train/batches.js';
import type { History, Logs } from '../train/callbacks.js';
import type {
  CompileConfig,
  Compiled,
  EvaluateOptions,
  FitOptions,
  PredictOptions,
} from '../train/trainer.js';
import * as trainer from '../train/trainer.js';
import { type FreezeOptions, freeze, type ReplaceHeadOptions, replaceHeadArgs } from './head.js';

export class Model extends Functional {
  /** Set by compile(). */
  optimizer?: Optimizer;
  /** What compile() set up: the loss, the metrics, the optimizer. */
  compiled?: Compiled;
  /** Set by callbacks to end fit() after the current batch (Keras's model.stop_training). */
  stopTraining = false;

  /** A model from getConfig()'s output: the graph rebuilt from its layers' configs. */
  static override fromConfig(config: LayerConfig): Model {
    return new Model(functionalArgs(config));
  }

  /** Chooses the optimizer, the loss and the metrics for fit and evaluate. */
  compile(config: CompileConfig): void {
    trainer.compile(this, config);
  }

  /** Trains on x and y tensors (or a dataset of { x, y } batches); resolves to the History. */
  fit(x: Tensor | BatchSource, y?: Tensor | FitOptions, options?: FitOptions): Promise<History> {
    return trainer.fit(this, x, y, options);
  }

  /**
   * The loss and metrics over x and y (or a dataset), with dropout off and BN in inference mode;
   * `tta: 'flip'` or `'flipTranslate'` averages over moved copies of each image (test-time
   * augmentation, airbench's multi-crop evaluation).
   */
  evaluate(
    x: Tensor | BatchSource,
    y?: Tensor | EvaluateOptions,
    options?: EvaluateOptions,
  ): Promise<Logs> {
    return trainer.evaluate(this, x, y, options);
  }

  /**
   * The outputs for x, in batches; only the result outlives the call. `tta` averages over
   * moved copies of each image, as in evaluate.
   */
  predict(x: Tensor, options?: PredictOptions): Tensor {
    return trainer.predict(this, x, options);
  }

  /** One training step on one batch; a NaN loss throws and leaves the weights as they were. */
  trainOnBatch(x: Tensor, y: Tensor): Logs {
    return trainer.trainOnBatch(this, x, y);
  }

  /** The loss and metrics of one batch, without training. */
  testOnBatch(x: Tensor, y: Tensor): Logs {
    return trainer.testOnBatch(this, x, y);
  }

  /**
   * Saves topology and weights: to a directory (Node; created if needed, written atomically),
   * 'indexeddb://name' or 'downloads://name' (browsers). rc.loadModel reads them back.
   */
  async save(target: string, options?: SaveOptions): Promise<void> {
    await makeReadable(this.weights);
    return saveModelTo(this, target, options);
  }

  /**
   * Writes the model as an ONNX file (opset 17, NHWC input): to a path (Node, atomically) or
   * 'downloads://name.onnx' (browsers).
   */
  async exportOnnx(target: string, options?: OnnxExportOptions): Promise<void> {
    const { encodeOnnx } = await import('../io/onnx/export.js');
    await makeReadable(this.weights);
    const what = "a file path, e.g. 'model.onnx' (in a browser, 'downloads://model.onnx')";
    await writeModelBytes(target, encodeOnnx(this, options), `${this.label}.exportOnnx`, what);
  }

  /**
   * A new model for `numClasses` classes: this model's body (the same layers and weights,
   * shared) with a fresh classifier in place of its own. The classifier is the last Dense
   * layer, or a final 1×1 Conv2D before global pooling (SqueezeNet); the new one keeps its
   * activation and name, so the model gives probabilities or logits as this one did.
   * Training-only outputs (GoogLeNet's auxiliary classifiers) are left out. Compile the new
   * model before fitting it.
   *
   * ```ts
   * const net = await rc.loadModel('resnet18.onnx');
   * const tuned = net.replaceHead(5);
   * tuned.freeze({ except: 'head' });
   * tuned.compile({ optimizer: 'adam', loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
   * ```
   */
  replaceHead(numClasses: number, options?: ReplaceHeadOptions): Model {
    return new Model(replaceHeadArgs(this, numClasses, options));
  }

  /**
   * Freezes the model's layers (all, or all but `except`: 'head' or layer names) so that fit
   * updates only the others; frozen batch normalization runs in inference mode. Returns the
   * frozen layers. {@link Model.unfreeze} undoes it.
   */
  freeze(options?: FreezeOptions): Layer[] {
    return freeze(this, options);
  }

  /** Makes every layer trainable again (after {@link Model.freeze}). */
  unfreeze(): void {
    this.setTrainable(true);
  }
}

// Configs name the functional container 'Functional' (Keras's name): they load as rc.Model.
registerLayer(Model);
