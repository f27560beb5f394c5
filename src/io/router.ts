/**
 * Where models are saved and loaded from: model.save(target) and rc.loadModel(source) hand the
 * target to the first registered handler that takes it (a directory, an http(s) URL,
 * 'indexeddb://name', 'downloads://name'). The entries register what their platform has
 * (src/io/handlers/node.ts, src/io/handlers/browser.ts), so this module and everything it
 * imports stay free of Node: a browser bundle of the shared API carries no file system.
 * The serialization itself (model.json and the weights bytes) is model_format.ts's.
 */

import type { Model } from '../model/model.js';
import type { Functional } from '../nn/functional.js';
import { ArgumentError, IOError } from '../util/errors.js';
import {
  assignWeights,
  encodeModel,
  type LoadedModel,
  type ModelFile,
  ModelFileError,
  type SaveOptions,
} from './model_format.js';

/** Options of rc.loadModel. */
export interface LoadModelOptions {
  /**
   * Called with the fraction of the model read so far (0 to 1, never decreasing, 1 at the
   * end); by bytes where the size is known in advance (an http Content-Length).
   */
  onProgress?: (fraction: number) => void;
}

/** A model as a handler read it, before its weights are checked and assigned. */
export interface ReadModel {
  file: ModelFile;
  /** The topology, rebuilt from model.json (model_format.ts's parseModelFile). */
  model: Functional;
  weights: Uint8Array;
  /** Where model.json and the weights came from (a path, a URL, a key), for messages. */
  jsonName: string;
  weightsName: string;
}

/**
 * A model.json that is not receptive's but another library's (a TensorFlow.js layers model),
 * built whole by the handler that read it.
 */
export interface ConvertedModel {
  /** The model, its weights loaded. */
  converted: Model;
  /** Where its model.json came from, for messages. */
  jsonName: string;
}

/** One kind of place a model can be kept. Each operation is optional. */
export interface ModelIOHandler {
  /** How a user writes such a target, for messages: "'indexeddb://name'". */
  readonly description: string;
  /** Whether `target` is this handler's (by its scheme, or the absence of one). */
  matches(target: string): boolean;
  load?(source: string, options: LoadModelOptions): Promise<ReadModel | ConvertedModel>;
  save?(
    target: string,
    model: { file: ModelFile; weights: Uint8Array },
    where: string,
  ): Promise<void>;
  /** Writes one file of bytes (model.exportOnnx). */
  writeFile?(target: string, bytes: Uint8Array, where: string): Promise<void>;
  /** Whether a saved model is there (BackupAndRestore asks). */
  exists?(target: string): Promise<boolean>;
  /** Removes a saved model (BackupAndRestore's backup, once training completed). */
  remove?(target: string): Promise<void>;
  /**
   * Reads a model kept in another format, told by its name (an .onnx or .keras file), converted
   * whole (rc.loadModel only).
   */
  convert?(source: string, options: LoadModelOptions): Promise<Model>;
}

type Operation = 'load' | 'save' | 'writeFile' | 'exists' | 'remove';

const handlers: ModelIOHandler[] = [];

/** Makes a kind of model storage available (the entries call it; a handler is added once). */
export function registerModelIOHandler(handler: ModelIOHandler): void {
  if (!handlers.includes(handler)) handlers.push(handler);
}

/** True for 'scheme://...': URLs and the storage schemes, as opposed to file-system paths. */
export function hasScheme(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
}

