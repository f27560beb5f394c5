/**
 * Equivalence: every kernel of the wasm backend against the js reference kernel on random
 * inputs, at the Backend interface (so no autograd in between), over shapes chosen to miss the
 * SIMD widths and the 4×8 micro-tile (1, 3, 5, 7, 13, 33, 257), every transpose combination,
 * and convolutions with stride, dilation, groups, depthwise multipliers, asymmetric 'same'
 * padding, explicit padding, 1×1 and non-square kernels. Float32 sums in another order, so the
 * tolerance is relative to the size of the values: 1e-4.
 *
 * Both builds of the kernels are checked where the engine runs them (the relaxed-SIMD build
 * needs Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend, BinaryOp, Storage } from '../../src/backend/backend.js';
import { backendByName, backendNames } from '../../src/backend/registry.js';
import {
  WasmBackend,
  type WasmVariant,
  wasmSupported,
  wasmVariantSupported,
} from '../../src/backend/wasm/wasm_backend.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { assertClose, withBackend } from '../helpers.js';
import {
  assertRel,
  assertSame,
  broadcast,
  checkActivationGrad,
  convCases,
  convInfo,
  poolCases,
  randomValues,
} from './kernel_cases.js';

const rng = new Random(1234);
const js = backendByName('js');

const randn = (n: number) => randomValues(rng, n);

/** Runs the same kernel on the js backend and on `be` with the same values; compares. */
function same(
  be: Backend,
  inputs: Float32Array[],
  kernel: (b: Backend, s: Storage[]) => Storage,
  msg: string,
  exact = false,
): void {
  const expected = js.read(
    kernel(
      js,
      inputs.map((v) => js.write(v, 'float32')),
    ),
  );
  // A wasm backend with shared memory keeps tensors in wasm memory inside a scope (a training
  // step): run there, so that kernels read and write tensors in place; outside, JS arrays.
  const scoped = be instanceof WasmBackend && be.resident;
  if (scoped) be.beginScope();
  let actual: Float32Array | Int32Array;
  try {
    actual = be.read(
      kernel(
        be,
        inputs.map((v) => be.write(v, 'float32')),
      ),
    );
  } finally {
    if (scoped) be.endScope(new Set());
  }
  if (exact) assertSame(actual, expected, msg);
  else assertRel(actual, expected, msg);
}

/** The builds to check: the default one, and the relaxed-SIMD one where it runs. */
const variants: WasmVariant[] = (['simd', 'relaxed'] as const).filter((v) =>
  wasmVariantSupported(v),
);

