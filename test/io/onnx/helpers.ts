/** Helpers for the ONNX tests: run an exported model in ONNX Runtime, give models realistic weights. */
import ort from 'onnxruntime-node';
import * as rc from '../../../src/index.js';
import type { attr } from '../../../src/io/onnx/graph.js';
import { onnxType } from '../../../src/io/onnx/schema.js';

/** Runs ONNX bytes in onnxruntime-node on NHWC inputs; returns every output, in order. */
export async function runOnnx(bytes: Uint8Array, inputs: rc.Tensor[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, i) => {
    const x = inputs[i]!;
    feeds[name] = new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape);
  });
  const out = await session.run(feeds);
  const res = session.outputNames.map((n) => out[n]!.data as Float32Array);
  await session.release();
  return res;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= d)) d = e; // NaN wins
  }
  return d;
}

/**
 * Non-trivial weights everywhere: random biases, batch-norm statistics and scales (a fresh
 * model's zero means and unit variances would hide a wrong layout of those vectors).
 */
export function randomizeWeights(model: rc.Layer, seed = 1): void {
  const rng = new rc.Random(seed);
  model.setWeights(
    model.weights.map((w) => {
      const name = w.name ?? '';
      const v = w.dataSync() as Float32Array;
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) {
        if (name.endsWith('moving_variance') || name.endsWith('gamma'))
          out[i] = rng.uniform(0.5, 1.5);
        else if (name.endsWith('moving_mean') || name.endsWith('beta') || name.endsWith('bias'))
          out[i] = rng.normal() * 0.1;
        else out[i] = v[i]!;
      }
      return out;
    }),
  );
}

/** Softmax over the last axis of [n, k] values. */
export function softmaxRows(x: Float32Array, k: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / k; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x[r * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(x[r * k + j]! - m);
    for (let j = 0; j < k; j++) out[r * k + j] = Math.exp(x[r * k + j]! - m) / s;
  }
  return out;
}

/** Deterministic values in [-1, 1) (or [lo, hi)). */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed * 9301 + 49297;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + ((hi - lo) * s) / 2147483648;
  });
}

export interface Built {
  bytes: Uint8Array;
}

/** A graph as ONNX ModelProto bytes, from plain node records (a hand-written model). */
export function modelBytes(
  graph: {
    nodes: {
      op: string;
      inputs: string[];
      outputs?: string[];
      attrs?: Record<string, ReturnType<typeof attr.int>>;
      name?: string;
    }[];
    floats?: Record<string, [number[], number[]]>;
    ints?: Record<string, [number[], number[]]>;
    inputs: [string, (number | string)[]][];
    outputs: string[];
  },
  opset = 13,
): Built {
  const vi = (name: string, dims?: (number | string)[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        ...(dims
          ? {
              shape: {
                dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })),
              },
            }
          : {}),
      },
    },
  });
  const M = onnxType('ModelProto');
  const msg = M.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'handmade',
      node: graph.nodes.map((n, i) => ({
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        op_type: n.op,
        input: n.inputs,
        output: n.outputs ?? [`${n.op.toLowerCase()}_${i}_out`],
        attribute: Object.entries(n.attrs ?? {}).map(([k, a]) => ({ name: k, ...a })),
      })),
      initializer: [
        ...Object.entries(graph.floats ?? {}).map(([name, [dims, data]]) => ({
          name,
          dims,
          data_type: 1,
          float_data: data,
        })),
        ...Object.entries(graph.ints ?? {}).map(([name, [dims, data]]) => ({
          name,
          dims,
          data_type: 7,
          int64_data: data,
        })),
      ],
      input: graph.inputs.map(([n, d]) => vi(n, d)),
      output: graph.outputs.map((n) => vi(n)),
    },
  });
  return { bytes: M.encode(msg).finish() };
}

export const f = (dims: number[], seed: number, lo = -1, hi = 1): [number[], number[]] => [
  dims,
  values(
    dims.reduce((a, d) => a * d, 1),
    seed,
    lo,
    hi,
  ),
];
