/**
 * Conformance: every kernel of every backend of conformance.ts (wasm, native where its addon
 * loads; webgpu in Chromium) against the js reference, at the Backend interface, on random
 * inputs and every configuration (builds, memories, one thread and several); then through the
 * ops, with autograd. GEMM and convolutions are in conformance_conv.test.ts (another process).
 *
 * Bit-identical to the reference: elementwise ops (tanh and erf within 1e-6 relative; a
 * target's `approximate` ops, a GPU's, within their relative error), max and min,
 * pooling, one-pass activation gradients, Adam, data movement. Within 1e-4 of the largest value
 * (sums in another order): batch norm, LRN, softmax; float32 sums within float32 rounding of
 * float64 sums (and bit-identical where the backend says so: wasm).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, BinaryOp, Storage, UnaryOp } from '../../src/backend/backend.js';
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { assertClose, withBackend } from '../checks.js';
import { forEachConfig, forEachTarget, js, reference } from './conformance.js';
import {
  assertRel,
  assertSame,
  broadcast,
  checkActivationGrad,
  convInfo,
  poolCases,
  poolInfo,
  randomValues,
  size,
} from './kernel_cases.js';

const f64 = backendByName('js-f64');

/** Two shapes to broadcast (one line a case). */
const pair = (a: number[], b: number[]): [number[], number[]] => [a, b];

forEachConfig('elementwise', ({ test, same, read, randn, be, rng, target }) => {
  /** Bit for bit, or within the target's relative error for an approximated op. */
  const exactly = (op: UnaryOp | BinaryOp) => target.approximate?.[op] ?? true;
  const binaryCases = [
    // A short row down every row (biases over channels): run as a repeated pattern row
    // (b's row, then a's; an odd number of rows of 6 has no repeat count that fits: plain path).
    pair([64, 12, 12, 6], [6]),
    pair([16], [40, 8, 8, 16]),
    pair([391, 7, 6], [6]),
    pair([3000, 6], [1, 6]),
    pair([2, 3, 4], [2, 3, 4]),
    pair([2, 3, 4], []),
    pair([], [5, 1, 2]),
    pair([2, 3, 4], [4]),
    pair([2, 3, 4], [3, 1]),
    pair([2, 1, 4], [3, 1]),
    pair([7, 5, 6, 3], [1, 1, 1, 3]),
    pair([2, 3, 4, 5], [3, 1, 5]),
    pair([2, 1, 3], [2, 4, 1]),
    pair([1], [1]),
    pair([0, 3], [3]),
    // From 2048 elements on, the wasm kernels run instead of the JS loops.
    pair([2, 50, 41], [2, 50, 41]),
    pair([64, 9, 8], [8]),
    pair([70, 70], []),
    pair([], [3, 37, 29]),
    pair([3, 40, 50], [40, 1]),
    pair([128, 6, 6, 5], [1, 1, 1, 5]),
    pair([2, 3, 40, 50], [3, 1, 50]),
    pair([50, 1, 3], [50, 41, 1]),
    pair([300, 257], [300, 1]),
    pair([40000], [40000]),
  ];
  const binaryOps = [
    'add',
    'sub',
    'mul',
    'div',
    'maximum',
    'minimum',
    'pow',
    'greater',
    'equal',
  ] as const;
  for (const op of binaryOps) {
    const how = exactly(op);
    const within =
      typeof how === 'number' ? `within ${how.toExponential()} relative` : 'bit-identical';
    test(`binary ${op} with broadcasting, ${within}`, async () => {
      for (const [aShape, bShape] of binaryCases) {
        const outShape = broadcast(aShape, bShape);
        const a = randn(size(aShape));
        const b = randn(size(bShape));
        if (op === 'pow') for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i]!);
        if (a.length > 0 && b.length > 0) b[0] = a[0]!; // equal values
        if (a.length > 3 && b.length > 3) {
          a[1] = Number.NaN;
          a[2] = -0;
          b[2] = 0; // max(-0, 0) is +0, min is -0
          b[3] = -0;
        }
        await same(
          [a, b],
          (k, [x, y]) => k.binary(op, x!, aShape, y!, bShape, outShape),
          `${op} ${JSON.stringify(aShape)} ${JSON.stringify(bShape)}`,
          how,
        );
      }
    });
  }

  const approximated = target.approximate ? ', approximated ones within their relative error' : '';
  test(`unary ops (tanh and erf within 1e-6 relative${approximated}, the rest bit-identical)`, async () => {
    for (const n of [100, 1000, 5003, 70001]) {
      const x = randn(n).map((v) => v * 12);
      for (const [i, v] of [
        [0, 0],
        [1, Number.NaN],
        [2, 1e-5],
        [3, -0],
        [4, Number.POSITIVE_INFINITY],
        [5, Number.NEGATIVE_INFINITY],
        [6, 8.5],
        [7, -20],
        [n - 1, Number.NaN],
      ] as const) {
        x[i] = v;
      }
      for (const op of [
        'neg',
        'abs',
        'square',
        'relu',
        'step',
        'exp',
        'sqrt',
        'rsqrt',
        'reciprocal',
        'log',
        'sigmoid',
        'sign',
      ] as const) {
        await same([x], (k, [v]) => k.unary(op, v!), `${op} on ${n}`, exactly(op));
      }
      // tanh and erf: fast approximations, to float32 accuracy rather than bit for bit.
      for (const op of ['tanh', 'erf'] as const) {
        const t = await read(be.unary(op, be.write(x, 'float32')));
        const r = js.read(js.unary(op, js.write(x, 'float32')));
        for (const i of [1, n - 1]) {
          assert.ok(Number.isNaN(t[i]!), `${op}(NaN) at ${i}`);
          t[i] = r[i] = 0;
        }
        assertClose(t, r, { atol: 1e-30, rtol: 1e-6, msg: `${op} on ${n}` });
      }
    }
  });

  test('activation gradients in one pass: the composed ops, bit for bit', async () => {
    // A GPU's GELU (approximated ops) matches its composed ops to an ulp, not bit for bit.
    await checkActivationGrad(be, js, rng, !target.approximate);
  });

  test('int32 tensors: the reference kernels', async () => {
    const ints = be.write([3, -1, 7, 2], 'int32');
    assert.deepEqual(Array.from(await read(be.unary('neg', ints))), [-3, 1, -7, -2]);
  });
});

