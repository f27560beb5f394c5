/**
 * PyTorch weights in safetensors files, both ways. `exportTorchWeights(model)` writes every
 * weight under PyTorch's name and in PyTorch's layout (OIHW convolutions, [out, in] linear
 * layers, BatchNorm weight/bias/running_mean/running_var/num_batches_tracked), so that
 * `model.load_state_dict(safetensors.torch.load_file(path))` loads it into the same
 * architecture written in PyTorch; `loadTorchWeights(model, file)` reads such a file (from
 * torchvision's state_dict for the zoo networks) into a receptive model. The round trip is
 * bit-exact: layouts are permutations.
 */

import { Functional } from '../../nn/functional.js';
import type { Layer } from '../../nn/layer.js';
import {
  Conv2D,
  Conv2DTranspose,
  DepthwiseConv2D,
  SeparableConv2D,
  SpatialSeparableConv2D,
} from '../../nn/layers/conv.js';
import { Dense } from '../../nn/layers/core.js';
import { BatchNormalization } from '../../nn/layers/normalization.js';
import { OctaveConv2D } from '../../nn/layers/octave.js';
import type { Tensor } from '../../tensor.js';
import { ArgumentError, fmtShape } from '../../util/errors.js';
import {
  DEPTHWISE_PERM,
  denseAfterFlattenFromTorch,
  denseAfterFlattenToTorch,
  HWIO_TO_OIHW,
  OIHW_TO_HWIO,
  permute,
  permutedShape,
} from '../layouts.js';
import { decodeSafetensors, type EncodableArray, encodeSafetensors } from '../safetensors.js';
import { WeightsMismatchError } from './assign.js';
import { type TorchNameMap, type TorchUnit, torchUnits } from './torch_names.js';

/** Options of {@link exportTorchWeights} and {@link torchWeightNames}. */
export interface TorchWeightsOptions {
  /** Receptive layer name → PyTorch module path (e.g. { stem_conv: 'conv1' }), or a function of (name, default path). */
  nameMap?: TorchNameMap;
}

/** One PyTorch tensor of a layer: its name and shape, and how it maps onto a receptive weight. */
export interface TorchTensor {
  name: string;
  shape: number[];
  /** The receptive weight (null for num_batches_tracked, which receptive does not keep). */
  weight: Tensor | null;
  toTorch(data: Float32Array): Float32Array;
  fromTorch(data: Float32Array): Float32Array;
}

const same = (d: Float32Array) => d;

function convTensor(name: string, w: Tensor): TorchTensor {
  return {
    name,
    shape: permutedShape(w.shape, HWIO_TO_OIHW),
    weight: w,
    toTorch: (d) => permute(d, w.shape, HWIO_TO_OIHW),
    fromTorch: (d) => permute(d, permutedShape(w.shape, HWIO_TO_OIHW), OIHW_TO_HWIO),
  };
}

function depthwiseTensor(name: string, w: Tensor): TorchTensor {
  const [kh, kw, c, m] = w.shape as [number, number, number, number];
  return {
    name,
    shape: [c * m, 1, kh, kw],
    weight: w,
    toTorch: (d) => permute(d, w.shape, DEPTHWISE_PERM),
    fromTorch: (d) => permute(d, [c, m, kh, kw], DEPTHWISE_PERM),
  };
}

function vectorTensor(name: string, w: Tensor): TorchTensor {
  return { name, shape: [...w.shape], weight: w, toTorch: same, fromTorch: same };
}

function biasTensors(prefix: string, b: Tensor | null): TorchTensor[] {
  return b ? [vectorTensor(`${prefix}.bias`, b)] : [];
}