describe('wasm backend', () => {
  test('WebAssembly SIMD is available here, and the registry offers and defaults to wasm', () => {
    assert.ok(wasmSupported(), 'this engine has no WebAssembly SIMD');
    assert.ok(backendNames().includes('wasm'));
    assert.equal(backendByName('wasm').name, 'wasm');
    if (!process.env.RECEPTIVE_BACKEND) {
      // Without the override the default backend is wasm, or native where its addon loads
      // (when another test file has not switched it; this file never calls setBackend).
      assert.equal(rc.getBackend(), rc.nativeBackendStatus().available ? 'native' : 'wasm');
    }
  });

  // Each build on one thread with its own memory, and on three threads sharing one memory
  // with every call split (uneven splits, a worker per piece).
  const modes = [
    { name: 'own memory, tensors in JS arrays', options: { shared: false } },
    { name: 'tensors in shared memory, one thread', options: {} },
    { name: 'three threads', options: { threads: 3, minParallelFlops: 0 } },
  ];
  for (const variant of variants)
    for (const mode of modes) {
      const be = new WasmBackend({ variant, ...mode.options });
      describe(`${variant} build, ${mode.name}`, () => {
        if (mode.options.threads) {
          test('the workers start and share the memory', () => {
            assert.equal(be.threads, 3);
            assert.ok(be.shared);
            assert.ok(be.waitForThreads(20000), 'workers did not start within 20 s');
          });
        }

        describe('matmul', () => {
          const sizes = [1, 3, 5, 7, 13, 33, 257];
          const triples: [number, number, number][] = [];
          for (const m of sizes) for (const n of sizes) triples.push([m, n, sizes[(m + n) % 7]!]);
          triples.push([4, 8, 256], [130, 1030, 300], [128, 1024, 257], [1, 300, 1]);
          for (const [tA, tB] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ] as const) {
            test(`all sizes, transA = ${tA}, transB = ${tB}`, () => {
              for (const [m, n, k] of triples) {
                const batch = m * n * k < 5000 ? 3 : 1;
                same(
                  be,
                  [randn(batch * m * k), randn(batch * k * n)],
                  (b, [x, y]) =>
                    b.matmul(x!, y!, { batch: batch, m: m, n: n, k: k, transA: tA, transB: tB }),
                  `matmul batch ${batch} m ${m} n ${n} k ${k}`,
                );
              }
            });
          }

          test('k = 0 gives zeros, m = 0 or n = 0 gives an empty result', () => {
            for (const [m, n, k] of [
              [3, 5, 0],
              [0, 5, 3],
              [3, 0, 5],
            ] as const) {
              const out = be.read(
                be.matmul(be.write(randn(m * k), 'float32'), be.write(randn(k * n), 'float32'), {
                  batch: 1,
                  m: m,
                  n: n,
                  k: k,
                  transA: false,
                  transB: false,
                }),
              );
              assert.deepEqual(Array.from(out), new Array(m * n).fill(0));
            }
          });
        });

        describe('conv2d, forward and both gradients', () => {
          for (const [name, c] of convCases) {
            test(name, () => {
              const xSize = c.batch * c.inH * c.inW * c.inC;
              const wSize = c.kh * c.kw * (c.inC / c.groups) * c.outC;
              const ySize = c.batch * c.outH * c.outW * c.outC;
              const [x, w, dy] = [randn(xSize), randn(wSize), randn(ySize)];
              same(be, [x, w], (b, [xs, ws]) => b.conv2d(xs!, ws!, c), `${name}: forward`);
              same(
                be,
                [dy, w],
                (b, [d, ws]) => b.conv2dBackwardInput(d!, ws!, c),
                `${name}: backward input`,
              );
              same(
                be,
                [x, dy],
                (b, [xs, d]) => b.conv2dBackwardFilter(xs!, d!, c),
                `${name}: backward filter`,
              );
            });
          }
        });

        test('with a small heap, tensors that do not fit are JS arrays and results agree', () => {
          const small = new WasmBackend({ variant, ...mode.options, heapLimitBytes: 3 * 2 ** 20 });
          small.waitForThreads();
          const c = convInfo({
            batch: 7,
            inH: 30,
            inW: 30,
            inC: 8,
            outC: 16,
            k: [3, 3],
            padding: 'same',
          });
          const xSize = c.batch * c.inH * c.inW * c.inC;
          const ySize = c.batch * c.outH * c.outW * c.outC;
          const [x, w, dy] = [randn(xSize), randn(3 * 3 * 8 * 16), randn(ySize)];
          same(small, [x, w], (b, [xs, ws]) => b.conv2d(xs!, ws!, c), 'small heap: forward');
          same(
            small,
            [dy, w],
            (b, [d, ws]) => b.conv2dBackwardInput(d!, ws!, c),
            'small heap: input',
          );
          same(
            small,
            [x, dy],
            (b, [xs, d]) => b.conv2dBackwardFilter(xs!, d!, c),
            'small heap: filter',
          );
          same(
            small,
            [randn(5 * 200 * 300), randn(5 * 300 * 250)],
            (b, [p, q]) =>
              b.matmul(p!, q!, { batch: 5, m: 200, n: 250, k: 300, transA: false, transB: true }),
            'small heap: matmul',
          );
        });

        test('the scratch memory grows for a large call and is reused by the next small one', () => {
          same(
            be,
            [randn(600 * 700), randn(700 * 500)],
            (b, [x, y]) =>
              b.matmul(x!, y!, { batch: 1, m: 600, n: 500, k: 700, transA: false, transB: false }),
            'large',
          );
          same(
            be,
            [randn(15), randn(20)],
            (b, [x, y]) =>
              b.matmul(x!, y!, { batch: 1, m: 3, n: 4, k: 5, transA: false, transB: false }),
            'small after large',
          );
        });
      });
    }

  test('tensors outside scopes are JS arrays; one read by kernels three times moves into wasm memory', () => {
    const be = new WasmBackend();
    if (!be.resident) return;
    const a = be.write(randn(3000), 'float32');
    const b = be.write(randn(3000), 'float32');
    const addr = (s: Storage) => (s as unknown as { addr: number }).addr;
    assert.equal(addr(a), -1);
    const expected = js.read(
      js.binary(
        'add',
        js.write(be.read(a), 'float32'),
        [3000],
        js.write(be.read(b), 'float32'),
        [3000],
        [3000],
      ),
    );
    for (let i = 0; i < 3; i++) {
      const sum = be.binary('add', a, [3000], b, [3000], [3000]);
      assertSame(be.read(sum), expected, `use ${i + 1}`);
      assert.equal(addr(sum), -1, 'an output made outside a scope is a JS array');
    }
    assert.ok(addr(a) >= 0, 'moved into wasm memory after three uses');
    assertSame(be.read(a), be.read(a), 'values survive the move');
    const sum = be.binary('add', a, [3000], b, [3000], [3000]);
    assertSame(be.read(sum), expected, 'after the move');
    // predict-like results leave wasm memory when their scope ends with detach.
    be.beginScope();
    const kept = be.binary('mul', a, [3000], b, [3000], [3000]);
    assert.ok(addr(kept) >= 0);
    be.endScope(new Set([kept]), true);
    assert.equal(addr(kept), -1);
    assert.equal(be.read(kept).length, 3000);
  });

  test('activationGrad equals the composed ops of ops/activations.ts bit for bit', () => {
    for (const be of [new WasmBackend({ shared: false }), new WasmBackend()]) {
      checkActivationGrad(be, js, new Random(7));
    }
  });

  test('adamUpdate equals the composed ops of optim/adam.ts bit for bit (with and without AMSGrad)', () => {
    for (const be of [new WasmBackend({ shared: false }), new WasmBackend()]) {
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
        be.beginScope();
        const r = be.adamUpdate(
          be.write(p, 'float32'),
          be.write(g, 'float32'),
          be.write(m, 'float32'),
          be.write(v, 'float32'),
          ams ? be.write(vMax, 'float32') : null,
          scalars,
        );
        assert.ok(r);
        assertSame(be.read(r.p), js.read(p1), `p (amsgrad ${ams})`);
        assertSame(be.read(r.m), js.read(m1), `m (amsgrad ${ams})`);
        assertSame(be.read(r.v), js.read(v1), `v (amsgrad ${ams})`);
        if (ams) assertSame(be.read(r.vMax!), js.read(second), 'vMax');
        be.endScope(new Set());
      }
    }
  });

  test('setThreads / getThreads choose the thread count; bad counts get a clear error', () => {
    const wasm = backendByName('wasm');
    const before = wasm.threads ?? 1;
    try {
      rc.setThreads(2);
      assert.equal(wasm.threads, 2);
      rc.setThreads(1);
      assert.equal(wasm.threads, 1);
    } finally {
      rc.setThreads(before);
    }
    assert.throws(() => rc.setThreads(0), /setThreads: expected a whole number ≥ 1, got 0/);
    assert.throws(() => rc.setThreads(1.5), /setThreads/);
  });

  describe('the single-loop JS paths give the reference values', () => {
    const be = backendByName('wasm');
    const binaryCases: [number[], number[]][] = [
      // A short row down every row (biases over channels): run as a repeated pattern row
      // (b's row, then a's; an odd number of rows of 6 has no repeat count that fits: plain path).
      [[64, 12, 12, 6], [6]],
      [[16], [40, 8, 8, 16]],
      [[391, 7, 6], [6]],
      [
        [3000, 6],
        [1, 6],
      ],
      [
        [2, 3, 4],
        [2, 3, 4],
      ],
      [[2, 3, 4], []],
      [[], [5, 1, 2]],
      [[2, 3, 4], [4]],
      [
        [2, 3, 4],
        [3, 1],
      ],
      [
        [2, 1, 4],
        [3, 1],
      ],
      [
        [7, 5, 6, 3],
        [1, 1, 1, 3],
      ],
      [
        [2, 3, 4, 5],
        [3, 1, 5],
      ],
      [
        [2, 1, 3],
        [2, 4, 1],
      ],
      [[1], [1]],
      [[0, 3], [3]],
      // From 2048 elements on, the wasm kernels run instead of the JS loops.
      [
        [2, 50, 41],
        [2, 50, 41],
      ],
      [[64, 9, 8], [8]],
      [[70, 70], []],
      [[], [3, 37, 29]],
      [
        [3, 40, 50],
        [40, 1],
      ],
      [
        [128, 6, 6, 5],
        [1, 1, 1, 5],
      ],
      [
        [2, 3, 40, 50],
        [3, 1, 50],
      ],
      [
        [50, 1, 3],
        [50, 41, 1],
      ],
    ];
    for (const op of [
      'add',
      'sub',
      'mul',
      'div',
      'maximum',
      'minimum',
      'pow',
      'greater',
      'equal',
    ] as const) {
      test(`binary ${op} with broadcasting`, () => {
        for (const [aShape, bShape] of binaryCases) {
          const outShape = broadcast(aShape, bShape);
          const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
          const a = randn(size(aShape));
          const b = randn(size(bShape));
          if (op === 'pow') for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i]!);
          if (op === 'equal' && a.length > 0 && b.length > 0) b[0] = a[0]!;
          same(
            be,
            [a, b],
            (k, [x, y]) => k.binary(op, x!, aShape, y!, bShape, outShape),
            `${op} ${JSON.stringify(aShape)} ${JSON.stringify(bShape)}`,
            true,
          );
        }
      });
    }

    for (const n of [1000, 5003]) {
      test(`unary ops on ${n} values (tanh within 1e-6 relative, the rest exact)`, () => {
        const x = randn(n).map((v) => v * 12);
        x[0] = 0;
        x[1] = Number.NaN;
        x[2] = 1e-5;
        x[3] = -0;
        x[4] = Number.POSITIVE_INFINITY;
        x[5] = Number.NEGATIVE_INFINITY;
        x[6] = 8.5;
        x[7] = -20;
        x[n - 1] = Number.NaN;
        for (const op of [
          'neg',
          'abs',
          'square',
          'relu',
          'step',
          'exp',
          'sqrt',
          'log',
          'sigmoid',
          'sign',
        ] as const) {
          same(be, [x], (k, [v]) => k.unary(op, v!), op, true);
        }
        const t = be.read(be.unary('tanh', be.write(x, 'float32')));
        const r = js.read(js.unary('tanh', js.write(x, 'float32')));
        for (const i of [1, n - 1]) {
          assert.ok(Number.isNaN(t[i]!), `tanh(NaN) at ${i}`);
          t[i] = r[i] = 0;
        }
        assertClose(t, r, { atol: 1e-30, rtol: 1e-6, msg: 'tanh' });
      });
    }

    test('sum over axes (bias gradients, row sums, everything) and the other reductions', () => {
      for (const shape of [
        [3, 4, 5, 6],
        [30, 8, 9, 7],
        [1, 3000, 1],
      ]) {
        const x = randn(shape.reduce((a, b) => a * b, 1));
        for (const axes of [
          [0],
          [3],
          [0, 1, 2],
          [1, 2, 3],
          [0, 1, 2, 3],
          [1],
          [0, 2],
          [1, 3],
          [],
        ]) {
          const ax = axes.filter((a) => a < shape.length);
          for (const op of ['sum', 'max', 'min'] as const) {
            same(be, [x], (k, [v]) => k.reduce(op, v!, shape, ax), `${op} ${shape} ${ax}`, true);
          }
        }
      }
    });

    test('average and max pooling, forward and backward, with padding and strides', () => {
      for (const p of poolCases) {
        const x = randn(p.batch * p.inH * p.inW * p.channels);
        x[p.channels] = x[0]!; // a tie in one window: the first maximum takes the gradient
        const dy = randn(p.batch * p.outH * p.outW * p.channels);
        const m = JSON.stringify(p);
        same(be, [x], (k, [v]) => k.avgPool(v!, p), `avgPool ${m}`, true);
        same(be, [dy], (k, [d]) => k.avgPoolBackward(d!, p), `avgPoolBackward ${m}`, true);
        same(be, [x], (k, [v]) => k.maxPool(v!, p), `maxPool ${m}`, true);
        same(
          be,
          [dy, x],
          (k, [d, v]) => k.maxPoolBackward(d!, v!, p),
          `maxPoolBackward ${m}`,
          true,
        );
      }
    });
  });

  describe('through the ops, with autograd', () => {
    function both(fn: () => rc.Tensor[], msg: string): void {
      const run = (name: string) => withBackend(name, () => fn().map((t) => t.dataSync()));
      const expected = run('js');
      const actual = run('wasm');
      expected.forEach((e, i) => {
        assertRel(actual[i]!, e, `${msg} [${i}]`);
      });
    }

    function grads(
      f: (x: rc.Tensor, w: rc.Tensor) => rc.Tensor,
      xShape: number[],
      wShape: number[],
    ): () => rc.Tensor[] {
      const xv = randn(xShape.reduce((a, b) => a * b, 1));
      const wv = randn(wShape.reduce((a, b) => a * b, 1));
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

    test('conv2d, depthwiseConv2d, conv2dTranspose and matmul with their gradients', () => {
      both(
        grads(
          (x, w) => rc.conv2d(x, w, { strides: 2, padding: 'same', dilationRate: 1 }),
          [2, 9, 8, 4],
          [3, 3, 4, 6],
        ),
        'conv2d',
      );
      both(
        grads(
          (x, w) => rc.conv2d(x, w, { groups: 2, dilationRate: 2 }),
          [1, 9, 9, 4],
          [2, 2, 2, 6],
        ),
        'conv2d groups',
      );
      both(
        grads((x, w) => rc.depthwiseConv2d(x, w, { padding: 'same' }), [2, 7, 6, 3], [3, 3, 3, 2]),
        'depthwiseConv2d',
      );
      both(
        grads(
          (x, w) => rc.conv2dTranspose(x, w, { strides: 2, padding: 'same' }),
          [2, 4, 5, 3],
          [3, 3, 5, 3],
        ),
        'conv2dTranspose',
      );
      both(
        grads((a, b) => rc.matmul(a, b, false, true), [7, 13], [5, 13]),
        'matmul',
      );
    });

    test('a tensor from another backend is refused with a message that names both', () => {
      const t = withBackend('js', () => rc.tensor([1, 2, 3, 4], [2, 2]));
      withBackend('wasm', () => {
        assert.throws(
          () => rc.matmul(t, t),
          /lives on the 'js' backend.*current backend is 'wasm'/,
        );
      });
    });
  });
});