forEachConfig('reductions, softmax, normalization', ({ test, same, read, randn, be, target }) => {
  test('sums over axes (within float32 rounding of float64 sums), max and min bit-identical', async () => {
    for (const shape of [
      [3, 4, 5, 6],
      [30, 8, 9, 7],
      [1, 3000, 1],
      [64, 16, 16, 32],
    ]) {
      const x = randn(size(shape));
      // [1, 2]: global pooling over height and width, batch > 1 (native: a sum2d per image).
      for (const axes of [
        [0],
        [3],
        [0, 1, 2],
        [1, 2, 3],
        [0, 1, 2, 3],
        [1],
        [1, 2],
        [0, 2],
        [1, 3],
        [],
      ]) {
        const ax = axes.filter((a) => a < shape.length);
        // Compare with float64 sums, within float32 rounding of the sums of |x| (small sums
        // take a float32 JS loop; the sums of values that nearly cancel are ill-conditioned).
        const [exact, absSums] = reference(`float64 sums ${shape} ${ax}`, [x], () => [
          f64.read(f64.reduce('sum', f64.write(x, 'float32'), shape, ax)),
          f64.read(f64.reduce('sum', f64.unary('abs', f64.write(x, 'float32')), shape, ax)),
        ]);
        const got = await read(be.reduce('sum', be.write(x, 'float32'), shape, ax));
        let atol = 1e-5;
        for (const v of absSums) atol = Math.max(atol, 1e-5 * v);
        assertClose(got, exact, { atol, rtol: 0, msg: `sum ${shape} ${ax}` });
        const ops = target.exactSums ? (['sum', 'max', 'min'] as const) : (['max', 'min'] as const);
        for (const op of ops) {
          await same([x], (k, [v]) => k.reduce(op, v!, shape, ax), `${op} ${shape} ${ax}`, true);
        }
      }
    }
  });

  test('softmax and log-softmax, argMax', async () => {
    for (const [shape, axis, scale] of [
      [[40, 100], 1, 1],
      [[40, 100], 1, 8],
      [[7, 9, 5], 1, 8],
      [[3, 2000], 1, 8],
      [[50, 3], 0, 8],
    ] as const) {
      const x = randn(size([...shape])).map((v) => v * scale);
      for (const log of [false, true]) {
        await same(
          [x],
          (k, [v]) => k.softmax(v!, [...shape], axis, log),
          `softmax ${shape} ×${scale} ${log}`,
        );
      }
      await same(
        [x],
        (k, [v]) => k.argMax(v!, [...shape], axis),
        `argMax ${shape} ×${scale} ${axis}`,
        true,
      );
    }
  });

  test('batch normalization, forward and backward (within 1e-4)', async () => {
    for (const [rows, c] of [
      [1, 1],
      [7, 3],
      [2 * 5 * 5, 64],
      [4 * 17 * 17, 13],
    ] as const) {
      const x = randn(rows * c);
      const dy = randn(rows * c);
      const mean = randn(c);
      const variance = randn(c).map((v) => Math.abs(v) + 0.1);
      const gamma = randn(c);
      const beta = randn(c);
      await same(
        [x, mean, variance, gamma, beta],
        (k, [xs, m, v, g, b]) => k.batchNorm(xs!, m!, v!, g!, b!, c, 1e-3),
        `batchNorm ${rows}×${c}`,
      );
      for (const name of ['dx', 'dMean', 'dVariance', 'dGamma', 'dBeta'] as const) {
        await same(
          [dy, x, mean, variance, gamma],
          (k, [d, xs, m, v, g]) => k.batchNormBackward(d!, xs!, m!, v!, g!, c, 1e-3)[name],
          `batchNormBackward ${rows}×${c}: ${name}`,
        );
      }
    }
  });

  // Optional kernels: a backend without them (webgpu) has ops/norm.ts compose them.
  test('training-mode batch norm: moments and its backward (within 1e-4), NaN, empty', async () => {
    if (!be.moments || !be.batchNormTrainingBackward) {
      // Only webgpu leaves them to the composed ops (ops/norm.ts): nothing to compare there.
      assert.equal(target.name, 'webgpu', `${be.name} has no moments/batchNormTrainingBackward`);
      return;
    }
    for (const [rows, c, offset] of [
      [1, 1, 0],
      [7, 3, 0],
      [2 * 5 * 5, 64, 0],
      [4 * 17 * 17, 13, 0],
      [3 * 33 * 33, 17, 0],
      // A mean far from zero: the one-pass sums are shifted, so the variance keeps its digits.
      [600, 9, 1000],
    ] as const) {
      const x = randn(rows * c).map((v) => v * 2 + offset);
      const dy = randn(rows * c);
      const gamma = randn(c);
      for (const name of ['mean', 'variance'] as const) {
        await same(
          [x],
          (k, [xs]) => k.moments!(xs!, c)[name],
          `moments ${rows}×${c}+${offset}: ${name}`,
        );
      }
      // The statistics as the reference computes them, so both backwards see the same values.
      const stats = js.moments!(js.write(x, 'float32'), c);
      const [mean, variance] = [js.read(stats.mean), js.read(stats.variance)] as Float32Array[];
      for (const name of ['dx', 'dGamma', 'dBeta'] as const) {
        await same(
          [dy, x, mean!, variance!, gamma],
          (k, [d, xs, m, v, g]) => k.batchNormTrainingBackward!(d!, xs!, m!, v!, g!, c, 1e-3)[name],
          `batchNormTrainingBackward ${rows}×${c}+${offset}: ${name}`,
        );
      }
    }
    // NaN or Infinity in one channel: that channel's statistics and gradient are NaN, the others not.
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const [rows, c] = [1000, 5];
      const x = randn(rows * c);
      x[c * 500 + 2] = bad;
      const xs = be.write(x, 'float32');
      const { mean, variance } = be.moments(xs, c);
      const [m, v] = [await read(mean), await read(variance)];
      assert.ok(Number.isNaN(v[2]!), `moments with ${bad}: variance ${v[2]}`);
      assert.ok(!Number.isFinite(m[2]!), `moments with ${bad}: mean ${m[2]}`);
      for (const k of [0, 1, 3, 4]) assert.ok(Number.isFinite(m[k]!) && Number.isFinite(v[k]!));
      const g = be.batchNormTrainingBackward(
        be.write(randn(rows * c), 'float32'),
        xs,
        mean,
        variance,
        be.write([1, 1, 1, 1, 1], 'float32'),
        c,
        1e-3,
      );
      const dx = await read(g.dx);
      assert.ok(Number.isNaN(dx[2]!) && Number.isNaN(dx[c * 7 + 2]!), `dx with ${bad}`);
      assert.ok(Number.isFinite(dx[0]!) && Number.isFinite(dx[c * 7 + 4]!));
      assert.ok(Number.isNaN((await read(g.dGamma))[2]!));
    }
    // No rows: NaN statistics (as the composed mean of nothing), an empty dx.
    const empty = be.write([], 'float32');
    const e = be.moments(empty, 3);
    assert.ok(Array.from(await read(e.mean)).every(Number.isNaN));
    assert.ok(Array.from(await read(e.variance)).every(Number.isNaN));
    const ge = be.batchNormTrainingBackward(
      empty,
      empty,
      e.mean,
      e.variance,
      be.write([1, 1, 1], 'float32'),
      3,
      1e-3,
    );
    assert.equal((await read(ge.dx)).length, 0);
    assert.deepEqual(Array.from(await read(ge.dBeta)), [0, 0, 0]);
  });

  test('local response normalization, forward and backward (within 1e-4)', async () => {
    for (const [n, c, r] of [
      [4000, 10, 2],
      [4000, 100, 10],
      [7 * 5, 5, 2],
      [3 * 16, 16, 2],
    ] as const) {
      const x = randn(n);
      const dy = randn(n);
      await same([x], (k, [v]) => k.lrn(v!, c, r, 1, 1e-2, 0.75), `lrn ${n}/${c} radius ${r}`);
      await same(
        [x, dy],
        (k, [v, d]) => k.lrnBackward(v!, d!, c, r, 1, 1e-2, 0.75),
        `lrnBackward ${n}/${c} radius ${r}`,
      );
    }
  });
});

