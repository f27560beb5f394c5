/**
 * Keras weights files (HDF5), read with h5wasm (an optional dependency, loaded on first use).
 * Keras and receptive share layouts (HWIO kernels, [in, out] dense kernels, BatchNormalization's
 * gamma, beta, moving_mean, moving_variance), so values are copied as they are.
 *
 * - Keras 3 `.weights.h5` (`model.save_weights('x.weights.h5')`): `layers/<name>/vars/0, 1, ...`,
 *   where Keras names each layer by its class and rank among layers of that class in
 *   `model.layers` (conv2d, conv2d_1, ..., dense, batch_normalization ...). receptive walks its
 *   layers in the same order, so the Nth Conv2D takes the Nth conv2d's vars.
 * - Keras 2 `.h5` (`save_weights('x.h5')`, or a whole model saved as .h5, under `model_weights`):
 *   a group per layer *name* with its `weight_names`; matched by layer name.
 *
 * Shapes are checked; the first weight that does not fit is named with both shapes.
 */

import { Functional } from '../../nn/functional.js';
import type { Layer } from '../../nn/layer.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError } from '../../util/errors.js';
import { applyValues, type FoundArray, take, toFloat32, WeightsMismatchError } from './assign.js';
import { kerasClassOf } from './keras_config.js';
import { isLeaf } from './torch_names.js';

/** Options of {@link loadKerasWeights}. */
export interface LoadKerasOptions {
  /** Fail when the file holds weights for layers the model does not have (default true). */
  strict?: boolean;
}

/** The h5wasm module. */
export type H5 = typeof import('h5wasm');
type Group = InstanceType<H5['Group']>;
type Dataset = InstanceType<H5['Dataset']>;

/** h5wasm, ready to open files (an optional dependency: a clear error names it when absent). */
export async function h5wasm(): Promise<H5> {
  try {
    const mod = (await import('h5wasm/node')) as unknown as { default?: H5 } & H5;
    const h5 = mod.default ?? mod;
    await h5.ready;
    return h5;
  } catch (e) {
    throw new ArgumentError(
      `loadKerasWeights: reading HDF5 needs the h5wasm package (an optional dependency of receptive): npm install h5wasm. (${(e as Error).message})`,
    );
  }
}

