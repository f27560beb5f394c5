/**
 * Models in a directory of the file system (Node): model.json and the weights file it names.
 * model.json is written last, so a crash at any moment leaves either the old or the new model,
 * complete: the commit point is the atomic rename of model.json.
 */

import { makeDir, toIOError, writeFileAtomic } from '../files.js';
import { MODEL_FILE, ModelFileError, modelJsonText, parseModelFile } from '../model_format.js';
import { hasScheme, type ModelIOHandler, type ReadModel } from '../router.js';

async function load(source: string): Promise<ReadModel> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let dir = source;
  let jsonPath = path.join(dir, MODEL_FILE);
  // The path of model.json itself is fine too (TensorFlow.js users give that), and so is any
  // other .json file of a model (downloads://name saves name.json).
  if (path.basename(source) === MODEL_FILE || /\.json$/i.test(source)) {
    const isFile = await fs.stat(source).then(
      (s) => s.isFile(),
      () => path.basename(source) === MODEL_FILE,
    );
    if (isFile) {
      dir = path.dirname(source);
      jsonPath = source;
    }
  }
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
  const parsed = parseModelFile(text, jsonPath);
  const wPath = path.join(dir, parsed.file.weights.file);
  let weights: Uint8Array;
  try {
    weights = new Uint8Array(await fs.readFile(wPath));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw toIOError(e, 'loadModel', 'read', wPath);
    throw new ModelFileError(
      `loadModel: the weights file ${wPath} named in ${MODEL_FILE} is missing.`,
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