forEachConfig('pooling', ({ test, same, read, randn, be }) => {
  test('pooling, forward and backward: bit-identical, ties to the first maximum', async () => {
    for (const p of poolCases) {
      const x = randn(p.batch * p.inH * p.inW * p.channels);
      for (let i = 1; i < x.length; i += 7) x[i] = 0; // the ties of ReLU's zeros
      x[p.channels] = x[0]!; // a tie in one window: the first maximum takes the gradient
      const dy = randn(p.batch * p.outH * p.outW * p.channels);
      dy[1] = -0; // 0 + -0 is +0 in the reference's sums
      const m = JSON.stringify(p);
      await same([x], (k, [v]) => k.avgPool(v!, p), `avgPool ${m}`, true);
      await same([dy], (k, [d]) => k.avgPoolBackward(d!, p), `avgPoolBackward ${m}`, true);
      await same([x], (k, [v]) => k.maxPool(v!, p), `maxPool ${m}`, true);
      await same(
        [dy, x],
        (k, [d, v]) => k.maxPoolBackward(d!, v!, p),
        `maxPoolBackward ${m}`,
        true,
      );
    }
  });

  test('pooling gradients into reused arrays: every element written', async () => {
    if (!be.beginScope || !be.endScope || !be.free) return;
    // A pooled array holds an old tensor's values; the disjoint-window kernels write every
    // element instead of adding into zeros, which a NaN left anywhere would show.
    for (const p of poolCases) {
      const inSize = p.batch * p.inH * p.inW * p.channels;
      const x = randn(inSize);
      const dy = randn(p.batch * p.outH * p.outW * p.channels);
      for (const mode of ['avg', 'max'] as const) {
        const kernel = (b: Backend) =>
          mode === 'avg'
            ? b.avgPoolBackward(b.write(dy, 'float32'), p)
            : b.maxPoolBackward(b.write(dy, 'float32'), b.write(x, 'float32'), p);
        const expected = js.read(kernel(js));
        be.beginScope();
        be.free([be.write(new Float32Array(inSize).fill(Number.NaN), 'float32')]);
        const actual = await read(kernel(be));
        be.endScope(new Set());
        assertSame(
          actual,
          expected,
          `${mode}PoolBackward into a reused array ${JSON.stringify(p)}`,
        );
      }
    }
  });
});

