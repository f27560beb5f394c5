/**
 * TensorFlow.js Layers models: model.json (its weightsManifest) and the binary shards, or the
 * artifacts tf.io save handlers receive ({ weightSpecs, weightData }). Weight names are
 * `<layer name>/<weight name>` (conv2d/kernel, batch_normalization/moving_mean), as receptive
 * names its weights, and the layouts are Keras's, so weights match by name and load as they are.
 * float32 and int32 values, and the converter's quantization (uint8, uint16, float16), are read.
 */
import { Functional } from '../../nn/functional.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, IOError } from '../../util/errors.js';
import { halfToFloat } from '../safetensors.js';
import { applyValues, type FoundArray, take, WeightsMismatchError } from './assign.js';

/** One entry of a weights manifest (tfjs's WeightsManifestEntry). */
/** One entry of a model.json's weightsManifest: a weight's name, shape and storage. */
export interface TfjsWeightSpec {
  /** `<layer>/<weight>`, e.g. `conv2d/kernel`. */
  name: string;
  /** Its shape (Keras's layouts, which are receptive's). */
  shape: number[];
  /** How the values are stored. */
  dtype: 'float32' | 'int32' | 'bool' | string;
  /** The converter's quantization, undone on load. */
  quantization?: {
    /** The stored type. */
    dtype: 'uint8' | 'uint16' | 'float16';
    /** value = stored · scale + min (uint8, uint16). */
    scale?: number;
    /** See scale. */
    min?: number;
  };
}

/** In-memory artifacts: what tf.io.withSaveHandler passes, or a parsed model.json with its shard bytes. */
export interface TfjsArtifacts {
  /** The weights' names, shapes and storage, in the order of weightData. */
  weightSpecs: TfjsWeightSpec[];
  /** The concatenated shards (in manifest order). */
  weightData: ArrayBuffer | Uint8Array | (ArrayBuffer | Uint8Array)[];
}

/** Options of {@link loadTfjsWeights}. */
export interface LoadTfjsOptions {
  /** Fail when the file holds weights the model does not use (default true). */
  strict?: boolean;
}

const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Splits the weight bytes by the specs into float32 arrays. */
export function decodeTfjsWeights(artifacts: TfjsArtifacts, where = 'tfjs weights'): FoundArray[] {
  const parts = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const bytes = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    bytes.set(p instanceof Uint8Array ? p : new Uint8Array(p), pos);
    pos += p.byteLength;
  }
  const view = new DataView(bytes.buffer);
  const out: FoundArray[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const n = spec.shape.reduce((a, d) => a * d, 1);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    const width = BYTES[stored];
    if (width === undefined)
      throw new WeightsMismatchError(
        `${where}: weight '${spec.name}' has dtype ${stored}, which receptive does not read.`,
      );
    if (offset + n * width > total)
      throw new WeightsMismatchError(
        `${where}: the weight data ends before '${spec.name}' (needs ${n * width} bytes at ${offset}, the shards hold ${total}); a shard is missing or truncated.`,
      );
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const at = offset + i * width;
      let v: number;
      switch (stored) {
        case 'float32':
          v = view.getFloat32(at, true);
          break;
        case 'int32':
          v = view.getInt32(at, true);
          break;
        case 'bool':
        case 'uint8':
          v = view.getUint8(at);
          break;
        case 'uint16':
          v = view.getUint16(at, true);
          break;
        default:
          v = halfToFloat(view.getUint16(at, true));
      }
      data[i] = q && q.dtype !== 'float16' ? v * (q.scale ?? 1) + (q.min ?? 0) : v;
    }
    out.push({ source: spec.name, shape: spec.shape, data });
    offset += n * width;
  }
  return out;
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

/**
 * The weights of `artifacts` into `model`, by name; `op` and `where` (the file) start the
 * messages. Returns the pairs (tfjs name, receptive weight name).
 */
export function assignTfjsWeights(
  model: Functional,
  artifacts: TfjsArtifacts,
  op: string,
  where: string,
  strict: boolean,
): [string, string][] {
  const arrays = decodeTfjsWeights(artifacts, `${op}: ${where}`);
  const byName = new Map(arrays.map((a) => [a.source, a]));
  const values = new Map<Tensor, Float32Array>();
  const pairs: [string, string][] = [];
  const used = new Set<string>();
  for (const w of model.weights) {
    const name = w.name ?? '';
    let a = byName.get(name);
    if (!a) {
      // Names inside nested models may carry the outer model's name: match the ending.
      const ends = arrays.filter((x) => x.source.endsWith(`/${name}`) && !used.has(x.source));
      if (ends.length === 1) a = ends[0];
    }
    if (!a) {
      const layer = name.slice(0, name.lastIndexOf('/'));
      const near = arrays.filter((x) => !used.has(x.source)).map((x) => x.source);
      throw new WeightsMismatchError(
        `${op}: ${where} has no weight '${name}' (layer '${layer}'). ${op === 'loadTfjsWeights' ? 'TensorFlow.js weights match by layer name; give the layers the same names.' : 'The weightsManifest lacks it: model.json and its shards do not belong together.'} ` +
          `Unused weights in the file: ${near.slice(0, 6).join(', ')}${near.length > 6 ? ', ...' : ''}.`,
      );
    }
    used.add(a.source);
    take(op, w, a, values, pairs);
  }
  const extra = arrays.filter((a) => !used.has(a.source));
  if (strict && extra.length)
    throw new WeightsMismatchError(
      `${op}: ${where} has weights the model does not use: ${extra
        .slice(0, 5)
        .map((a) => a.source)
        .join(', ')}. Pass { strict: false } to ignore them.`,
    );
  applyValues(model, values);
  return pairs;
}
