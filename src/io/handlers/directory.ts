/**
 * Models in a directory of the file system (Node): model.json and the weights file it names
 * (a TensorFlow.js layers model's model.json is built whole, by import/tfjs_model.ts).
 * model.json is written last, so a crash at any moment leaves either the old or the new model,
 * complete: the commit point is the atomic rename of model.json.
 */

import { makeDir, readFileChecked, toIOError, writeFileAtomic } from '../files.js';
import {
  isTfjsModelJson,
  MODEL_FILE,
  ModelFileError,
  modelJsonText,
  parseModelFile,
} from '../model_format.js';
import {
  type ConvertedModel,
  hasScheme,
  type LoadModelOptions,
  type ModelIOHandler,
  type ReadModel,
} from '../router.js';

async function load(
  source: string,
  options: LoadModelOptions,
): Promise<ReadModel | ConvertedModel> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  // The path of model.json itself is fine too (TensorFlow.js users give that), and so is any
  // other .json file of a model (downloads://name saves name.json), unless it is a folder.
  const isDir = (p: string) =>
    fs.stat(p).then(
      (s) => s.isDirectory(),
      () => null,
    );
  const givenJson = /\.json$/i.test(source) && (await isDir(source)) !== true;
  const dir = givenJson ? path.dirname(source) : source;
  const jsonPath = givenJson ? source : path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toIOError(e, 'loadModel', 'read', jsonPath);
    const give = "Give the directory that model.save() or 'receptive train --out' wrote.";
    if (givenJson) throw new ModelFileError(`loadModel: '${jsonPath}' does not exist. ${give}`);
    throw new ModelFileError(
      (await isDir(dir)) === null
        ? `loadModel: no ${MODEL_FILE} in '${dir}': the folder does not exist. ${give}`
        : `loadModel: no ${MODEL_FILE} in '${dir}'. ${give}`,
    );
  }
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {} // parseModelFile says the file is corrupt
  if (isTfjsModelJson(json)) {
    // A TensorFlow.js model: built whole, its shards beside model.json.
    const { tfjsModelFromJson } = await import('../import/tfjs_model.js');
    options.onProgress?.(0);
    const converted = await tfjsModelFromJson(json, jsonPath, (shard) =>
      readFileChecked(path.join(dir, shard), 'loadModel'),
    );
    options.onProgress?.(1);
    return { converted, jsonName: jsonPath };
  }
  const parsed = parseModelFile(json, jsonPath);
  const wPath = path.join(dir, parsed.file.weights.file);
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await fs.readFile(wPath));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw toIOError(e, 'loadModel', 'read', wPath);
    throw new ModelFileError(
      `loadModel: the weights file ${wPath} named in ${path.basename(jsonPath)} is missing.`,
    );
  }
  return { ...parsed, weights, jsonName: jsonPath, weightsName: wPath };
}

export const directoryHandler: ModelIOHandler = {
  description: 'a directory path (model.json and its weights file)',
  matches: (target) => !hasScheme(target),
  load,
  async save(dir, { file, weights }, where) {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    await makeDir(dir, where);
    await writeFileAtomic(path.join(dir, file.weights.file), weights, where);
    await writeFileAtomic(path.join(dir, MODEL_FILE), modelJsonText(file), where);
    // Old weights files are no longer referenced; remove them. The model is saved by now, so a
    // failure here only leaves litter and is not worth an error.
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const f of names) {
      if (f !== file.weights.file && /^weights-[0-9a-f]+\.safetensors$/.test(f))
        await fs.rm(path.join(dir, f), { force: true }).catch(() => {});
      if (f.includes('.tmp-')) await fs.rm(path.join(dir, f), { force: true }).catch(() => {});
    }
  },
  async writeFile(target, bytes, where) {
    await writeFileAtomic(target, bytes, where);
  },
  async exists(dir) {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    return fs.stat(path.join(dir, MODEL_FILE)).then(
      () => true,
      () => false,
    );
  },
  async remove(dir) {
    const fs = await import('node:fs/promises');
    await fs.rm(dir, { recursive: true, force: true });
  },
};
