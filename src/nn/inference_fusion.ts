/**
 * Inference fusion: convolution (→ batch normalization) (→ Add of a shortcut) (→ ReLU) chains
 * of a functional model run as one convolution whose kernel and bias have the normalization
 * folded in, with the shortcut and the ReLU applied as the output is written. Chains without
 * normalization (a convolution with a bias, as exporters that fold it write them: PyTorch's
 * ONNX files) fuse alike, when they have an Add or a ReLU to take in. That saves two
 * or three passes over each feature map (about a sixth of ResNet-18's batch-1 time on the
 * native backend), as ONNX Runtime and PyTorch's frozen graphs do.
 *
 * It applies only where it cannot change what user code sees: inference (training: false)
 * with gradients off (predict, evaluate, model.call inside noGrad), on a backend that runs the
 * fused kernel, and only to intermediate values that nothing else reads. Outputs differ from
 * the unfused ops by rounding only (a few ulps). `model.fuseInference = false` turns it off.
 *
 * Folded weights (w·γ/σ per output channel; β + (b − μ)·γ/σ) are computed once and kept until
 * one of the weights they came from changes (training gives weights new storage).
 */
import type { Storage } from '../backend/backend.js';
import { conv2dFused } from '../ops/conv.js';
import { persistTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { tensor } from '../tensor.js';
import type { SymbolicTensor } from './layer.js';
import { Conv2D } from './layers/conv.js';
import { Activation, ReLU } from './layers/core.js';
import { Add } from './layers/merge.js';
import { BatchNormalization } from './layers/normalization.js';

/** One chain: conv (→ bn) (→ add residual) (→ relu); `last` is the node whose value it produces. */
interface Chain {
  conv: Conv2D;
  bn: BatchNormalization | null;
  relu: boolean;
  /** The convolution's input node. */
  input: SymbolicTensor;
  /** The other input of an Add that the chain's normalized output goes into, if any. */
  residual: SymbolicTensor | null;
  last: SymbolicTensor;
  /** The storages the folded weights came from, and the folded weights. */
  from: Storage[];
  kernel: Tensor | null;
  bias: Tensor | null;
}

/** Fused chains by their last node, and the chains' inner nodes (which are not computed). */
export interface FusionPlan {
  chains: Map<SymbolicTensor, Chain>;
  inner: Set<SymbolicTensor>;
}

function isPlainRelu(t: SymbolicTensor): boolean {
  const l = t.layer;
  if (l instanceof ReLU) return l.negativeSlope === 0 && l.maxValue === undefined;
  return l instanceof Activation && l.activation === 'relu';
}

/**
 * Finds the chains among `nodes` (topological order). A node joins a chain only if the chain's
 * next node is its one reader and it is not one of the model's `outputs`.
 */
export function planFusion(nodes: SymbolicTensor[], outputs: SymbolicTensor[]): FusionPlan {
  const readers = new Map<SymbolicTensor, SymbolicTensor[]>();
  for (const t of nodes) {
    for (const i of t.inputs) {
      const list = readers.get(i);
      if (list) list.push(t);
      else readers.set(i, [t]);
    }
  }
  const isOutput = new Set(outputs);
  const onlyReader = (t: SymbolicTensor): SymbolicTensor | null => {
    const r = readers.get(t) ?? [];
    return r.length === 1 && !isOutput.has(t) ? r[0]! : null;
  };
  const plan: FusionPlan = { chains: new Map(), inner: new Set() };
  for (const t of nodes) {
    const conv = t.layer;
    if (!(conv instanceof Conv2D) || conv.activation !== 'linear' || t.inputs.length !== 1)
      continue;
    const convReader = onlyReader(t);
    const bnNode = convReader?.layer instanceof BatchNormalization ? convReader : null;
    const head = bnNode ?? t;
    // A residual block's end: bn → Add(bn, shortcut) (→ ReLU). When both inputs of the Add are
    // such chains (a projection shortcut), the first one found takes it; the other ends at its
    // normalization and is the shortcut.
    const taken = (n: SymbolicTensor) => plan.inner.has(n) || plan.chains.has(n);
    let next = onlyReader(head);
    let residual: SymbolicTensor | null = null;
    let addNode: SymbolicTensor | null = null;
    if (next && next.layer instanceof Add && next.inputs.length === 2 && !taken(next)) {
      residual = next.inputs[0] === head ? next.inputs[1]! : next.inputs[0]!;
      addNode = next;
      next = onlyReader(next);
    }
    const relu = next !== null && isPlainRelu(next) && !taken(next);
    // A convolution alone gains nothing (its bias is fused already).
    if (!bnNode && !addNode && !relu) continue;
    const last = relu ? next! : (addNode ?? head);
    plan.chains.set(last, {
      conv,
      bn: bnNode ? (bnNode.layer as BatchNormalization) : null,
      relu,
      input: t.inputs[0]!,
      residual,
      last,
      from: [],
      kernel: null,
      bias: null,
    });
    for (const n of [t, bnNode, addNode]) if (n && n !== last) plan.inner.add(n);
  }
  return plan;
}

/** The chain's folded kernel and bias, computed again when a weight they came from changed. */
function folded(c: Chain): { kernel: Tensor; bias: Tensor } {
  const { conv, bn } = c;
  const sources = bn
    ? [conv.kernel, conv.bias, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]
    : [conv.kernel, conv.bias];
  const from = sources.map((t) => t?.storage).filter((s): s is Storage => s !== undefined);
  if (c.kernel && c.bias && from.every((s, i) => s === c.from[i])) {
    return { kernel: c.kernel, bias: c.bias };
  }
  if (!bn) {
    // Nothing to fold: the convolution's own kernel, and its bias (zeros where it has none).
    c.kernel = conv.kernel;
    c.bias = conv.bias ?? persistTensor(tensor(new Float32Array(conv.filters), [conv.filters]));
    c.from = from;
    return { kernel: c.kernel, bias: c.bias };
  }
  const w = conv.kernel.dataSync();
  const outC = conv.filters;
  const [gamma, beta, mean, variance] = [bn.gamma, bn.beta, bn.movingMean, bn.movingVariance].map(
    (t) => t.dataSync(),
  );
  const b = conv.bias?.dataSync();
  const scale = new Float64Array(outC);
  const bias = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    scale[o] = gamma[o]! / Math.sqrt(variance[o]! + bn.epsilon);
    bias[o] = beta[o]! + ((b?.[o] ?? 0) - mean[o]!) * scale[o]!;
  }
  // HWIO: the output channel is the last axis.
  const k = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) k[i] = w[i]! * scale[i % outC]!;
  c.kernel = persistTensor(tensor(k, conv.kernel.shape));
  c.bias = persistTensor(tensor(bias, [outC]));
  c.from = from;
  return { kernel: c.kernel, bias: c.bias };
}

/** Runs one chain on the convolution's input value and, for a residual chain, the shortcut's. */
export function runChain(c: Chain, x: Tensor, residual?: Tensor): Tensor {
  const { kernel, bias } = folded(c);
  return conv2dFused(x, kernel, {
    bias,
    strides: c.conv.strides,
    padding: c.conv.padding,
    dilationRate: c.conv.dilationRate,
    groups: c.conv.groups,
    relu: c.relu,
    ...(residual ? { residual } : {}),
  });
}
