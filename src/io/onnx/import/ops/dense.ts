/**
 * Gemm and MatMul with constant weights → Dense. A MatMul whose only reader is an Add of a
 * constant vector takes it as its bias. After a Flatten of an NHWC-held image the features are
 * in HWC order: the weight rows are permuted to match instead of transposing the data.
 */
import { Dense } from '../../../../nn/layers/core.js';
import { permute } from '../../../layouts.js';
import { type ImportContext, registerOp, type TensorVal } from '../context.js';
import type { ConstTensor, OnnxNode } from '../decode.js';
import { floats } from './window.js';

/** The input as rank-2-or-more plain features, and the kernel [k, n] rows permuted to match. */
function denseInput(
  cx: ImportContext,
  v: TensorVal,
  kernel: Float32Array,
  k: number,
  n: number,
): { x: TensorVal; kernel: Float32Array } {
  if (v.layout.kind === 'flat') {
    const { c, h, w } = v.layout;
    if (c * h * w !== k)
      throw cx.error(`its weights have ${k} rows, its input ${c * h * w} features.`);
    // ONNX row ci·h·w + y·w + x is receptive's feature (y·w + x)·c + ci.
    return { x: v, kernel: permute(kernel, [c, h, w, n], [1, 2, 0, 3]) };
  }
  return { x: cx.toPlain(v), kernel };
}

/** A constant that is a bias for n outputs ([], [1], [n] or [1, n]); its values, or null. */
function biasVector(c: ConstTensor, n: number, scale = 1): Float32Array | null {
  const size = c.data.length;
  if (c.dims.length > 2 || (c.dims.length === 2 && c.dims[0] !== 1)) return null;
  if (size !== 1 && size !== n) return null;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * c.data[size === 1 ? 0 : i]!;
  return out;
}

function addDense(
  cx: ImportContext,
  node: OnnxNode,
  v: TensorVal,
  kernel: Float32Array,
  k: number,
  n: number,
  bias: Float32Array | null,
): TensorVal {
  const { x, kernel: kr } = denseInput(cx, v, kernel, k, n);
  const layer = new Dense({
    name: cx.weightLayerName(node, 1),
    units: n,
    useBias: bias !== null,
    kernelInitializer: cx.fromFile(kr, 'weights'),
    ...(bias ? { biasInitializer: cx.fromFile(bias, 'bias') } : {}),
  });
  return cx.tensor(cx.apply(layer, x.t));
}

registerOp('Gemm', (node, cx) => {
  if (cx.attr<number>(node, 'transA', 0) !== 0)
    throw cx.error('transA = 1 (a transposed data input) is not supported.');
  const a = cx.tensorInput(node, 0);
  if (cx.rank(a) !== 2) throw cx.error(`its input must have rank 2, got rank ${cx.rank(a)}.`);
  const b = cx.constInput(node, 1, 'weights B');
  if (b.dims.length !== 2) throw cx.error(`its weights B must be 2-D, got [${b.dims.join(', ')}].`);
  const alpha = cx.attr<number>(node, 'alpha', 1);
  const beta = cx.attr<number>(node, 'beta', 1);
  const transB = cx.attr<number>(node, 'transB', 0) === 1;
  const [k, n] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  let kernel = floats(transB ? permute(b.data, b.dims, [1, 0]) : b.data);
  if (alpha !== 1) kernel = kernel.map((v) => v * alpha);
  let bias: Float32Array | null = null;
  if (node.inputs[2]) {
    const c = cx.constInput(node, 2, 'bias C');
    bias = biasVector(c, n, beta);
    if (!bias)
      throw cx.error(
        `its bias C [${c.dims.join(', ')}] is not a vector of ${n}; a bias per example is not supported.`,
      );
  }
  cx.setOutput(node, addDense(cx, node, a, kernel, k, n, bias));
});

registerOp('MatMul', (node, cx) => {
  const a = cx.tensorInput(node, 0);
  const b = cx.constInput(node, 1, 'weights B');
  if (b.dims.length !== 2)
    throw cx.error(
      `its second input must be a 2-D constant (weights [in, out]), got [${b.dims.join(', ')}].`,
    );
  if (cx.rank(a) < 2) throw cx.error('its first input must have rank 2 or more.');
  const [k, n] = b.dims as [number, number];
  // A following Add of a constant vector is this layer's bias (PyTorch writes Linear so).
  let bias: Float32Array | null = null;
  const out = node.outputs[0]!;
  const next =
    cx.readers.get(out) === 1 ? cx.graph.nodes.find((m) => m.inputs.includes(out)) : undefined;
  if (next?.opType === 'Add') {
    const other = next.inputs[next.inputs[0] === out ? 1 : 0];
    const c = other ? cx.values.get(other) : undefined;
    if (c?.kind === 'const') bias = biasVector(c.value, n);
  }
  const y = addDense(cx, node, a, floats(b.data), k, n, bias);
  cx.setOutput(node, y);
  if (bias && next) {
    cx.setOutput(next, y);
    cx.done.add(next);
  }
});
