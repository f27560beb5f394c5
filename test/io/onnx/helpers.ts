/** Helpers for the ONNX tests: run an exported model in ONNX Runtime, give models realistic weights. */
import ort from 'onnxruntime-node';
import * as rc from '../../../src/index.js';

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