function handlerFor<K extends Operation>(
  target: unknown,
  op: K,
  where: string,
  what: string,
): ModelIOHandler & Required<Pick<ModelIOHandler, K>> {
  if (typeof target !== 'string' || target.length === 0)
    throw new ArgumentError(
      `${where}: needs ${what}, got ${target === '' ? "''" : String(target)}.`,
    );
  if (handlers.length === 0)
    throw new IOError(
      `${where}: no place to keep models is registered. Import receptive through its entry (Node's or the browser's), which registers them.`,
    );
  const able = handlers.filter((h) => h[op] !== undefined);
  const found = able.find((h) => h.matches(target));
  if (found) return found as ModelIOHandler & Required<Pick<ModelIOHandler, K>>;
  const supported = able.map((h) => h.description).join(', ') || 'nothing';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1];
  const kind = !scheme
    ? 'file-system paths are not supported here (no file system: this is the browser build)'
    : /^(indexeddb|downloads)$/i.test(scheme)
      ? `'${scheme}://' needs a browser (this is Node.js)`
      : `'${scheme}://' targets are not supported here`;
  throw new IOError(`${where}: cannot use '${target}': ${kind}. Supported here: ${supported}.`);
}

function checkProgress(onProgress: unknown): void {
  if (onProgress !== undefined && typeof onProgress !== 'function')
    throw new ArgumentError(
      `loadModel: onProgress must be a function (fraction) => void, got ${typeof onProgress}.`,
    );
}

/** What the handler of `source` reads there: a receptive model, or one it converted. */
async function readModel(
  source: string,
  options: LoadModelOptions,
): Promise<ReadModel | ConvertedModel> {
  const what =
    "a saved model: a directory or its model.json, an http(s) URL, or 'indexeddb://name'";
  const handler = handlerFor(source, 'load', 'loadModel', what);
  checkProgress(options.onProgress);
  return handler.load(source, options);
}

/** Reads a model and what was saved with it (extra state, extra arrays). */
export async function loadModelFull(
  source: string,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const read = await readModel(source, options);
  if ('converted' in read)
    throw new ModelFileError(
      `loadModel: ${read.jsonName} is a TensorFlow.js model, not one that model.save wrote: it has no saved state to resume from. Load it with rc.loadModel.`,
    );
  return assignWeights(read, read.weights, read.jsonName, read.weightsName);
}

/**
 * Loads a model that model.save wrote: from a directory (or its model.json) in Node, an
 * http(s) URL of model.json or of its folder, or 'indexeddb://name' in the browser. The
 * predictions are bit for bit those of the saved model. It also builds a TensorFlow.js layers
 * model (its model.json, by path or URL, and weight shards), and in Node reads a `.onnx` file
 * (as rc.importOnnx does, NHWC input) and Keras `.keras` (Keras 3) and `.h5` (Keras 2) files.
 */
export async function loadModel(source: string, options?: LoadModelOptions): Promise<Model> {
  const converter =
    typeof source === 'string' ? handlers.find((h) => h.convert && h.matches(source)) : undefined;
  if (converter?.convert) {
    checkProgress(options?.onProgress);
    return converter.convert(source, options ?? {});
  }
  const read = await readModel(source, options ?? {});
  if ('converted' in read) return read.converted;
  return (await assignWeights(read, read.weights, read.jsonName, read.weightsName)).model;
}

/** model.save's work: the model's files, to wherever `target` says. */
export async function saveModelTo(
  model: Functional,
  target: string,
  options: SaveOptions = {},
): Promise<void> {
  const where = `${model.label}.save`;
  const handler = handlerFor(
    target,
    'save',
    where,
    "a directory path, 'indexeddb://name' or 'downloads://name'",
  );
  await handler.save(target, await encodeModel(model, options), where);
}

/** Writes one file of bytes to `target` (a path in Node, 'downloads://name' in the browser). */
export async function writeModelBytes(
  target: string,
  bytes: Uint8Array,
  where: string,
  what: string,
): Promise<void> {
  await handlerFor(target, 'writeFile', where, what).writeFile(target, bytes, where);
}

/** Whether a saved model is at `target`. */
export async function savedModelExists(target: string, where: string): Promise<boolean> {
  return handlerFor(target, 'exists', where, 'a place for the saved model').exists(target);
}

/** Removes the saved model at `target` (nothing happens when there is none). */
export async function removeSavedModel(target: string, where: string): Promise<void> {
  await handlerFor(target, 'remove', where, 'a place for the saved model').remove(target);
}
