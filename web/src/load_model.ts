/**
 * Loads a model that `model.save(dir)` or `receptive train --out dir` wrote, over HTTP: model.json
 * (the topology as layer configs) and the safetensors file it names, checked against its SHA-256
 * where the page can compute one (crypto.subtle needs a secure context: https or localhost).
 * The same checks as rc.loadModel, with fetch instead of node:fs.
 */
import {
  decodeSafetensors,
  fmtShape,
  layerFromConfig,
  Model,
  type ModelFile,
  ReceptiveError,
} from './rc.js';

/** The model files are missing, corrupt, or do not belong together (rc.ModelFileError's twin). */
export class ModelFileError extends ReceptiveError {}

async function fetchOk(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFileError(
      `loadModelFromUrl: cannot fetch ${what} ${url}: ${(e as Error).message}`,
    );
  }
  if (!res.ok)
    throw new ModelFileError(`loadModelFromUrl: ${what} ${url} answered HTTP ${res.status}.`);
  return res;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** `baseUrl` is the folder holding model.json (ending in '/'), or the URL of model.json itself. */
export async function loadModelFromUrl(
  baseUrl: string,
): Promise<{ model: Model; file: ModelFile }> {
  const jsonUrl = baseUrl.endsWith('.json') ? baseUrl : new URL('model.json', baseUrl).href;
  const doc = (await (await fetchOk(jsonUrl, 'the model file')).json()) as ModelFile;
  if (
    doc?.format !== 'receptive-model' ||
    !doc.model?.config ||
    typeof doc.weights?.file !== 'string'
  )
    throw new ModelFileError(`loadModelFromUrl: ${jsonUrl} is not a receptive model file.`);
  const model = layerFromConfig({ className: doc.model.className, config: doc.model.config });
  if (!(model instanceof Model))
    throw new ModelFileError(
      `loadModelFromUrl: ${jsonUrl} holds a ${doc.model.className}, not a model.`,
    );
  const weightsUrl = new URL(doc.weights.file, jsonUrl).href;
  const bytes = new Uint8Array(await (await fetchOk(weightsUrl, 'the weights file')).arrayBuffer());
  const sha = await sha256Hex(bytes);
  if (sha !== null && sha !== doc.weights.sha256)
    throw new ModelFileError(
      `loadModelFromUrl: the weights file ${weightsUrl} fails its checksum (sha256 ${sha.slice(0, 12)}…, expected ${doc.weights.sha256.slice(0, 12)}…).`,
    );
  const arrays = decodeSafetensors(bytes, weightsUrl)
    .arrays.filter((a) => !a.name.startsWith('extra:'))
    .sort((a, b) => Number.parseInt(a.name, 10) - Number.parseInt(b.name, 10));
  const weights = model.weights;
  if (arrays.length !== weights.length)
    throw new ModelFileError(
      `loadModelFromUrl: ${jsonUrl} describes ${weights.length} weights but ${weightsUrl} holds ${arrays.length}.`,
    );
  weights.forEach((w, i) => {
    const a = arrays[i]!;
    if (!(a.data instanceof Float32Array) || a.shape.join() !== w.shape.join())
      throw new ModelFileError(
        `loadModelFromUrl: weight ${i} (${w.name}) has shape ${fmtShape(w.shape)} but ${weightsUrl} holds ${fmtShape(a.shape)} ('${a.name}').`,
      );
  });
  model.setWeights(arrays.map((a) => a.data as Float32Array));
  return { model, file: doc };
}
