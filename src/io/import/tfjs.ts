/**
 * TensorFlow.js Layers models: model.json (its weightsManifest) and the binary shards, or the
 * artifacts tf.io save handlers receive ({ weightSpecs, weightData }). Weight names are
 * `<layer name>/<weight name>` (conv2d/kernel, batch_normalization/moving_mean), as receptive
 * names its weights, and the layouts are Keras's, so weights match by name and load as they are.
 * float32 and int32 values, and the converter's quantization (uint8, uint16, float16), are read.
 */
import { Functional } from '../../nn/functional.js';
import { ArgumentError, IOError } from '../../util/errors.js';
import { WeightsMismatchError } from './assign.js';
import {
  assignTfjsWeights,
  decodeTfjsWeights,
  type TfjsArtifacts,
  type TfjsWeightSpec,
} from './tfjs_weights.js';

export { decodeTfjsWeights, type TfjsArtifacts, type TfjsWeightSpec };

/** Options of {@link loadTfjsWeights}. */
export interface LoadTfjsOptions {
  /** Fail when the file holds weights the model does not use (default true). */
  strict?: boolean;
}

async function readModelJson(path: string): Promise<TfjsArtifacts> {
  const fs = await import('node:fs/promises');
  const p = await import('node:path');
  const { readFileChecked, toIOError } = await import('../files.js');
  const stat = await fs.stat(path).catch((e: unknown) => {
    throw toIOError(e, 'loadTfjsWeights', 'read', path);
  });
  const file = stat.isDirectory() ? p.join(path, 'model.json') : path;
  let json: { weightsManifest?: { paths: string[]; weights: TfjsWeightSpec[] }[] };
  try {
    json = JSON.parse(new TextDecoder().decode(await readFileChecked(file, 'loadTfjsWeights')));
  } catch (e) {
    if (e instanceof IOError) throw e;
    throw new WeightsMismatchError(
      `loadTfjsWeights: ${file} is not readable JSON (${(e as Error).message}).`,
    );
  }
  if (!Array.isArray(json?.weightsManifest))
    throw new WeightsMismatchError(
      `loadTfjsWeights: ${file} has no weightsManifest; it is not a TensorFlow.js model.json.`,
    );
  const weightSpecs: TfjsWeightSpec[] = [];
  const weightData: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      const buf = await readFileChecked(p.join(p.dirname(file), shard), 'loadTfjsWeights');
      weightData.push(
        buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
      );
    }
  }
  return { weightSpecs, weightData };
}

/**
 * Loads TensorFlow.js weights into a model whose weight names match (`<layer>/<weight>`): from
 * a model.json path (or its directory) with its shards, or from in-memory artifacts. Returns the
 * pairs (tfjs name, receptive weight name).
 */
export async function loadTfjsWeights(
  model: Functional,
  source: string | TfjsArtifacts,
  options: LoadTfjsOptions = {},
): Promise<[string, string][]> {
  if (!(model instanceof Functional))
    throw new ArgumentError('loadTfjsWeights: expects a receptive Model or Sequential.');
  if (model.weights.length === 0)
    throw new ArgumentError(
      `loadTfjsWeights: ${model.label} has no weights yet; build it first (give the first layer an inputShape).`,
    );
  let artifacts: TfjsArtifacts;
  if (typeof source === 'string') artifacts = await readModelJson(source);
  else if (source && Array.isArray(source.weightSpecs) && source.weightData) artifacts = source;
  else
    throw new ArgumentError(
      'loadTfjsWeights: give a model.json path or artifacts { weightSpecs, weightData }.',
    );
  const where = typeof source === 'string' ? source : 'the tfjs artifacts';
  return assignTfjsWeights(model, artifacts, 'loadTfjsWeights', where, options.strict ?? true);
}
