/**
 * TensorFlow.js layers models, whole: model.json's `modelTopology` (a Keras model config) is
 * built by keras_config.ts, and its `weightsManifest` shards load by weight name (tfjs_weights.ts).
 * The directory and http handlers hand a model.json here when it is a TF.js model rather than
 * receptive's own (model_format.ts's isTfjsModelJson tells them apart by content).
 */

import type { Model } from '../../model/model.js';
import { KerasImportError } from '../../util/errors.js';
import { modelFromKerasConfig } from './keras_config.js';
import { assignTfjsWeights, type TfjsWeightSpec } from './tfjs_weights.js';

type Json = Record<string, unknown>;

/** Where a shard named in the manifest is, relative to model.json; hostile paths are refused. */
function checkShardPath(p: unknown, where: string): string {
  if (
    typeof p !== 'string' ||
    p.length === 0 ||
    /^([a-z][a-z0-9+.-]*:|\/|\\)/i.test(p) ||
    p.split(/[\\/]/).includes('..')
  )
    throw new KerasImportError(
      `${where}: the weightsManifest names the shard ${JSON.stringify(p)}; shards must be files beside model.json (a relative path without '..').`,
    );
  return p;
}

/**
 * Builds the model a TensorFlow.js layers-model model.json describes and loads its weights;
 * `readShard` reads a shard path of the manifest (relative to model.json).
 * @throws KerasImportError for a graph model, a layer receptive cannot build, or a manifest that does not fit
 */
export async function tfjsModelFromJson(
  json: Json,
  where: string,
  readShard: (relativePath: string) => Promise<Uint8Array>,
): Promise<Model> {
  if (json.format === 'graph-model' || (json.modelTopology as Json | undefined)?.node)
    throw new KerasImportError(
      `${where}: this is a TensorFlow.js graph model (a frozen TensorFlow graph); receptive loads layers models (format 'layers-model', a Keras topology). Convert the Keras model with tensorflowjs_converter --output_format tfjs_layers_model, or export ONNX (tf2onnx) and load the .onnx file.`,
    );
  const topology = json.modelTopology as Json | undefined;
  const version = String(topology?.keras_version ?? '');
  const model = modelFromKerasConfig(topology, { where, keras3: /^3\./.test(version), tfjs: true });
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest))
    throw new KerasImportError(`${where}: has no weightsManifest (the list of weight shards).`);
  const weightSpecs: TfjsWeightSpec[] = [];
  const weightData: Uint8Array[] = [];
  for (const group of manifest as Json[]) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights))
      throw new KerasImportError(`${where}: a weightsManifest entry lacks paths or weights.`);
    weightSpecs.push(...(group.weights as TfjsWeightSpec[]));
    for (const p of group.paths) weightData.push(await readShard(checkShardPath(p, where)));
  }
  // Weights the model does not use (an optimizer's, saved with includeOptimizer) are left out;
  // every weight of the model must be found, with its shape.
  assignTfjsWeights(model, { weightSpecs, weightData }, 'loadModel', where, false);
  return model;
}
