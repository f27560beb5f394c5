/**
 * Keras model files, whole (Node): a Keras 3 `.keras` file is a zip of config.json (the model
 * config), model.weights.h5 (the weights, by layer class and rank) and metadata.json (the
 * Keras version); a Keras 2 `.h5` file holds the config in its `model_config` attribute and the
 * weights under `model_weights` (by layer name). Both configs are built by keras_config.ts and
 * the weights loaded by keras.ts. The zip is read with adm-zip, the HDF5 with h5wasm.
 */

import type { Model } from '../../model/model.js';
import { KerasImportError } from '../../util/errors.js';
import { importPackages } from '../../util/optional_packages.js';
import { readFileChecked } from '../files.js';
import { h5wasm, hasHdf5Signature, loadKerasWeights } from './keras.js';
import { modelFromKerasConfig } from './keras_config.js';

type Json = Record<string, unknown>;

interface ZipEntry {
  entryName: string;
  getData(): Buffer;
}
interface Zip {
  getEntries(): ZipEntry[];
}

function parseJson(text: string, what: string, where: string): Json {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null) return v as Json;
  } catch {}
  throw new KerasImportError(`${where}: ${what} is not valid JSON; the file is damaged.`);
}

/** A Keras 3 `.keras` file: its config built, its weights loaded. */
export async function loadKerasFile(path: string): Promise<Model> {
  const bytes = await readFileChecked(path, 'loadModel');
  const [mod] = await importPackages('loadModel', 'reading a .keras file (a zip)', ['adm-zip']);
  const AdmZip = ((mod as { default?: unknown }).default ?? mod) as new (b: Buffer) => Zip;
  let entries: ZipEntry[];
  try {
    entries = new AdmZip(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ).getEntries();
  } catch (e) {
    throw new KerasImportError(
      `${path}: is not a .keras file: it is not a readable zip (${(e as Error).message}).`,
    );
  }
  const entry = (name: string) => entries.find((e) => e.entryName === name);
  const config = entry('config.json');
  const weights = entry('model.weights.h5');
  if (!config)
    throw new KerasImportError(
      `${path}: the zip has no config.json, so it is not a Keras 3 .keras file (it holds: ${entries
        .slice(0, 8)
        .map((e) => e.entryName)
        .join(', ')}).`,
    );
  const meta = entry('metadata.json');
  const version = meta
    ? String(parseJson(meta.getData().toString('utf8'), 'metadata.json', path).keras_version ?? '')
    : '';
  if (version && !/^3\./.test(version))
    throw new KerasImportError(
      `${path}: metadata.json says Keras ${version}; .keras files are Keras 3's format.`,
    );
  const model = modelFromKerasConfig(
    parseJson(config.getData().toString('utf8'), 'config.json', path),
    { where: path, keras3: true },
  );
  if (model.weights.length > 0) {
    if (!weights)
      throw new KerasImportError(
        `${path}: the zip has no model.weights.h5 for the model's weights.`,
      );
    await loadKerasWeights(model, new Uint8Array(weights.getData()));
  }
  return model;
}

/** A Keras 2 full-model `.h5` file (model.save('x.h5')): model_config and model_weights. */
export async function loadKerasH5(path: string): Promise<Model> {
  await readFileChecked(path, 'loadModel').then(() => undefined); // a clear IOError when unreadable
  if (!(await hasHdf5Signature(path)))
    throw new KerasImportError(`${path}: is not an HDF5 file (no HDF5 signature).`);
  const h5 = await h5wasm();
  const file = new h5.File(path, 'r');
  let text: string;
  let version: string;
  try {
    if (file.file_id < 0n) throw new KerasImportError(`${path}: is not a readable HDF5 file.`);
    const asText = (v: unknown) =>
      typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : '';
    text = asText(file.attrs.model_config?.value);
    version = asText(file.attrs.keras_version?.value);
  } finally {
    file.close();
  }
  if (!text)
    throw new KerasImportError(
      `${path}: has no model_config attribute: it holds weights only (model.save_weights). Build the architecture and use rc.loadKerasWeights, or save the whole model (model.save('model.h5')).`,
    );
  const model = modelFromKerasConfig(parseJson(text, 'model_config', path), {
    where: path,
    keras3: /^3\./.test(version),
  });
  if (model.weights.length > 0) await loadKerasWeights(model, path);
  return model;
}