forEachConfig('data movement, checks, optimizer', ({ test, same, read, randn, be, cfg }) => {
  test('transpose, slice, pad, concat, select, cast, fill, oneHot: bit-identical', async () => {
    const shape = [3, 17, 5, 4];
    const x = randn(size(shape));
    await same([x], (k, [v]) => k.transpose(v!, shape, [0, 3, 1, 2]), 'transpose', true);
    await same([x], (k, [v]) => k.transpose(v!, shape, [3, 2, 1, 0]), 'transpose reversed', true);
    await same([x], (k, [v]) => k.slice(v!, shape, [1, 2, 0, 1], [2, 13, 5, 2]), 'slice', true);
    const paddings: [number, number][] = [
      [0, 1],
      [2, 0],
      [1, 1],
      [0, 0],
    ];
    await same([x], (k, [v]) => k.pad(v!, shape, paddings, 0), 'pad with 0', true);
    await same([x], (k, [v]) => k.pad(v!, shape, paddings, -2.5), 'pad with -2.5', true);
    const y = randn(3 * 17 * 2 * 4);
    await same(
      [x, y],
      (k, [a, b]) => k.concat([a!, b!], [shape, [3, 17, 2, 4]], 2),
      'concat on axis 2',
      true,
    );
    const cond = randn(x.length).map((v) => (v > 0 ? 1 : 0));
    await same([cond, x, randn(x.length)], (k, [c, a, b]) => k.select(c!, a!, b!), 'select', true);
    await same([x.map((v) => v * 10)], (k, [v]) => k.cast(v!, 'int32'), 'cast to int32', true);
    await same([], (k) => k.fill(5000, 0.25, 'float32'), 'fill', true);
    await same(
      [],
      (k) => k.oneHot(k.write([0, 3, 9, -1, 10, 2], 'int32'), 10),
      'oneHot (out of range: zeros)',
      true,
    );
  });

  test('firstNonFinite: the first NaN or ±Infinity, or -1', () => {
    for (const n of [5, 1003, 70001]) {
      const x = randn(n);
      const check = (expected: number, msg: string) => {
        if (cfg.scoped) be.beginScope!();
        try {
          assert.equal(be.firstNonFinite(be.write(x, 'float32')), expected, `${msg} (${n})`);
        } finally {
          if (cfg.scoped) be.endScope!(new Set());
        }
        assert.equal(js.firstNonFinite(js.write(x, 'float32')), expected, `js: ${msg} (${n})`);
      };
      check(-1, 'all finite');
      x[n - 1] = Number.NEGATIVE_INFINITY;
      check(n - 1, '-Infinity last');
      x[Math.floor(n / 2)] = Number.NaN;
      check(Math.floor(n / 2), 'NaN in the middle');
      x[1] = Number.POSITIVE_INFINITY;
      check(1, 'Infinity second');
    }
  });

  test('adamUpdate equals the composed ops of optim/adam.ts bit for bit (with and without AMSGrad)', async () => {
    if (!be.adamUpdate) return;
    const n = 1003; // not a multiple of 4: the scalar tail too
    const [p, g, m] = [randn(n), randn(n), randn(n)];
    const v = randn(n).map(Math.abs);
    const vMax = randn(n).map(Math.abs);
    const h = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, sqrtBias2: Math.sqrt(1 - 0.999 ** 3) };
    const scalars = { ...h, stepSize: 0.001 / (1 - 0.9 ** 3) };
    // The reference: js kernels composed as optim/adam.ts composes the ops.
    const J = (a: ArrayLike<number>) => js.write(a, 'float32');
    const sc = (x: number) => js.write([x], 'float32');
    const bin = (op: BinaryOp, a: Storage, b: Storage) =>
      js.binary(op, a, [a.size], b, b.size === 1 ? [] : [b.size], [a.size]);
    const m1 = bin('add', bin('mul', J(m), sc(h.beta1)), bin('mul', J(g), sc(1 - h.beta1)));
    const v1 = bin(
      'add',
      bin('mul', J(v), sc(h.beta2)),
      bin('mul', js.unary('square', J(g)), sc(1 - h.beta2)),
    );
    for (const ams of [false, true]) {
      const second = ams ? bin('maximum', J(vMax), v1) : v1;
      const denom = bin(
        'add',
        bin('div', js.unary('sqrt', second), sc(h.sqrtBias2)),
        sc(h.epsilon),
      );
      const p1 = bin('sub', J(p), bin('mul', bin('div', m1, denom), sc(scalars.stepSize)));
      be.beginScope?.();
      const r = be.adamUpdate(
        be.write(p, 'float32'),
        be.write(g, 'float32'),
        be.write(m, 'float32'),
        be.write(v, 'float32'),
        ams ? be.write(vMax, 'float32') : null,
        scalars,
      );
      assert.ok(r);
      assertSame(await read(r.p), js.read(p1), `p (amsgrad ${ams})`);
      assertSame(await read(r.m), js.read(m1), `m (amsgrad ${ams})`);
      assertSame(await read(r.v), js.read(v1), `v (amsgrad ${ams})`);
      if (ams) assertSame(await read(r.vMax!), js.read(second), 'vMax');
      be.endScope?.(new Set());
    }
  });

  test('sgdUpdate equals the composed ops of optim/sgd.ts bit for bit (momentum, Nesterov, weight decay)', async () => {
    if (!be.sgdUpdate) return;
    const n = 1003; // not a multiple of 4: the scalar tail too
    const [p, g, buf] = [randn(n), randn(n), randn(n)];
    const J = (a: ArrayLike<number>) => js.write(a, 'float32');
    const sc = (x: number) => js.write([x], 'float32');
    const bin = (op: BinaryOp, a: Storage, b: Storage) =>
      js.binary(op, a, [a.size], b, b.size === 1 ? [] : [b.size], [a.size]);
    const cases = [
      { learningRate: 0.1, momentum: 0, nesterov: false, weightDecay: 0 },
      { learningRate: 0.01, momentum: 0, nesterov: false, weightDecay: 5e-4 },
      { learningRate: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 },
      { learningRate: 0.03, momentum: 0.9, nesterov: false, weightDecay: 5e-4 },
      { learningRate: 0.03, momentum: 0.85, nesterov: true, weightDecay: 0 },
      { learningRate: 0.2, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    ];
    for (const h of cases) {
      // The reference: js kernels composed as optim/sgd.ts composes the ops.
      let d = h.weightDecay !== 0 ? bin('add', J(g), bin('mul', J(p), sc(h.weightDecay))) : J(g);
      const gd = d;
      let b1: Storage | null = null;
      if (h.momentum > 0) {
        b1 = bin('add', bin('mul', J(buf), sc(h.momentum)), gd);
        d = h.nesterov ? bin('add', gd, bin('mul', b1, sc(h.momentum))) : b1;
      }
      const p1 = bin('sub', J(p), bin('mul', d, sc(h.learningRate)));
      be.beginScope?.();
      const r = be.sgdUpdate(
        be.write(p, 'float32'),
        be.write(g, 'float32'),
        h.momentum > 0 ? be.write(buf, 'float32') : null,
        h,
      );
      assert.ok(r);
      const what = JSON.stringify(h);
      assertSame(await read(r.p), js.read(p1), `p ${what}`);
      if (b1) assertSame(await read(r.buf!), js.read(b1), `buf ${what}`);
      else assert.equal(r.buf, null);
      be.endScope?.(new Set());
    }
  });

  test('kernels writing into reused arrays (step scopes) give the reference values', async () => {
    if (!be.beginScope || !be.endScope) return;
    const c = convInfo({ batch: 2, inH: 12, inW: 12, inC: 16, outC: 16, k: [3, 3] });
    const x = randn(c.batch * c.inH * c.inW * c.inC);
    const w1 = randn(9 * 16 * 16);
    const w2 = randn(9 * 16 * 16);
    const paddings: [number, number][] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    for (let step = 0; step < 4; step++) {
      // A training step's pattern: make, use, free; the next step gets the same arrays back,
      // a new filter included (a cache of reordered filters must not take it for the old).
      be.beginScope();
      const w = step % 2 ? w2 : w1;
      const xs = be.write(x, 'float32');
      const ws = be.write(w, 'float32');
      const y = be.conv2d(xs, ws, c);
      const y2 = be.conv2d(xs, ws, c);
      const expected = js.read(js.conv2d(js.write(x, 'float32'), js.write(w, 'float32'), c));
      assertRel(await read(y), expected, `step ${step}`);
      assertRel(await read(y2), expected, `step ${step}, again`);
      // Kernels of the js parent count on zeroed outputs.
      const padded = be.pad(y, [2, 10, 10, 16], paddings, 0);
      const p = js.read(js.pad(js.write(expected, 'float32'), [2, 10, 10, 16], paddings, 0));
      assertRel(await read(padded), p, `pad, step ${step}`);
      const dy = be.write(randn(y.size), 'float32');
      const dx = be.avgPoolBackward(dy, poolInfo({ inH: 20, inW: 20, channels: 4 }));
      assert.equal((await read(dx)).filter((v) => Number.isNaN(v)).length, 0);
      be.endScope(new Set());
    }
  });
});

