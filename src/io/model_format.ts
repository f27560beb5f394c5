/**
 * The saved form of a model, one home for every place a model is stored (a directory, a URL,
 * IndexedDB, the browser's downloads): model.json (the topology as layer configs) and a
 * safetensors file of the weights, named in model.json with its SHA-256. Bytes and text only
 * (no Buffer, no file system), so that the browser build uses the same code.
 */

import type { Model } from '../model/model.js';
import { Functional } from '../nn/functional.js';
import { type Layer, type LayerConfig, layerFromConfig } from '../nn/layer.js';
import { fmtShape, ReceptiveError } from '../util/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './safetensors.js';
import { sha256Hex } from './sha256.js';

/** The name of the file that describes a saved model (beside its weights file). */
export const MODEL_FILE = 'model.json';
/** The model.json format this receptive writes and reads. */
const MODEL_FORMAT_VERSION = 1;

/** model.json: what a saved model is, and where and what its weights are. */
export interface ModelFile {
  /** Always 'receptive-model': tells this file from other tools' model.json. */
  format: 'receptive-model';
  /** The version of this format (1). */
  version: 1;
  /** The model's topology: its class and its getConfig(). */
  model: {
    /** The registered class name ('Sequential', 'Functional'). */
    className: string;
    /** The constructor arguments, as getConfig() writes them. */
    config: LayerConfig;
  };
  /** The weights file (safetensors) and what it must hold. */
  weights: {
    /** Its name, beside model.json. */
    file: string;
    /** SHA-256 of its bytes, hex: a changed or truncated file is refused. */
    sha256: string;
    /** The weights' names in model order (`<layer>/<weight>`). */
    names: string[];
    /** Their shapes, in the same order. */
    shapes: number[][];
  };
  /** Free-form extra state (training checkpoints put the optimizer and epoch here). */
  extra?: Record<string, unknown>;
}

/** The model's files are missing, corrupt, or do not belong together. */
export class ModelFileError extends ReceptiveError {}

/** What model.save can keep beside the model: training state (BackupAndRestore uses it). */
export interface SaveOptions {
  /** Free-form JSON kept in model.json's `extra` (a checkpoint's epoch and optimizer settings). */
  extra?: Record<string, unknown>;
  /** Arrays kept in the weights file beside the model's own (an optimizer's moments). */
  extraWeights?: {
    /** A name not used by the model's weights. */
    name: string;
    /** The array's shape. */
    shape: number[];
    /** Its values, row-major. */
    data: Float32Array;
  }[];
}

/** A saved model in memory: model.json's record and the bytes of the weights file it names. */
export interface ModelArtifacts {
  file: ModelFile;
  weights: Uint8Array;
}

/** A model as rc.loadModel returns it, with its file record and the extra arrays saved with it. */
export interface LoadedModel {
  /** The model, its weights assigned. */
  model: Model;
  /** model.json as read. */
  file: ModelFile;
  /** Arrays saved beside the weights (SaveOptions.extraWeights; an optimizer's state), by name. */
  extraWeights: Map<string, Float32Array>;
}

/** The model's topology and weights as model.json's record and a safetensors file. */
export async function encodeModel(
  model: Functional,
  options: SaveOptions = {},
): Promise<ModelArtifacts> {
  const weights = model.weights;
  const arrays = weights.map((w, i) => ({
    name: `${i}:${w.name ?? 'weight'}`,
    shape: w.shape,
    data: w.dataSync() as Float32Array,
  }));
  const extraArrays = (options.extraWeights ?? []).map((a) => ({ ...a, name: `extra:${a.name}` }));
  const bytes = encodeSafetensors([...arrays, ...extraArrays], { format: 'receptive' });
  const sha = await sha256Hex(bytes);
  const file: ModelFile = {
    format: 'receptive-model',
    version: 1,
    model: { className: model.className, config: model.getConfig() },
    weights: {
      file: `weights-${sha.slice(0, 16)}.safetensors`,
      sha256: sha,
      names: weights.map((w) => w.name ?? ''),
      shapes: weights.map((w) => w.shape),
    },
    ...(options.extra ? { extra: options.extra } : {}),
  };
  return { file, weights: bytes };
}

