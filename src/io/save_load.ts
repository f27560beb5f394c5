/**
 * Saving and loading models: a directory holding model.json (the topology as layer configs)
 * and a safetensors file of the weights. model.json is written last and names the weights
 * file with its SHA-256, so a crash at any moment leaves either the old or the new model,
 * complete: the commit point is the atomic rename of model.json.
 */

import type { Model } from '../model/model.js';
import { Functional } from '../nn/functional.js';
import { type Layer, type LayerConfig, layerFromConfig } from '../nn/layer.js';
import { ArgumentError, fmtShape, ReceptiveError } from '../util/errors.js';
import { makeDir, sha256Hex, toIOError, writeFileAtomic } from './files.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './safetensors.js';

export const MODEL_FILE = 'model.json';
/** The model.json format this receptive writes and reads. */
const MODEL_FORMAT_VERSION = 1;

export interface ModelFile {
  format: 'receptive-model';
  version: 1;
  model: { className: string; config: LayerConfig };
  weights: { file: string; sha256: string; names: string[]; shapes: number[][] };
  /** Free-form extra state (training checkpoints put the optimizer and epoch here). */
  extra?: Record<string, unknown>;
}

export class ModelFileError extends ReceptiveError {}

/** What model.save can keep beside the model: training state (BackupAndRestore uses it). */
export interface SaveOptions {
  extra?: Record<string, unknown>;
  extraWeights?: { name: string; shape: number[]; data: Float32Array }[];
}

/** Saves topology and weights into a directory (created if needed), atomically: rc.Model's save. */
export async function saveModel(
  model: Functional,
  dir: string,
  options: SaveOptions = {},
): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  if (typeof dir !== 'string' || dir.length === 0)
    throw new ArgumentError(`${model.label}.save: needs a directory path.`);
  const where = `${model.label}.save`;
  await makeDir(dir, where);
  const weights = model.weights;
  const arrays = weights.map((w, i) => ({
    name: `${i}:${w.name ?? 'weight'}`,
    shape: w.shape,
    data: w.dataSync() as Float32Array,
  }));
  const extraArrays = (options.extraWeights ?? []).map((a) => ({ ...a, name: `extra:${a.name}` }));
  const bytes = encodeSafetensors([...arrays, ...extraArrays], { format: 'receptive' });
  const sha = await sha256Hex(bytes);
  const file = `weights-${sha.slice(0, 16)}.safetensors`;
  await writeFileAtomic(path.join(dir, file), bytes, where);
  const doc: ModelFile = {
    format: 'receptive-model',
    version: 1,
    model: { className: model.className, config: model.getConfig() },
    weights: {
      file,
      sha256: sha,
      names: weights.map((w) => w.name ?? ''),
      shapes: weights.map((w) => w.shape),
    },
    ...(options.extra ? { extra: options.extra } : {}),
  };
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(doc, null, 1), where);
  // Old weights files are no longer referenced; remove them. The model is saved by now, so a
  // failure here only leaves litter and is not worth an error.
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const f of names) {
    if (f !== file && /^weights-[0-9a-f]+\.safetensors$/.test(f))
      await fs.rm(path.join(dir, f), { force: true }).catch(() => {});
    if (f.includes('.tmp-')) await fs.rm(path.join(dir, f), { force: true }).catch(() => {});
  }
}

export interface LoadedModel {
  model: Model;
  file: ModelFile;
  extraWeights: Map<string, Float32Array>;
}