forEachTarget('through the ops, with autograd', (target, rng) => {
  const randn = (n: number) => randomValues(rng, n);
  async function both(fn: () => rc.Tensor[], msg: string, exact = false): Promise<void> {
    // Read with await, after the backend is restored (a GPU's tensors cannot be read at once).
    const run = (name: string) => Promise.all(withBackend(name, fn).map((t) => t.data()));
    const expected = await run('js');
    const actual = await run(target.name);
    assert.equal(actual.length, expected.length);
    expected.forEach((e, i) => {
      if (exact) assertSame(actual[i]!, e, `${msg} [${i}]`);
      else assertRel(actual[i]!, e, `${msg} [${i}]`);
    });
  }

  function grads(
    f: (x: rc.Tensor, w: rc.Tensor) => rc.Tensor,
    xShape: number[],
    wShape: number[],
  ): () => rc.Tensor[] {
    const xv = randn(size(xShape));
    const wv = randn(size(wShape));
    return () => {
      const x = rc.tensor(xv, xShape);
      const w = rc.tensor(wv, wShape);
      x.requiresGrad = true;
      w.requiresGrad = true;
      const y = f(x, w);
      rc.sum(rc.mul(y, y)).backward();
      return [y, x.grad!, w.grad!];
    };
  }

  test('conv2d, depthwiseConv2d, conv2dTranspose and matmul with their gradients', async () => {
    await both(
      grads(
        (x, w) => rc.conv2d(x, w, { strides: 2, padding: 'same', dilationRate: 1 }),
        [2, 9, 8, 4],
        [3, 3, 4, 6],
      ),
      'conv2d',
    );
    await both(
      grads((x, w) => rc.conv2d(x, w, { groups: 2, dilationRate: 2 }), [1, 9, 9, 4], [2, 2, 2, 6]),
      'conv2d groups',
    );
    await both(
      grads((x, w) => rc.depthwiseConv2d(x, w, { padding: 'same' }), [2, 7, 6, 3], [3, 3, 3, 2]),
      'depthwiseConv2d',
    );
    await both(
      grads(
        (x, w) => rc.conv2dTranspose(x, w, { strides: 2, padding: 'same' }),
        [2, 4, 5, 3],
        [3, 3, 5, 3],
      ),
      'conv2dTranspose',
    );
    await both(
      grads((a, b) => rc.matmul(a, b, false, true), [7, 13], [5, 13]),
      'matmul',
    );
  });

  test('training-mode batch norm, conv, relu and pooling, end to end', async () => {
    const xv = randn(4 * 8 * 8 * 16);
    const wv = randn(3 * 3 * 16 * 8);
    const gv = randn(16);
    await both(() => {
      const x = rc.tensor(xv, [4, 8, 8, 16]);
      const w = rc.tensor(wv, [3, 3, 16, 8]);
      const gamma = rc.tensor(gv, [16]);
      for (const t of [x, w, gamma]) t.requiresGrad = true;
      const { mean, variance } = rc.moments(x, [0, 1, 2]);
      const h = rc.batchNorm(x, mean, variance, gamma, rc.zeros([16]), 1e-3);
      const y = rc.maxPool2d(rc.relu(rc.conv2d(h, w, { padding: 'same' })), { poolSize: 2 });
      const z = rc.avgPool2d(y, { poolSize: 3, strides: 1, padding: 'same' });
      rc.sum(rc.mul(z, z)).backward();
      return [z, x.grad!, w.grad!, gamma.grad!];
    }, 'batchNorm + conv + relu + maxPool + avgPool');
  });

  test("the fused Adam step gives the composed ops' values bit for bit (with AMSGrad too)", async () => {
    for (const amsgrad of [false, true]) {
      const shapes = [[3], [7, 5], [3, 3, 64, 64]];
      await both(
        () => {
          rc.setSeed(3);
          const params = shapes.map((s) => rc.randn(s));
          const opt = new rc.Adam({ learningRate: 0.01, amsgrad });
          for (let step = 0; step < 3; step++) {
            params.forEach((p, i) => {
              p.requiresGrad = true;
              p.grad = rc.mul(rc.randn(shapes[i]!), step + 1);
            });
            opt.step(params);
          }
          return [...params, ...opt.slotTensors()];
        },
        `amsgrad ${amsgrad}`,
        true,
      );
    }
  });

  test('a tensor from another backend is refused with a message that names both', () => {
    const t = withBackend('js', () => rc.tensor([1, 2, 3, 4], [2, 2]));
    withBackend(target.name, () => {
      assert.throws(
        () => rc.matmul(t, t),
        new RegExp(`lives on the 'js' backend.*current backend is '${target.name}'`),
      );
    });
  });
});