/** The PyTorch tensors of one layer, in state_dict order. */
export function torchTensorsOf(unit: TorchUnit): TorchTensor[] {
  const { layer: l, prefix: p } = unit;
  if (l instanceof Conv2D || l instanceof Conv2DTranspose)
    // Transposed kernels [kh, kw, out, in] → [in, out, kh, kw]: the same permutation.
    return [convTensor(`${p}.weight`, l.kernel), ...biasTensors(p, l.bias)];
  if (l instanceof DepthwiseConv2D)
    return [depthwiseTensor(`${p}.weight`, l.kernel), ...biasTensors(p, l.bias)];
  if (l instanceof SeparableConv2D)
    return [
      depthwiseTensor(`${p}.depthwise.weight`, l.depthwiseKernel),
      convTensor(`${p}.pointwise.weight`, l.pointwiseKernel),
      ...biasTensors(`${p}.pointwise`, l.bias),
    ];
  if (l instanceof SpatialSeparableConv2D)
    return [
      convTensor(`${p}.vertical.weight`, l.kernelV),
      convTensor(`${p}.horizontal.weight`, l.kernelH),
      ...biasTensors(`${p}.horizontal`, l.bias),
    ];
  if (l instanceof OctaveConv2D) {
    const [fromHigh, fromLow] = l.output === 'high' ? ['h2h', 'l2h'] : ['h2l', 'l2l'];
    return [
      convTensor(`${p}.${fromHigh}.weight`, l.kernelFromHigh!),
      ...(l.kernelFromLow ? [convTensor(`${p}.${fromLow}.weight`, l.kernelFromLow)] : []),
      ...biasTensors(p, l.bias),
    ];
  }
  if (l instanceof Dense) {
    const [inDim, out] = l.kernel.shape as [number, number];
    const f = unit.flattenFrom;
    const weight: TorchTensor = {
      name: `${p}.weight`,
      shape: [out, inDim],
      weight: l.kernel,
      toTorch: (d) => (f ? denseAfterFlattenToTorch(d, f, out) : permute(d, [inDim, out], [1, 0])),
      fromTorch: (d) =>
        f ? denseAfterFlattenFromTorch(d, f, out) : permute(d, [out, inDim], [1, 0]),
    };
    return [weight, ...biasTensors(p, l.bias)];
  }
  if (l instanceof BatchNormalization) {
    const ts: TorchTensor[] = [];
    // PyTorch's affine BatchNorm has both weight and bias; receptive may learn either alone.
    if (l.scale || l.center)
      ts.push(vectorTensor(`${p}.weight`, l.gamma), vectorTensor(`${p}.bias`, l.beta));
    ts.push(
      vectorTensor(`${p}.running_mean`, l.movingMean),
      vectorTensor(`${p}.running_var`, l.movingVariance),
    );
    ts.push({
      name: `${p}.num_batches_tracked`,
      shape: [],
      weight: null,
      toTorch: same,
      fromTorch: same,
    });
    return ts;
  }
  throw new ArgumentError(`torch weights: ${(l as Layer).label} has no PyTorch mapping.`);
}

/** Every PyTorch tensor name and shape the model maps to, in order (PyTorch's state_dict keys). */
export function torchWeightNames(
  model: Functional,
  options: TorchWeightsOptions = {},
): {
  /** The PyTorch state_dict key (`layer1.0.conv1.weight`). */
  name: string;
  /** The PyTorch shape (OIHW for convolutions). */
  shape: number[];
}[] {
  checkModel(model, 'torchWeightNames');
  return torchUnits(model, options.nameMap).flatMap((u) =>
    torchTensorsOf(u).map(({ name, shape }) => ({ name, shape })),
  );
}

function checkModel(model: Functional, where: string): void {
  if (!(model instanceof Functional))
    throw new ArgumentError(`${where}: expects a receptive Model or Sequential.`);
  if (!model.built || model.weights.length === 0)
    throw new ArgumentError(
      `${where}: ${model.label} has no weights yet; build it first (give the first layer an inputShape, or call it on data).`,
    );
}

/** The model's weights as a safetensors file with PyTorch's names and layouts (metadata format 'pt'). */
export function exportTorchWeights(
  model: Functional,
  options: TorchWeightsOptions = {},
): Uint8Array {
  checkModel(model, 'exportTorchWeights');
  const arrays: EncodableArray[] = [];
  for (const unit of torchUnits(model, options.nameMap)) {
    for (const t of torchTensorsOf(unit)) {
      arrays.push(
        t.weight
          ? { name: t.name, shape: t.shape, data: t.toTorch(t.weight.dataSync() as Float32Array) }
          : { name: t.name, shape: t.shape, data: new BigInt64Array(1) },
      );
    }
  }
  return encodeSafetensors(arrays, { format: 'pt', producer: 'receptive' });
}

