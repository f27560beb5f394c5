/**
 * Gemm and MatMul with constant weights → Dense. A MatMul whose only reader is an Add of a
 * constant vector takes it as its bias. After a Flatten of an NHWC-held image the features are
 * in HWC order: the weight rows are permuted to match instead of transposing the data.
 */
import { Dense } from '../../../../nn/layers/core.js';
import { type ImportContext, registerOp, type TensorVal } from '../context.js';
import { type ConstTensor, floatsOnce, type OnnxNode, permutedFloats } from '../decode.js';

/** A Dense kernel [k, n] from ONNX weights B ([k, n], or [n, k] with transB), scaled by alpha. */
interface KernelSource {
  b: ConstTensor;
  transB: boolean;
  alpha: number;
}

/**
 * The input as rank-2-or-more plain features, and the maker of the kernel [k, n] with its rows
 * in the input's feature order: one permutation of B's values (transposed and, after a Flatten
 * of an NHWC-held image, rows reordered), made when the layer builds.
 */
function denseInput(
  cx: ImportContext,
  v: TensorVal,
  src: KernelSource,
  k: number,
  n: number,
): { x: TensorVal; kernel: () => Float32Array } {
  const { b, transB, alpha } = src;
  let shape = b.dims;
  let perm: number[] | null = transB ? [1, 0] : null;
  let x: TensorVal;
  if (v.layout.kind === 'flat') {
    const { c, h, w } = v.layout;
    if (c * h * w !== k)
      throw cx.error(`its weights have ${k} rows, its input ${c * h * w} features.`);
    // ONNX row ci·h·w + y·w + x is receptive's feature (y·w + x)·c + ci.
    [shape, perm] = transB
      ? [
          [n, c, h, w],
          [2, 3, 1, 0],
        ]
      : [
          [c, h, w, n],
          [1, 2, 0, 3],
        ];
    x = v;
  } else x = cx.toPlain(v);
  const kernel = () => {
    if (!perm) {
      // A copy: the values may be a view of the file, or shared with another reader.
      const data = floatsOnce(b);
      return alpha === 1 ? new Float32Array(data) : Float32Array.from(data, (e) => e * alpha);
    }
    const out = permutedFloats(b, shape, perm);
    if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i]! *= alpha;
    return out;
  };
  return { x, kernel };
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
  src: KernelSource,
  k: number,
  n: number,
  bias: Float32Array | null,
): TensorVal {
  const { x, kernel: kr } = denseInput(cx, v, src, k, n);
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
  let bias: Float32Array | null = null;
  if (node.inputs[2]) {
    const c = cx.constInput(node, 2, 'bias C');
    bias = biasVector(c, n, beta);
    if (!bias)
      throw cx.error(
        `its bias C [${c.dims.join(', ')}] is not a vector of ${n}; a bias per example is not supported.`,
      );
  }
  cx.setOutput(node, addDense(cx, node, a, { b, transB, alpha }, k, n, bias));
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
  const y = addDense(cx, node, a, { b, transB: false, alpha: 1 }, k, n, bias);
  cx.setOutput(node, y);
  if (bias && next) {
    cx.setOutput(next, y);
    cx.done.add(next);
  }
});
