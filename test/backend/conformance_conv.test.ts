/**
 * Conformance, the heavy half (GEMM and convolutions; conformance.test.ts has the rest, in
 * another process): every backend of conformance.ts against the js reference, at the Backend
 * interface, on every configuration (builds, memories, one thread and several). Matmul over
 * sizes chosen to miss the SIMD widths and the micro-tiles (1, 3, 5, 7, 13, 33, 257) and every
 * transpose combination; conv2d forward and both gradients over kernel_cases.ts's convolutions
 * (stride, dilation, groups, depthwise multipliers, asymmetric 'same' padding, explicit
 * padding, 1×1, 7×7 and non-square kernels); conv2dFused where a backend has it. These sum in
 * another order than the reference: tolerance 1e-4 relative to the largest value.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { forEachConfig, js } from './conformance.js';
import { assertRel, convCases, convInfo } from './kernel_cases.js';

forEachConfig('matmul', ({ test, same, read, randn, be }) => {
  const sizes = [1, 3, 5, 7, 13, 33, 257];
  const triples: [number, number, number][] = [];
  for (const m of sizes) for (const n of sizes) triples.push([m, n, sizes[(m + n) % 7]!]);
  triples.push([4, 8, 256], [130, 1030, 300], [128, 120, 256], [128, 1024, 257], [1, 300, 1]);
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    test(`all sizes, transA = ${tA}, transB = ${tB}`, async () => {
      for (const [m, n, k] of triples) {
        const batch = m * n * k < 5000 ? 3 : 1;
        await same(
          [randn(batch * m * k), randn(batch * k * n)],
          (b, [x, y]) => b.matmul(x!, y!, { batch, m, n, k, transA: tA, transB: tB }),
          `matmul batch ${batch} m ${m} n ${n} k ${k}`,
        );
      }
    });
  }

  test('k = 0 gives zeros, m = 0 or n = 0 gives an empty result', async () => {
    for (const [m, n, k] of [
      [3, 5, 0],
      [0, 5, 3],
      [3, 0, 5],
    ] as const) {
      const out = await read(
        be.matmul(be.write(randn(m * k), 'float32'), be.write(randn(k * n), 'float32'), {
          batch: 1,
          m,
          n,
          k,
          transA: false,
          transB: false,
        }),
      );
      assert.deepEqual(Array.from(out), new Array(m * n).fill(0));
    }
  });

  test('the scratch memory grows for a large call and is reused by the next small one', async () => {
    await same(
      [randn(600 * 700), randn(700 * 500)],
      (b, [x, y]) =>
        b.matmul(x!, y!, { batch: 1, m: 600, n: 500, k: 700, transA: false, transB: false }),
      'large',
    );
    await same(
      [randn(15), randn(20)],
      (b, [x, y]) => b.matmul(x!, y!, { batch: 1, m: 3, n: 4, k: 5, transA: false, transB: false }),
      'small after large',
    );
  });
});

forEachConfig('conv2d, forward and both gradients', ({ test, same, read, randn, be, target }) => {
  for (const [name, c] of convCases) {
    test(name, async () => {
      const xSize = c.batch * c.inH * c.inW * c.inC;
      const wSize = c.kh * c.kw * (c.inC / c.groups) * c.outC;
      const ySize = c.batch * c.outH * c.outW * c.outC;
      const [x, w, dy] = [randn(xSize), randn(wSize), randn(ySize)];
      await same([x, w], (b, [xs, ws]) => b.conv2d(xs!, ws!, c), `${name}: forward`);
      await same(
        [dy, w],
        (b, [d, ws]) => b.conv2dBackwardInput(d!, ws!, c),
        `${name}: backward input`,
      );
      await same(
        [x, dy],
        (b, [xs, d]) => b.conv2dBackwardFilter(xs!, d!, c),
        `${name}: backward filter`,
      );
      if (!be.conv2dFused) return;
      // Inference: bias, residual and ReLU applied by the convolution (js: separate kernels).
      const bias = randn(c.outC);
      const res = randn(ySize);
      const shape = [c.batch, c.outH, c.outW, c.outC];
      for (const [relu, withRes] of [
        [false, false],
        [true, false],
        [true, true],
        [false, true],
      ] as const) {
        await same(
          [x, w, bias, res],
          (b, [xs, ws, bs, rs]) => {
            const r = withRes ? rs! : null;
            const fused = b.conv2dFused?.(xs!, ws!, c, { bias: bs!, relu, residual: r });
            if (b === be && (target.fuses?.(be, c, withRes) ?? false)) {
              assert.ok(fused, `${name}: the fused kernel ran`);
            }
            if (fused) return fused;
            let y = b.binary('add', b.conv2d(xs!, ws!, c), shape, bs!, [c.outC], shape);
            if (r) y = b.binary('add', y, shape, r, shape, shape);
            return relu ? b.unary('relu', y) : y;
          },
          `${name}: conv2d + bias${withRes ? ' + residual' : ''}${relu ? ' + relu' : ''}`,
        );
      }
    });
  }

  test('the same geometry again (a cached primitive) with new values', async () => {
    const c = convCases[1]![1];
    for (let i = 0; i < 2; i++) {
      const x = randn(c.batch * c.inH * c.inW * c.inC);
      const w = randn(c.kh * c.kw * c.inC * c.outC);
      await same([x, w], (b, [xs, ws]) => b.conv2d(xs!, ws!, c), `call ${i}`);
    }
  });

  test('filters used again are kept reordered; each filter array keeps its own', async () => {
    // Four filters of one geometry in turn, three rounds (as ResNet's identical blocks in
    // repeated predictions), then new filters: every result is the reference's.
    const c = convInfo({ batch: 1, inH: 9, inW: 9, inC: 32, outC: 48, k: [3, 3] });
    const x = randn(c.inH * c.inW * c.inC);
    const filters = [0, 1, 2, 3].map(() => randn(9 * c.inC * c.outC));
    const xs = be.write(x, 'float32');
    const ws = filters.map((w) => be.write(w, 'float32'));
    const expected = filters.map((w) =>
      js.read(js.conv2d(js.write(x, 'float32'), js.write(w, 'float32'), c)),
    );
    for (let round = 0; round < 3; round++) {
      for (const [i, w] of ws.entries()) {
        assertRel(await read(be.conv2d(xs, w, c)), expected[i]!, `round ${round}, filter ${i}`);
      }
    }
    const fresh = randn(9 * c.inC * c.outC);
    await same([x, fresh], (b: Backend, [a, w]) => b.conv2d(a!, w!, c), 'a new filter');
  });
});
