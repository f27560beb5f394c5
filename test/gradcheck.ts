/**
 * Gradient check: compares the autograd gradient of L = Σ f(inputs) ⊙ R (R a fixed random
 * tensor) with central finite differences, everything in float64 on the 'js-f64' backend so
 * that the comparison can be tight (1e-6) instead of drowning in float32 rounding.
 */
import assert from 'node:assert/strict';
import * as rc from '../src/index.js';
import { Random } from '../src/util/random.js';
import { withBackend } from './helpers.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many entries per input (chosen at random); all when small. */
  maxChecks?: number;
  seed?: number;
}

/** Float64 values of a tensor (dataSync rounds to float32). */
export function f64(t: rc.Tensor): Float64Array {
  return t.storage.backend.readF64(t.storage);
}

/**
 * inputs: shapes and values (plain arrays, used as float64); f builds the output from
 * tensors made of them. Throws with the input, index and both values on the first mismatch.
 */
export function gradcheck(
  name: string,
  f: (...xs: rc.Tensor[]) => rc.Tensor,
  inputs: { shape: number[]; values: ArrayLike<number> }[],
  options: GradcheckOptions = {},
): void {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5, maxChecks = 60, seed = 7 } = options;
  withBackend('js-f64', () => {
    const rng = new Random(seed);
    const make = (vals: ArrayLike<number>, shape: number[]) =>
      rc.tensor(Float64Array.from(vals), shape);
    const xs = inputs.map((inp) => {
      const t = make(inp.values, inp.shape);
      t.requiresGrad = true;
      return t;
    });
    const out = f(...xs);
    const r = make(
      Array.from({ length: out.size }, () => rng.normal()),
      out.shape,
    );
    const loss = (o: rc.Tensor) => rc.sum(rc.mul(o, r));
    loss(out).backward();

    const lossAt = (k: number, values: Float64Array): number =>
      rc.noGrad(() => {
        const args = inputs.map((inp, j) =>
          j === k ? make(values, inp.shape) : make(inp.values, inp.shape),
        );
        return f64(loss(f(...args)))[0]!;
      });

    inputs.forEach((inp, k) => {
      const grad = xs[k]!.grad;
      assert.ok(grad, `${name}: input ${k} got no gradient`);
      const analytic = f64(grad);
      const n = inp.values.length;
      const idx =
        n <= maxChecks
          ? Array.from({ length: n }, (_, i) => i)
          : Array.from({ length: maxChecks }, () => rng.int(n));
      const values = Float64Array.from(inp.values);
      for (const i of idx) {
        const v = values[i]!;
        values[i] = v + eps;
        const up = lossAt(k, values);
        values[i] = v - eps;
        const down = lossAt(k, values);
        values[i] = v;
        const numeric = (up - down) / (2 * eps);
        const a = analytic[i]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          assert.fail(
            `${name}: d/d(input ${k})[${i}] analytic ${a} vs numeric ${numeric} (input shape [${inp.shape}])`,
          );
        }
      }
    });
  });
}

/** Random normal values for a shape, from a seed. */
export function randomValues(
  shape: number[],
  seed: number,
  scale = 1,
): { shape: number[]; values: Float64Array } {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float64Array.from({ length: n }, () => scale * rng.normal()) };
}
