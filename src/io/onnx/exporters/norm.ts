/** ONNX for BatchNormalization (inference form) and LocalResponseNormalization. */
import {
  BatchNormalization,
  LocalResponseNormalization,
} from '../../../nn/layers/normalization.js';
import type { Tensor } from '../../../tensor.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';

/** Inference: (x − moving mean) / √(moving variance + ε) · γ + β, per channel. */
export function exportBatchNorm(l: BatchNormalization, [x]: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const init = (t: Tensor) => g.weight(t.name ?? 'bn', t.shape, t.dataSync() as Float32Array);
  const params = [l.gamma, l.beta, l.movingMean, l.movingVariance].map(init);
  const rank = x!.shape.length;
  if (rank === 4 || rank === 2) {
    // ONNX's BatchNormalization takes channels on axis 1: NCHW images, or [batch, features].
    const v = g.toNCHW(x!);
    const out = g.node(
      'BatchNormalization',
      [v.name, ...params],
      { epsilon: attr.float(l.epsilon) },
      l.name,
    );
    return { ...v, name: out };
  }
  // Other ranks keep channels last: the same arithmetic as a scale and a shift that broadcast.
  const v = g.toNHWC(x!);
  const gamma = l.gamma.dataSync();
  const mean = l.movingMean.dataSync();
  const variance = l.movingVariance.dataSync();
  const beta = l.beta.dataSync();
  const scale = Float32Array.from(gamma, (gm, i) => gm / Math.sqrt(variance[i]! + l.epsilon));
  const shift = Float32Array.from(beta, (b, i) => b - mean[i]! * scale[i]!);
  const c = gamma.length;
  const scaled = g.node(
    'Mul',
    [v.name, g.weight(`${l.name}/scale`, [c], scale)],
    {},
    `${l.name}_scale`,
  );
  return {
    ...v,
    name: g.node('Add', [scaled, g.weight(`${l.name}/shift`, [c], shift)], {}, l.name),
  };
}

/**
 * TensorFlow's LRN divides by (bias + alpha·Σx²)^beta over 2r + 1 channels; ONNX's (PyTorch's,
 * Caffe's) divides by (bias + alpha/size·Σx²)^beta, so alpha is multiplied by the size.
 */
function exportLRN(l: LocalResponseNormalization, [x]: Value[], ctx: ExportContext): Value {
  const v = ctx.graph.toNCHW(x!);
  const size = 2 * l.depthRadius + 1;
  const out = ctx.graph.node(
    'LRN',
    [v.name],
    {
      size: attr.int(size),
      alpha: attr.float(l.alpha * size),
      beta: attr.float(l.beta),
      bias: attr.float(l.bias),
    },
    l.name,
  );
  return { ...v, name: out };
}

registerOnnxExporter(BatchNormalization.className, exportBatchNorm);
registerOnnxExporter(LocalResponseNormalization.className, exportLRN);