/** Reads a saved model directory: the model, its file record, and any extra arrays saved with it. */
export async function loadModelFull(dir: string): Promise<LoadedModel> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  if (typeof dir !== 'string' || dir.length === 0)
    throw new ArgumentError(
      `loadModel: needs the directory that model.save(dir) wrote (holding ${MODEL_FILE}), got ${JSON.stringify(dir)}.`,
    );
  // The path of model.json itself is fine too (TensorFlow.js users give that).
  if (path.basename(dir) === MODEL_FILE) dir = path.dirname(dir);
  const jsonPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toIOError(e, 'loadModel', 'read', jsonPath);
    const isDir = await fs.stat(dir).then(
      (s) => s.isDirectory(),
      () => null,
    );
    throw new ModelFileError(
      isDir === null
        ? `loadModel: no ${MODEL_FILE} in '${dir}': the folder does not exist. Give the directory that model.save() or 'receptive train --out' wrote.`
        : `loadModel: no ${MODEL_FILE} in '${dir}'. Give the directory that model.save() or 'receptive train --out' wrote.`,
    );
  }
  let doc: ModelFile;
  try {
    doc = JSON.parse(text) as ModelFile;
  } catch {
    throw new ModelFileError(`loadModel: ${jsonPath} is not valid JSON; the file is corrupt.`);
  }
  if (
    typeof doc !== 'object' ||
    doc === null ||
    doc.format !== 'receptive-model' ||
    !doc.model?.config ||
    typeof doc.weights?.file !== 'string' ||
    typeof doc.weights.sha256 !== 'string'
  ) {
    throw new ModelFileError(
      `loadModel: ${jsonPath} is not a receptive model file (missing format, model or weights).`,
    );
  }
  const version: unknown = (doc as { version?: unknown }).version;
  if (version !== MODEL_FORMAT_VERSION) {
    throw new ModelFileError(
      `loadModel: ${jsonPath} has format version ${JSON.stringify(version) ?? '(none)'}, but this receptive reads version ${MODEL_FORMAT_VERSION}. ` +
        (typeof version === 'number' && version > MODEL_FORMAT_VERSION
          ? 'It was written by a newer receptive: upgrade receptive (npm install receptive@latest) to load it.'
          : 'The file is damaged or was not written by receptive; save the model again.'),
    );
  }
  let model: Layer;
  try {
    model = layerFromConfig({ className: doc.model.className, config: doc.model.config });
  } catch (e) {
    throw new ModelFileError(
      `loadModel: the topology in ${jsonPath} cannot be rebuilt: ${(e as Error).message}`,
    );
  }
  if (!(model instanceof Functional))
    throw new ModelFileError(`loadModel: ${jsonPath} holds a ${doc.model.className}, not a model.`);
  const wPath = path.join(dir, doc.weights.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(wPath));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw toIOError(e, 'loadModel', 'read', wPath);
    throw new ModelFileError(
      `loadModel: the weights file ${wPath} named in ${MODEL_FILE} is missing.`,
    );
  }
  const sha = await sha256Hex(bytes);
  if (sha !== doc.weights.sha256) {
    throw new ModelFileError(
      `loadModel: the weights file ${wPath} fails its checksum (sha256 ${sha.slice(0, 12)}…, expected ${doc.weights.sha256.slice(0, 12)}…); it is corrupt.`,
    );
  }
  let arrays: NamedArray[];
  try {
    arrays = decodeSafetensors(bytes, wPath).arrays;
  } catch (e) {
    throw e instanceof FormatError ? new ModelFileError(e.message) : e;
  }
  const main = arrays
    .filter((a) => !a.name.startsWith('extra:'))
    .sort((a, b) => Number.parseInt(a.name, 10) - Number.parseInt(b.name, 10));
  const weights = model.weights;
  // The topology and the weights disagree: name both files, so the user knows what to replace.
  if (main.length !== weights.length) {
    throw new ModelFileError(
      `loadModel: the model described by ${jsonPath} has ${weights.length} weights but the weights file ${wPath} holds ${main.length}; the two files do not belong together.`,
    );
  }
  weights.forEach((w, i) => {
    const a = main[i]!;
    const dtype = a.data instanceof Int32Array ? 'int32' : 'float32';
    if (
      a.shape.length !== w.shape.length ||
      a.shape.some((d, k) => d !== w.shape[k]) ||
      dtype !== 'float32'
    ) {
      throw new ModelFileError(
        `loadModel: weight ${i} (${w.name}) of the model described by ${jsonPath} has shape ${fmtShape(w.shape)} (float32) but the weights file ${wPath} holds ${fmtShape(a.shape)} (${dtype}, '${a.name}'); the two files do not belong together.`,
      );
    }
  });
  model.setWeights(main.map((a) => a.data as Float32Array));
  const extraWeights = new Map(
    arrays
      .filter((a) => a.name.startsWith('extra:'))
      .map((a) => [a.name.slice(6), a.data as Float32Array]),
  );
  // The registry builds configs of 'Functional' and 'Sequential' as rc.Model and rc.Sequential.
  return { model: model as Model, file: doc, extraWeights };
}

/** Loads a model saved by model.save(dir): predictions are bit for bit the same. */
export async function loadModel(dir: string): Promise<Model> {
  return (await loadModelFull(dir)).model;
}
