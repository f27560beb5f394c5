/**
 * TensorFlow.js weights as a model.json's weightsManifest describes them: the specs, the shard
 * bytes decoded (float32, int32, and the converter's uint8 / uint16 / float16 quantization), and
 * their assignment to a model by name. No file system here: the browser's http loader uses it.
 */
import type { Functional } from '../../nn/functional.js';
import type { Tensor } from '../../tensor.js';
import { halfToFloat } from '../safetensors.js';
import { applyValues, type FoundArray, take, WeightsMismatchError } from './assign.js';

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
