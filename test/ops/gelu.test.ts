/**
 * GELU as one backend pass each way (ops/activations.ts): its values against the ops it used to
 * be composed of, bit for bit, on the reference and on the default backend (native, or wasm);
 * its gradient against finite differences (float64) and against autograd through those ops;
 * NaN and ±Infinity propagation, and empty tensors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBackend } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { withBackend } from '../checks.js';
import { gradcheck } from '../gradcheck.js';

/** GELU composed of elementwise ops, as ops/activations.ts computed it before its one-pass kernel. */
const composedGelu = (x: rc.Tensor) =>
  rc.mul(rc.mul(x, 0.5), rc.add(1, rc.erf(rc.mul(x, Math.SQRT1_2))));

/** n values: normal × 3 (both branches of every erf, and the tails), with NaN, ±Infinity, ±0. */
function values(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const v = Float32Array.from({ length: n }, () => rng.normal() * 3);
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 40, -40];
  special.forEach((s, i) => {
    if (i < n) v[(i * 7919) % n] = s;
  });
  return v;
}

const backends = [...new Set(['js', getBackend()])];

for (const name of backends) {
  test(`gelu on ${name}: the composed ops' values bit for bit, at sizes around the kernels' thresholds`, () => {
    withBackend(name, () => {
      for (const n of [1, 7, 511, 513, 2049, 40001]) {
        const x = rc.tensor(values(n, n), [n]);
        const got = rc.gelu(x).dataSync();
        const want = composedGelu(x).dataSync();
        for (let i = 0; i < n; i++) {
          assert.ok(
            Object.is(got[i], want[i]),
            `gelu(${x.dataSync()[i]}) at ${i} of ${n}: ${got[i]} vs ${want[i]}`,
          );
        }
      }
    });
  });

  test(`gelu's gradient on ${name}: autograd through the composed ops, within float32 rounding`, () => {
    withBackend(name, () => {
      for (const n of [7, 513, 40001]) {
        const xv = values(n, 100 + n);
        const dyv = Float32Array.from(values(n, 200 + n), (v) => (Number.isFinite(v) ? v : 1));
        const grads = (f: (x: rc.Tensor) => rc.Tensor) => {
          const x = rc.tensor(xv, [n]);
          x.requiresGrad = true;
          rc.sum(rc.mul(f(x), rc.tensor(dyv, [n]))).backward();
          return x.grad!.dataSync();
        };
        const got = grads(rc.gelu);
        const want = grads(composedGelu);
        for (let i = 0; i < n; i++) {
          const [g, w, x, dy] = [got[i]!, want[i]!, xv[i]!, dyv[i]!];
          // NaN in, NaN out; at ±Infinity both give NaN (∞·0 in x·φ(x)), never a finite value.
          if (!Number.isFinite(x)) {
            assert.ok(Number.isNaN(g), `gelu'(${x}) at ${i}: ${g}, expected NaN`);
            continue;
          }
          // Each path rounds a dozen float32 steps and erf is evaluated at the same point:
          // 2e-6·|dy|·(1 + |x|) covers them (the largest seen, over 200,000 normal·3 values, is 6% of it).
          const tol = 2e-6 * Math.abs(dy) * (1 + Math.abs(x)) + 1e-30;
          assert.ok(
            Math.abs(g - w) <= tol,
            `gelu' at x ${x}, dy ${dy}: ${g} vs composed ${w} (±${tol})`,
          );
        }
      }
    });
  });

  test(`gelu on ${name}: NaN stays NaN both ways; empty tensors`, () => {
    withBackend(name, () => {
      const x = rc.tensor([Number.NaN, 1, Number.NaN, -2], [4]);
      x.requiresGrad = true;
      const y = rc.gelu(x);
      assert.ok(Number.isNaN(y.dataSync()[0]!) && Number.isNaN(y.dataSync()[2]!));
      rc.sum(y).backward();
      const g = x.grad!.dataSync();
      assert.ok(Number.isNaN(g[0]!) && Number.isNaN(g[2]!), `gradient at NaN: ${g}`);
      assert.ok(Number.isFinite(g[1]!) && Number.isFinite(g[3]!));
      assert.equal(rc.gelu(rc.tensor([Number.POSITIVE_INFINITY], [1])).dataSync()[0], Infinity);

      const e = rc.zeros([0, 3]);
      e.requiresGrad = true;
      const ye = rc.gelu(e);
      assert.deepEqual(ye.shape, [0, 3]);
      rc.sum(ye).backward();
      assert.deepEqual(e.grad!.shape, [0, 3]);
    });
  });
}

test("gelu's gradient: finite differences in float64, over both branches of erf and the tails", () => {
  const rng = new Random(5);
  const xs = Array.from({ length: 60 }, () => rng.uniform(-7, 7));
  gradcheck('gelu', (x) => rc.gelu(x!), [{ shape: [60], values: xs }], { maxChecks: 60 });
});

test("gelu's gradient in float64: Φ(x) + x·φ(x) to 1e-12", () => {
  withBackend('js-f64', () => {
    const xs = [-3, -1.5, -0.3, 0, 0.2, 1, 2.5, 3];
    const x = rc.tensor(Float64Array.from(xs), [xs.length]);
    x.requiresGrad = true;
    rc.sum(rc.gelu(x)).backward();
    const g = x.grad!.storage.backend.readF64(x.grad!.storage);
    const phi = (v: number) => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
    xs.forEach((v, i) => {
      const cdf = 0.5 * (1 + erfRef(v / Math.SQRT2));
      const want = cdf + v * phi(v);
      assert.ok(Math.abs(g[i]! - want) <= 1e-12, `gelu'(${v}) = ${g[i]}, expected ${want}`);
    });
  });
});

/** erf by its Maclaurin series in float64 (within 1e-14 for |x| ≤ 2.2, where the terms stay below 100). */
function erfRef(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 400; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