/** Options of {@link loadTorchWeights}. */
export interface LoadTorchOptions extends TorchWeightsOptions {
  /** Fail when the file holds tensors the model does not use (default true). */
  strict?: boolean;
}

/**
 * Loads a safetensors file of PyTorch weights (bytes, or a path in Node) into a model of the
 * same architecture. Every weight of the model must be found, with the right shape; the first
 * that is not is reported by both names and shapes. F32, F64, F16 and BF16 tensors are read
 * (as float32); num_batches_tracked is ignored. Returns the pairs (PyTorch name, receptive weight name).
 */
export async function loadTorchWeights(
  model: Functional,
  source: Uint8Array | string,
  options: LoadTorchOptions = {},
): Promise<[string, string][]> {
  checkModel(model, 'loadTorchWeights');
  const where = typeof source === 'string' ? source : 'loadTorchWeights';
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    const { readFileChecked } = await import('../files.js');
    bytes = await readFileChecked(source, 'loadTorchWeights');
  } else if (source instanceof Uint8Array) bytes = source;
  else
    throw new ArgumentError(
      'loadTorchWeights: give the safetensors bytes (Uint8Array) or a file path.',
    );
  const { arrays } = decodeSafetensors(bytes, where, { convert: true });
  const byName = new Map(arrays.map((a) => [a.name, a]));
  const used = new Set<string>();
  const values = new Map<Tensor, Float32Array>();
  const pairs: [string, string][] = [];
  for (const unit of torchUnits(model, options.nameMap)) {
    for (const t of torchTensorsOf(unit)) {
      const a = byName.get(t.name);
      if (!t.weight) {
        if (a) used.add(t.name);
        continue;
      }
      if (!a) {
        const near = arrays
          .map((x) => x.name)
          .filter((n) => !used.has(n) && n.endsWith(t.name.slice(t.name.lastIndexOf('.'))))
          .slice(0, 5);
        throw new WeightsMismatchError(
          `loadTorchWeights: ${where} has no tensor '${t.name}' for ${unit.layer.label} (${t.weight.name}, PyTorch shape ${fmtShape(t.shape)}).` +
            (near.length ? ` Unused tensors of that kind: ${near.join(', ')}.` : '') +
            ' Is it the same architecture? Map names with options.nameMap ({ receptiveLayerName: "torch.module.path" }).',
        );
      }
      used.add(t.name);
      if (
        a.shape.length !== t.shape.length ||
        a.shape.some((d, i) => d !== t.shape[i]) ||
        !(a.data instanceof Float32Array)
      ) {
        throw new WeightsMismatchError(
          `loadTorchWeights: '${t.name}' in ${where} has shape ${fmtShape(a.shape)}${a.data instanceof Float32Array ? '' : ' (integer)'}, ` +
            `but ${unit.layer.label} needs ${fmtShape(t.shape)} in PyTorch's layout (its weight ${t.weight.name} is ${fmtShape(t.weight.shape)}). ` +
            'The architectures differ here (or the input size differs, for a dense layer after a flatten).',
        );
      }
      values.set(t.weight, t.fromTorch(a.data));
      pairs.push([t.name, t.weight.name ?? '']);
    }
  }
  const unused = arrays.filter((a) => !used.has(a.name) && !a.name.endsWith('num_batches_tracked'));
  if ((options.strict ?? true) && unused.length > 0)
    throw new WeightsMismatchError(
      `loadTorchWeights: ${where} has ${unused.length} tensor(s) that ${model.label} does not use: ${unused
        .slice(0, 5)
        .map((a) => `'${a.name}' ${fmtShape(a.shape)}`)
        .join(
          ', ',
        )}${unused.length > 5 ? ', ...' : ''}. Pass { strict: false } to ignore them, or check the architecture.`,
    );
  model.setWeights(model.weights.map((w) => values.get(w) ?? (w.dataSync() as Float32Array)));
  return pairs;
}