/** model.json's text, as written beside the weights. */
export function modelJsonText(file: ModelFile): string {
  return JSON.stringify(file, null, 1);
}

/**
 * Whether a parsed model.json is a TensorFlow.js model (a layers or a graph model), which the
 * handlers build with import/tfjs_model.ts, rather than receptive's own (format
 * 'receptive-model').
 */
export function isTfjsModelJson(json: unknown): json is Record<string, unknown> {
  if (typeof json !== 'object' || json === null) return false;
  const j = json as Record<string, unknown>;
  return (
    j.format === 'layers-model' ||
    j.format === 'graph-model' ||
    (j.modelTopology !== undefined && Array.isArray(j.weightsManifest))
  );
}

/**
 * Checks model.json (given as text or as its parsed value) and rebuilds the topology, before
 * any weights are read: a wrong file fails fast, naming `jsonName` (its path or URL).
 */
export function parseModelFile(
  json: string | unknown,
  jsonName: string,
): { file: ModelFile; model: Functional } {
  let doc: ModelFile;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json) as ModelFile;
    } catch {
      throw new ModelFileError(`loadModel: ${jsonName} is not valid JSON; the file is corrupt.`);
    }
  } else doc = json as ModelFile;
  if (
    typeof doc !== 'object' ||
    doc === null ||
    doc.format !== 'receptive-model' ||
    !doc.model?.config ||
    typeof doc.weights?.file !== 'string' ||
    typeof doc.weights.sha256 !== 'string'
  ) {
    throw new ModelFileError(
      `loadModel: ${jsonName} is not a receptive model file (missing format, model or weights).`,
    );
  }
  const version: unknown = (doc as { version?: unknown }).version;
  if (version !== MODEL_FORMAT_VERSION) {
    throw new ModelFileError(
      `loadModel: ${jsonName} has format version ${JSON.stringify(version) ?? '(none)'}, but this receptive reads version ${MODEL_FORMAT_VERSION}. ` +
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
      `loadModel: the topology in ${jsonName} cannot be rebuilt: ${(e as Error).message}`,
    );
  }
  if (!(model instanceof Functional))
    throw new ModelFileError(`loadModel: ${jsonName} holds a ${doc.model.className}, not a model.`);
  return { file: doc, model };
}

/**
 * Checks the weights file against model.json (checksum, count, shapes) and puts its values into
 * the rebuilt model. The names (paths or URLs) are for the messages.
 */
export async function assignWeights(
  parsed: { file: ModelFile; model: Functional },
  bytes: Uint8Array,
  jsonName: string,
  weightsName: string,
): Promise<LoadedModel> {
  const { file: doc, model } = parsed;
  const sha = await sha256Hex(bytes);
  if (sha !== doc.weights.sha256) {
    throw new ModelFileError(
      `loadModel: the weights file ${weightsName} fails its checksum (sha256 ${sha.slice(0, 12)}…, expected ${doc.weights.sha256.slice(0, 12)}…); it is corrupt or incomplete.`,
    );
  }
  let arrays: NamedArray[];
  try {
    arrays = decodeSafetensors(bytes, weightsName).arrays;
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
      `loadModel: the model described by ${jsonName} has ${weights.length} weights but the weights file ${weightsName} holds ${main.length}; the two files do not belong together.`,
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
        `loadModel: weight ${i} (${w.name}) of the model described by ${jsonName} has shape ${fmtShape(w.shape)} (float32) but the weights file ${weightsName} holds ${fmtShape(a.shape)} (${dtype}, '${a.name}'); the two files do not belong together.`,
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