/** Keras's to_snake_case of a class name: Conv2D → conv2d, BatchNormalization → batch_normalization. */
function snake(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function isGroup(h5: H5, e: unknown): e is Group {
  return e instanceof h5.Group;
}

function readDataset(ds: Dataset, source: string): FoundArray {
  const v = ds.value;
  if (v === null || typeof v !== 'object' || !('length' in v))
    throw new WeightsMismatchError(`loadKerasWeights: '${source}' is not a numeric array.`);
  return { source, shape: ds.shape ?? [], data: toFloat32(v as ArrayLike<number>) };
}

/** The layers that own weights, in model order; nested models are walked (Keras 3 nests them too). */
function weighted(model: Functional): Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/** Keras 3: layers/<class_k>/vars/<i>, by class rank. */
function loadKeras3(h5: H5, root: Group, model: Functional, where: string, strict: boolean) {
  const values = new Map<Tensor, Float32Array>();
  const pairs: [string, string][] = [];
  const used = new Set<string>();
  const walk = (m: Functional, prefix: string) => {
    const counts = new Map<string, number>();
    const layersGroup = root.get(`${prefix}layers`);
    const available = isGroup(h5, layersGroup) ? layersGroup.keys() : [];
    for (const layer of m.layers) {
      // A model built from a Keras config knows its Keras class (a Sequential is one too).
      const base = snake(kerasClassOf.get(layer) ?? layer.className);
      const k = counts.get(base) ?? 0;
      counts.set(base, k + 1);
      const key = k === 0 ? base : `${base}_${k}`;
      if (layer.weights.length === 0) continue;
      const path = `${prefix}layers/${key}`;
      if (layer instanceof Functional) {
        walk(layer, `${path}/`);
        continue;
      }
      if (!isLeaf(layer))
        throw new WeightsMismatchError(
          `loadKerasWeights: ${layer.label} has no Keras counterpart; load its weights another way (rc.loadTorchWeights, model.setWeights).`,
        );
      const vars = root.get(`${path}/vars`);
      if (!isGroup(h5, vars))
        throw new WeightsMismatchError(
          `loadKerasWeights: ${where} has no '${path}/vars' for ${layer.label} (Keras names layers by class and rank: the ${k + 1}. ${layer.className} is '${key}'). ` +
            `The file has: ${available.join(', ') || 'no layers'}.`,
        );
      used.add(path);
      const ws = layer.weights;
      const n = vars.keys().length;
      if (n !== ws.length)
        throw new WeightsMismatchError(
          `loadKerasWeights: '${path}/vars' holds ${n} arrays but ${layer.label} has ${ws.length} weights (${ws.map((w) => w.name).join(', ')}).`,
        );
      ws.forEach((w, i) => {
        const ds = vars.get(String(i));
        if (!(ds instanceof h5.Dataset))
          throw new WeightsMismatchError(`loadKerasWeights: '${path}/vars/${i}' is missing.`);
        take('loadKerasWeights', w, readDataset(ds, `${path}/vars/${i}`), values, pairs);
      });
    }
    if (strict) {
      const extra = available.filter((k) => {
        const vars = root.get(`${prefix}layers/${k}/vars`);
        return isGroup(h5, vars) && vars.keys().length > 0 && !used.has(`${prefix}layers/${k}`);
      });
      if (extra.length)
        throw new WeightsMismatchError(
          `loadKerasWeights: ${where} has weights for layers the model does not use: ${extra.map((k) => `${prefix}layers/${k}`).join(', ')}. Pass { strict: false } to ignore them.`,
        );
    }
  };
  walk(model, '');
  return { values, pairs };
}

function stringList(v: unknown): string[] {
  if (Array.isArray(v))
    return v.map((x) => (typeof x === 'string' ? x : new TextDecoder().decode(x as Uint8Array)));
  if (typeof v === 'string') return [v];
  return [];
}

/** Keras 2: a group per layer name, its attribute weight_names. */
function loadKeras2(h5: H5, root: Group, model: Functional, where: string, strict: boolean) {
  const values = new Map<Tensor, Float32Array>();
  const pairs: [string, string][] = [];
  const names = stringList(root.attrs.layer_names?.value);
  const withWeights = names.filter((n) => {
    const g = root.get(n);
    return isGroup(h5, g) && stringList(g.attrs.weight_names?.value).length > 0;
  });
  const layers = weighted(model);
  for (const layer of layers) {
    const g = root.get(layer.name);
    if (!isGroup(h5, g))
      throw new WeightsMismatchError(
        `loadKerasWeights: ${where} has no layer '${layer.name}' for ${layer.label}. Keras 2 files match layers by name; the file has: ${withWeights.join(', ') || 'none'}.`,
      );
    const wn = stringList(g.attrs.weight_names?.value);
    const ws = layer.weights;
    if (wn.length !== ws.length)
      throw new WeightsMismatchError(
        `loadKerasWeights: layer '${layer.name}' in ${where} has ${wn.length} weights (${wn.join(', ')}) but ${layer.label} has ${ws.length} (${ws.map((w) => w.name).join(', ')}).`,
      );
    // By name where the names line up: a nested model lists its trainable weights first (Keras's
    // order), receptive layer by layer. Else in order, as Keras wrote them.
    const stripped = wn.map((n) => n.replace(/:\d+$/, ''));
    const byName = ws.map((w) =>
      stripped.findIndex((n) => n === w.name || n.endsWith(`/${w.name}`)),
    );
    const named = new Set(byName).size === ws.length && !byName.includes(-1);
    ws.forEach((w, k) => {
      const i = named ? byName[k]! : k;
      const ds = g.get(wn[i]!);
      if (!(ds instanceof h5.Dataset))
        throw new WeightsMismatchError(
          `loadKerasWeights: '${layer.name}/${wn[i]}' is missing in ${where}.`,
        );
      take('loadKerasWeights', w, readDataset(ds, `${layer.name}/${wn[i]}`), values, pairs);
    });
  }
  const mine = new Set(layers.map((l) => l.name));
  const extra = withWeights.filter((n) => !mine.has(n));
  if (strict && extra.length)
    throw new WeightsMismatchError(
      `loadKerasWeights: ${where} has weights for layers the model does not have: ${extra.join(', ')}. Pass { strict: false } to ignore them.`,
    );
  return { values, pairs };
}

/** HDF5's 8-byte signature, at offset 0 or after a user block of 512, 1024, 2048 ... bytes. */
export async function hasHdf5Signature(path: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  const { toIOError } = await import('../files.js');
  const handle = await fs.open(path, 'r').catch((e: unknown) => {
    throw toIOError(e, 'loadKerasWeights', 'read', path);
  });
  try {
    const size = (await handle.stat()).size;
    const buf = new Uint8Array(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      await handle.read(buf, 0, 8, at);
      if (sig.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    await handle.close();
  }
}

/**
 * Loads a Keras weights file (path, or the file's bytes) into a model of the same architecture.
 * Returns the pairs (path in the file, receptive weight name).
 */
export async function loadKerasWeights(
  model: Functional,
  source: Uint8Array | string,
  options: LoadKerasOptions = {},
): Promise<[string, string][]> {
  if (!(model instanceof Functional))
    throw new ArgumentError('loadKerasWeights: expects a receptive Model or Sequential.');
  if (model.weights.length === 0)
    throw new ArgumentError(
      `loadKerasWeights: ${model.label} has no weights yet; build it first (give the first layer an inputShape).`,
    );
  const h5 = await h5wasm();
  const fs = await import('node:fs/promises');
  let path: string;
  let cleanup = async () => {};
  if (typeof source === 'string') {
    path = source;
  } else if (source instanceof Uint8Array) {
    const os = await import('node:os');
    const p = await import('node:path');
    const { toIOError } = await import('../files.js');
    // h5wasm reads files, so the bytes go to a temporary one (removed even when writing fails).
    const dir = await fs.mkdtemp(p.join(os.tmpdir(), 'receptive-h5-')).catch((e: unknown) => {
      throw toIOError(e, 'loadKerasWeights', 'write', os.tmpdir());
    });
    path = p.join(dir, 'weights.h5');
    cleanup = () => fs.rm(dir, { recursive: true, force: true });
    await fs.writeFile(path, source).catch(async (e: unknown) => {
      await cleanup();
      throw toIOError(e, 'loadKerasWeights', 'write', os.tmpdir());
    });
  } else throw new ArgumentError('loadKerasWeights: give the file path or its bytes (Uint8Array).');
  const where = typeof source === 'string' ? source : 'the HDF5 bytes';
  let file: InstanceType<H5['File']> | null = null;
  try {
    if (!(await hasHdf5Signature(path)))
      throw new WeightsMismatchError(
        `loadKerasWeights: ${where} is not an HDF5 file (no HDF5 signature).`,
      );
    file = new h5.File(path, 'r');
    if (file.file_id < 0n) {
      file = null;
      throw new WeightsMismatchError(`loadKerasWeights: ${where} is not a readable HDF5 file.`);
    }
    const top = file.get('model_weights');
    const root: Group = isGroup(h5, top) ? top : file;
    const strict = options.strict ?? true;
    let found: { values: Map<Tensor, Float32Array>; pairs: [string, string][] };
    if (root.attrs.layer_names) found = loadKeras2(h5, root, model, where, strict);
    else if (isGroup(h5, root.get('layers'))) found = loadKeras3(h5, root, model, where, strict);
    else
      throw new WeightsMismatchError(
        `loadKerasWeights: ${where} is HDF5 but not a Keras weights file (no 'layers' group as Keras 3 writes, no 'layer_names' attribute as Keras 2 writes).`,
      );
    applyValues(model, found.values);
    return found.pairs;
  } finally {
    file?.close();
    await cleanup();
  }
}
