/**
 * Randomized differential test against TensorFlow.js (its 'cpu' backend; same NHWC layout and
 * 'same' padding rule): conv2d (strides, dilation, groups, same/valid/explicit padding),
 * depthwiseConv2d (channel multiplier), conv2dTranspose (output padding) and both poolings,
 * forward and gradients (input and filter, of a random-weighted sum of the output), on every
 * backend this process has, with random geometries from fast-check, small ones and wide ones
 * (≥ 16 channels, batch > 1: the fast kernels' paths, Winograd and the direct kernels on
 * native, the column-chunked GEMM on wasm), plus fixed cases for the paths a random draw could
 * miss.
 *
 * TensorFlow.js refuses some geometries receptive has (dilation with stride, dilated
 * transposed convolutions, groups, explicit padding). Those are built from ops it has, all
 * differentiable: the dilated kernel is the kernel with zeros between its taps, groups are
 * convolutions of channel slices, explicit padding is tf.pad, and a transposed convolution's
 * padding is a crop of its 'valid' output. Its avgPool gradient is wrong with 'same' padding
 * (it divides by the whole window where its forward divides by the real pixels), so that
 * gradient is checked against a float64 reference written here instead.
 *
 * Tolerance: a float32 sum of products is off by about (number of terms)·ε·Σ|x·w|, so each
 * value is checked against TOL · Σ|x·w| over its own terms (computed by running the same op on
 * |x|, |w| and |dy|), never against its own size, which cancellation can make tiny. The worst
 * error of every op, pass and backend, as a fraction of its bound, is printed at the end.
 *
 * Backends: every one this process has (js, wasm, native where the addon loads), or only
 * RECEPTIVE_BACKEND's where it is set (CI runs the suite once per backend). A failure prints
 * fast-check's seed, path and the shrunk case; rerun it with DIFF_SEED=<seed> DIFF_PATH=<path>
 * and --test-name-pattern, or try more cases with DIFF_RUNS=<factor> (8: about a minute).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { convInfo } from '../backend/kernel_cases.js';
import { withBackend } from '../helpers.js';

const SEED = Number(process.env.DIFF_SEED ?? 170417);
const RUNS = Number(process.env.DIFF_RUNS ?? 1);
/** Largest error allowed, as a fraction of Σ|x·w| over the value's terms. */
const TOL = 1e-4;

const BACKENDS: string[] = process.env.RECEPTIVE_BACKEND
  ? [rc.getBackend()]
  : ['js', 'wasm', ...(rc.nativeBackendStatus().available ? ['native'] : [])];

type Pad = 'same' | 'valid' | [[number, number], [number, number]];
type Pair = [number, number];

before(async () => {
  await tf.setBackend('cpu');
});

// ---- comparison and the worst cases ----------------------------------------------------------

interface Worst {
  ratio: number;
  detail: string;
}
const worst = new Map<string, Worst>();

/**
 * Checks |actual − expected| ≤ TOL·(mag + 1e-6·max mag) elementwise (mag: a bound on the terms'
 * size, per value or one for all), records the worst ratio for the report, and fails naming
 * the case, the backend, the pass and the first offending index.
 */
function compare(
  key: string,
  who: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  mag: ArrayLike<number> | number,
): void {
  assert.equal(actual.length, expected.length, `${who}: ${key} length`);
  let maxMag = 0;
  for (let i = 0; i < expected.length; i++) {
    maxMag = Math.max(maxMag, typeof mag === 'number' ? mag : mag[i]!);
  }
  let bad = -1;
  let worstRatio = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const m = typeof mag === 'number' ? mag : mag[i]!;
    const bound = TOL * (m + 1e-6 * maxMag) + 1e-30;
    const ratio = Math.abs(actual[i]! - expected[i]!) / bound;
    if (!(ratio <= 1) && bad < 0) bad = i;
    if (ratio > worstRatio || Number.isNaN(ratio)) {
      worstRatio = ratio;
      worstAt = i;
    }
  }
  const prev = worst.get(key);
  if (!prev || !(prev.ratio >= worstRatio)) {
    worst.set(key, {
      ratio: worstRatio,
      detail:
        worstAt < 0
          ? `all ${expected.length} values exact`
          : `${who}, index ${worstAt}: ${actual[worstAt]} vs ${expected[worstAt]}`,
    });
  }
  if (bad >= 0) {
    const m = typeof mag === 'number' ? mag : mag[bad]!;
    assert.fail(
      `${who}: ${key} differs at index ${bad}: got ${actual[bad]}, expected ${expected[bad]} (terms' size ${m}, allowed ${TOL * m})`,
    );
  }
}

after(() => {
  // The worst error of each op, pass and backend, as a fraction of what is allowed.
  const rows = [...worst.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  console.log(
    `tfjs differential (seed ${SEED}): worst |error| / allowed, allowed = ${TOL}·Σ|terms|`,
  );
  for (const [k, w] of rows)
    console.log(`  ${k.padEnd(40)} ${w.ratio.toExponential(2)}  ${w.detail}`);
});

// ---- values ------------------------------------------------------------------------------------

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function normal(shape: number[], rng: Random): Float32Array {
  const a = new Float32Array(sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

const abs = (a: Float32Array) => a.map(Math.abs);

// ---- receptive's side ------------------------------------------------------------------------

interface Result {
  shape: number[];
  y: Float32Array;
  /** Gradient of Σ y·dy for each input. */
  grads: Float32Array[];
}

/** Runs op on `backend` with fresh tensors, and its gradients for the output weights dyOf. */
function runReceptive(
  backend: string,
  op: (...xs: rc.Tensor[]) => rc.Tensor,
  inputs: { shape: number[]; values: Float32Array }[],
  dyOf: (shape: number[]) => Float32Array,
): Result {
  return withBackend(backend, () => {
    const xs = inputs.map((inp) => {
      const t = rc.tensor(inp.values, inp.shape);
      t.requiresGrad = true;
      return t;
    });
    const y = op(...xs);
    const dy = rc.tensor(dyOf(y.shape), y.shape);
    rc.sum(rc.mul(y, dy)).backward();
    return {
      shape: y.shape,
      y: y.dataSync() as Float32Array,
      grads: xs.map((x, i) => {
        assert.ok(x.grad, `input ${i} got no gradient on ${backend}`);
        return x.grad.dataSync() as Float32Array;
      }),
    };
  });
}

// ---- TensorFlow.js's side ----------------------------------------------------------------------

type TfOp = (...xs: tf.Tensor4D[]) => tf.Tensor4D;

/** The TF.js output and the gradients of Σ y·dy (dy: the same weights as receptive's). */
function runTf(
  op: TfOp,
  inputs: { shape: number[]; values: Float32Array }[],
  dyOf: (shape: number[]) => Float32Array,
): Result {
  return tf.tidy(() => {
    const xs = inputs.map((inp) =>
      tf.tensor4d(inp.values, inp.shape as [number, number, number, number]),
    );
    const y = op(...xs);
    const dy = tf.tensor4d(dyOf(y.shape), y.shape);
    const grads = tf.grads((...a: tf.Tensor[]) => op(...(a as tf.Tensor4D[])))(xs, dy);
    return {
      shape: y.shape,
      y: y.dataSync() as Float32Array,
      grads: grads.map((g) => g.dataSync() as Float32Array),
    };
  });
}

/** A kernel [kh, kw, a, b] with dilation − 1 zeros between its taps (differentiable). */
function dilateKernel(w: tf.Tensor4D, [dh, dw]: Pair): tf.Tensor4D {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, a, b] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, a, b]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ]);
  return tf.slice(
    tf.reshape(spread, [kh * dh, kw * dw, a, b]) as tf.Tensor4D,
    [0, 0, 0, 0],
    [(kh - 1) * dh + 1, (kw - 1) * dw + 1, a, b],
  );
}

/** TF.js's padding argument: 'same'/'valid' as they are, explicit padding applied first. */
function tfPadded(x: tf.Tensor4D, padding: Pad): [tf.Tensor4D, 'same' | 'valid'] {
  if (typeof padding === 'string') return [x, padding];
  return [tf.pad(x, [[0, 0], padding[0], padding[1], [0, 0]]), 'valid'];
}

// ---- geometry ----------------------------------------------------------------------------------

const span = (k: number, d: number) => (k - 1) * d + 1;

/** TensorFlow's padding before/after along one axis (the odd pixel after). */
function padAmounts(
  inSize: number,
  k: number,
  s: number,
  d: number,
  padding: Pad,
  axis: 0 | 1,
): Pair {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') {
    const out = Math.ceil(inSize / s);
    const total = Math.max((out - 1) * s + span(k, d) - inSize, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  return padding[axis];
}

/** An input size for which the window fits at least once. */
function fitSize(raw: number, k: number, d: number, padding: Pad, axis: 0 | 1): number {
  const [b, a] = typeof padding === 'string' ? [0, 0] : padding[axis];
  return padding === 'same' ? raw : Math.max(raw, span(k, d) - b - a, 1);
}

/**
 * Most multiply-adds (counted per input pixel) of a random case: TF.js's CPU filter gradient
 * runs at ~10 M/s. Larger cases give up batch, then rows and columns down to what the window
 * needs.
 */
const MAX_WORK = 3e6;
function capWork(batch: number, h: number, w: number, perPixel: number, minH = 1, minW = 1) {
  let [b, hh, ww] = [batch, h, w];
  const work = () => b * hh * ww * perPixel;
  while (b > 1 && work() > MAX_WORK) b--;
  while (work() > MAX_WORK && (hh > minH || ww > minW)) {
    if (hh > minH && (hh >= ww || ww <= minW)) hh--;
    else ww--;
  }
  return { batch: b, h: hh, w: ww };
}

/** The text fast-check prints for a case (see named). */
const describeCase = (c: object): string =>
  (c as { [fc.toStringMethod]?: () => string })[fc.toStringMethod]?.() ?? JSON.stringify(c);

/** What fast-check prints for a case. */
function named<T extends object>(op: string, c: T): T & { [fc.toStringMethod]: () => string } {
  return { ...c, [fc.toStringMethod]: () => `${op} ${JSON.stringify(c)}` };
}

const padArb = (maxExplicit: number): fc.Arbitrary<Pad> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<Pad>('same') },
    { weight: 3, arbitrary: fc.constant<Pad>('valid') },
    {
      weight: 1,
      arbitrary: fc
        .tuple(...Array.from({ length: 4 }, () => fc.integer({ min: 0, max: maxExplicit })))
        .map(
          ([t, b, l, r]): Pad => [
            [t, b],
            [l, r],
          ],
        ),
    },
  );

const pairArb = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));

// ---- conv2d ------------------------------------------------------------------------------------

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
  groups: number;
  k: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Pad;
  seed: number;
}

function convCase(o: {
  batch: fc.Arbitrary<number>;
  size: fc.Arbitrary<number>;
  channels: number[];
  filters: number[];
  k: fc.Arbitrary<Pair>;
  strides: fc.Arbitrary<Pair>;
  dilation: fc.Arbitrary<Pair>;
  padding: fc.Arbitrary<Pad>;
  groups: boolean;
}): fc.Arbitrary<ConvCase> {
  return fc
    .record({
      batch: o.batch,
      h: o.size,
      w: o.size,
      inC: fc.constantFrom(...o.channels),
      outC: fc.constantFrom(...o.filters),
      groupsPick: fc.integer({ min: 0, max: o.groups ? 3 : 0 }),
      k: o.k,
      strides: o.strides,
      dilation: o.dilation,
      padding: o.padding,
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map(({ groupsPick, ...c }) => {
      // groups must divide both channel counts: 1, the largest common divisor, or in between.
      const divisors = [1, 2, 3, 4].filter((g) => c.inC % g === 0 && c.outC % g === 0);
      const groups = divisors[groupsPick % divisors.length]!;
      const h = fitSize(c.h, c.k[0], c.dilation[0], c.padding, 0);
      const w = fitSize(c.w, c.k[1], c.dilation[1], c.padding, 1);
      const perPixel = (c.k[0] * c.k[1] * c.inC * c.outC) / groups;
      const [minH, minW] = [
        fitSize(1, c.k[0], c.dilation[0], c.padding, 0),
        fitSize(1, c.k[1], c.dilation[1], c.padding, 1),
      ];
      return named('conv2d', { ...c, groups, ...capWork(c.batch, h, w, perPixel, minH, minW) });
    });
}

function tfConv(c: ConvCase): TfOp {
  return (x, w) => {
    const [xp, pad] = tfPadded(x, c.padding);
    const kernel = dilateKernel(w, c.dilation);
    if (c.groups === 1) return tf.conv2d(xp, kernel, c.strides, pad) as tf.Tensor4D;
    // A grouped convolution: the convolutions of matching channel slices, side by side.
    const xs = tf.split(xp, c.groups, 3) as tf.Tensor4D[];
    const ws = tf.split(kernel, c.groups, 3) as tf.Tensor4D[];
    return tf.concat4d(
      xs.map((xg, g) => tf.conv2d(xg, ws[g]!, c.strides, pad) as tf.Tensor4D),
      3,
    );
  };
}

/**
 * Compares one case on every backend with TF.js: forward, input and filter gradients, each
 * against Σ|terms| from the same TF.js op on absolute values.
 */
function checkAgainstTf(
  op: string,
  c: { seed: number },
  shapes: number[][],
  receptiveOp: (...xs: rc.Tensor[]) => rc.Tensor,
  tfOp: TfOp,
  wide: boolean,
): void {
  const rng = new Random(c.seed);
  const inputs = shapes.map((shape) => ({ shape, values: normal(shape, rng) }));
  const dyRng = () => new Random(c.seed + 1);
  const dyOf = (shape: number[]) => normal(shape, dyRng());
  const expected = runTf(tfOp, inputs, dyOf);
  // The bounds from receptive's reference backend (checked here too): TF.js's filter gradient
  // is ten times slower, and a bound only sets the scale.
  const mag = runReceptive(
    'js',
    receptiveOp,
    inputs.map((i) => ({ shape: i.shape, values: abs(i.values) })),
    (shape) => abs(dyOf(shape)),
  );
  const tag = `${op}${wide ? ' (wide)' : ''}`;
  const who = (b: string) => `${describeCase(c)} on ${b}`;
  for (const b of BACKENDS) {
    const got = runReceptive(b, receptiveOp, inputs, dyOf);
    assert.deepEqual(got.shape, expected.shape, `${who(b)}: output shape`);
    compare(`${tag} forward / ${b}`, who(b), got.y, expected.y, mag.y);
    got.grads.forEach((g, i) => {
      compare(`${tag} d${['x', 'w'][i]} / ${b}`, who(b), g, expected.grads[i]!, mag.grads[i]!);
    });
  }
}

function checkConv(c: ConvCase, wide = false): void {
  const opts = {
    strides: c.strides,
    dilationRate: c.dilation,
    padding: c.padding,
    groups: c.groups,
  };
  checkAgainstTf(
    'conv2d',
    c,
    [
      [c.batch, c.h, c.w, c.inC],
      [c.k[0], c.k[1], c.inC / c.groups, c.outC],
    ],
    (x, w) => rc.conv2d(x!, w!, opts),
    tfConv(c),
    wide,
  );
}

const runs = (n: number) => Math.max(1, Math.round(n * RUNS));
const params = (n: number): fc.Parameters<unknown> => ({
  seed: SEED,
  ...(process.env.DIFF_PATH ? { path: process.env.DIFF_PATH } : {}),
  numRuns: runs(n),
  includeErrorInReport: true,
});

test('conv2d: random small geometries agree with TF.js, forward and gradients', () => {
  fc.assert(
    fc.property(
      convCase({
        batch: fc.integer({ min: 1, max: 3 }),
        size: fc.integer({ min: 1, max: 11 }),
        channels: [1, 2, 3, 4, 6],
        filters: [1, 2, 3, 4, 5, 8],
        k: pairArb(4),
        strides: pairArb(3),
        dilation: pairArb(3),
        padding: padArb(2),
        groups: true,
      }),
      (c) => checkConv(c),
    ),
    params(40),
  );
});

test('conv2d: random wide geometries (the fast kernels) agree with TF.js', () => {
  fc.assert(
    fc.property(
      convCase({
        batch: fc.integer({ min: 1, max: 4 }),
        size: fc.integer({ min: 5, max: 16 }),
        channels: [3, 16, 32, 64],
        filters: [16, 32, 64],
        k: fc.constantFrom<Pair>([1, 1], [3, 3], [5, 5], [3, 1]),
        strides: fc.constantFrom<Pair>([1, 1], [1, 1], [2, 2]),
        dilation: fc.constantFrom<Pair>([1, 1], [1, 1], [2, 2]),
        padding: fc.constantFrom<Pad>('same', 'valid'),
        groups: false,
      }),
      (c) => checkConv(c, true),
    ),
    params(6),
  );
});

test('conv2d: fixed wide cases (Winograd, the few-channel direct kernel, 1×1, grouped)', (t) => {
  const base = { strides: [1, 1] as Pair, dilation: [1, 1] as Pair, groups: 1, seed: 11 };
  const cases: ConvCase[] = [
    // 3×3, stride 1, ≥ 32 channels, ≥ 1024 output pixels: Winograd on native.
    { ...base, batch: 4, h: 16, w: 16, inC: 32, outC: 32, k: [3, 3], padding: 'same' },
    // LeNet-5's second convolution: few input channels (the direct input gradient on native).
    { ...base, batch: 8, h: 14, w: 14, inC: 6, outC: 16, k: [5, 5], padding: 'valid' },
    // 1×1 over 64 channels, batch 2, odd sizes.
    { ...base, batch: 2, h: 9, w: 7, inC: 64, outC: 48, k: [1, 1], padding: 'valid' },
    // Grouped, strided, wide.
    {
      ...base,
      batch: 2,
      h: 12,
      w: 12,
      inC: 32,
      outC: 32,
      groups: 4,
      k: [3, 3],
      strides: [2, 2],
      padding: 'same',
    },
  ];
  for (const c of cases) {
    checkConv(named('conv2d', c), true);
    // Which kernels native ran (its rules belong to native/src/conv.cc; shown, not asserted).
    if (BACKENDS.includes('native')) {
      const impl = (backendByName('native') as NativeBackend).convImplementations(
        convInfo({ ...c, inH: c.h, inW: c.w, stride: c.strides, padding: c.padding }),
      );
      t.diagnostic(`native, ${describeCase(named('conv2d', c))}: ${JSON.stringify(impl)}`);
    }
  }
});

// ---- depthwiseConv2d ---------------------------------------------------------------------------

interface DepthwiseCase {
  batch: number;
  h: number;
  w: number;
  inC: number;
  mult: number;
  k: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Pad;
  seed: number;
}

function depthwiseCase(o: {
  batch: fc.Arbitrary<number>;
  size: fc.Arbitrary<number>;
  channels: number[];
  mult: fc.Arbitrary<number>;
  k: fc.Arbitrary<Pair>;
  strides: fc.Arbitrary<Pair>;
  dilation: fc.Arbitrary<Pair>;
  padding: fc.Arbitrary<Pad>;
}): fc.Arbitrary<DepthwiseCase> {
  return fc
    .record({
      batch: o.batch,
      h: o.size,
      w: o.size,
      inC: fc.constantFrom(...o.channels),
      mult: o.mult,
      k: o.k,
      strides: o.strides,
      dilation: o.dilation,
      padding: o.padding,
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map((c) =>
      named('depthwiseConv2d', {
        ...c,
        h: fitSize(c.h, c.k[0], c.dilation[0], c.padding, 0),
        w: fitSize(c.w, c.k[1], c.dilation[1], c.padding, 1),
      }),
    );
}

function checkDepthwise(c: DepthwiseCase, wide = false): void {
  const opts = { strides: c.strides, dilationRate: c.dilation, padding: c.padding };
  checkAgainstTf(
    'depthwiseConv2d',
    c,
    [
      [c.batch, c.h, c.w, c.inC],
      [c.k[0], c.k[1], c.inC, c.mult],
    ],
    (x, w) => rc.depthwiseConv2d(x!, w!, opts),
    (x, w) => {
      const [xp, pad] = tfPadded(x!, c.padding);
      return tf.depthwiseConv2d(xp, dilateKernel(w!, c.dilation), c.strides, pad);
    },
    wide,
  );
}

test('depthwiseConv2d: random geometries and multipliers agree with TF.js', () => {
  fc.assert(
    fc.property(
      depthwiseCase({
        batch: fc.integer({ min: 1, max: 3 }),
        size: fc.integer({ min: 1, max: 11 }),
        channels: [1, 2, 3, 5],
        mult: fc.integer({ min: 1, max: 3 }),
        k: pairArb(4),
        strides: pairArb(3),
        dilation: pairArb(3),
        padding: padArb(2),
      }),
      (c) => checkDepthwise(c),
    ),
    params(30),
  );
  fc.assert(
    fc.property(
      depthwiseCase({
        batch: fc.integer({ min: 1, max: 4 }),
        size: fc.integer({ min: 6, max: 16 }),
        channels: [16, 32, 64],
        mult: fc.integer({ min: 1, max: 2 }),
        k: fc.constantFrom<Pair>([3, 3], [5, 5]),
        strides: fc.constantFrom<Pair>([1, 1], [2, 2]),
        dilation: fc.constantFrom<Pair>([1, 1], [1, 1], [2, 2]),
        padding: fc.constantFrom<Pad>('same', 'valid'),
      }),
      (c) => checkDepthwise(c, true),
    ),
    params(5),
  );
});

// ---- conv2dTranspose ---------------------------------------------------------------------------

interface TransposeCase {
  batch: number;
  h: number;
  w: number;
  inC: number;
  filters: number;
  k: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Pad;
  outputPadding: Pair;
  seed: number;
}

function transposeCase(o: {
  batch: fc.Arbitrary<number>;
  size: fc.Arbitrary<number>;
  channels: number[];
  filters: number[];
  k: fc.Arbitrary<Pair>;
  strides: fc.Arbitrary<Pair>;
  dilation: fc.Arbitrary<Pair>;
  padding: fc.Arbitrary<Pad>;
}): fc.Arbitrary<TransposeCase> {
  return fc
    .record({
      batch: o.batch,
      h: o.size,
      w: o.size,
      inC: fc.constantFrom(...o.channels),
      filters: fc.constantFrom(...o.filters),
      k: o.k,
      strides: o.strides,
      dilation: o.dilation,
      padding: o.padding,
      outPadPick: fc.tuple(fc.nat(), fc.nat()),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map(({ outPadPick, ...c }) => {
      const outputPadding: Pair = [outPadPick[0] % c.strides[0], outPadPick[1] % c.strides[1]];
      // Explicit padding may not crop away the whole output: keep it below the full size.
      let padding = c.padding;
      if (typeof padding !== 'string') {
        const full = (axis: 0 | 1) =>
          ([c.h, c.w][axis]! - 1) * c.strides[axis] + span(c.k[axis], c.dilation[axis]);
        const fit = (p: Pair, axis: 0 | 1): Pair => (p[0] + p[1] < full(axis) ? p : [0, 0]);
        padding = [fit(padding[0], 0), fit(padding[1], 1)];
      }
      const perPixel = c.k[0] * c.k[1] * c.inC * c.filters;
      return named('conv2dTranspose', {
        ...c,
        ...capWork(c.batch, c.h, c.w, perPixel),
        padding,
        outputPadding,
      });
    });
}

/**
 * TF.js's side: the 'valid' transposed convolution (the full output), then receptive's padding
 * as a crop, and output padding as zeros past the end where the crop runs out.
 */
function tfTranspose(c: TransposeCase): TfOp {
  return (x, w) => {
    const kernel = dilateKernel(w!, c.dilation);
    const full = [0, 1].map(
      (a) => ([c.h, c.w][a]! - 1) * c.strides[a]! + span(c.k[a]!, c.dilation[a]!),
    ) as Pair;
    const y = tf.conv2dTranspose(
      x!,
      kernel,
      [c.batch, full[0], full[1], c.filters],
      c.strides,
      'valid',
    );
    const crop = [0, 1].map((a) => {
      const axis = a as 0 | 1;
      const inSize = [c.h, c.w][axis]!;
      let before: number;
      let out: number;
      if (c.padding === 'same') {
        out = inSize * c.strides[axis];
        before = Math.floor(Math.max(full[axis] - out, 0) / 2);
      } else if (c.padding === 'valid') {
        out = full[axis];
        before = 0;
      } else {
        [before] = c.padding[axis];
        out = full[axis] - c.padding[axis][0] - c.padding[axis][1];
      }
      return { before, out: out + c.outputPadding[axis] };
    });
    const extra = crop.map(({ before, out }, a) => Math.max(0, before + out - full[a]!));
    const padded = tf.pad(y, [
      [0, 0],
      [0, extra[0]!],
      [0, extra[1]!],
      [0, 0],
    ]);
    return tf.slice(
      padded,
      [0, crop[0]!.before, crop[1]!.before, 0],
      [c.batch, crop[0]!.out, crop[1]!.out, c.filters],
    );
  };
}

function checkTranspose(c: TransposeCase, wide = false): void {
  const opts = {
    strides: c.strides,
    dilationRate: c.dilation,
    padding: c.padding,
    outputPadding: c.outputPadding,
  };
  checkAgainstTf(
    'conv2dTranspose',
    c,
    [
      [c.batch, c.h, c.w, c.inC],
      [c.k[0], c.k[1], c.filters, c.inC],
    ],
    (x, w) => rc.conv2dTranspose(x!, w!, opts),
    tfTranspose(c),
    wide,
  );
}

test('conv2dTranspose: random geometries (output padding, dilation) agree with TF.js', () => {
  fc.assert(
    fc.property(
      transposeCase({
        batch: fc.integer({ min: 1, max: 3 }),
        size: fc.integer({ min: 1, max: 7 }),
        channels: [1, 2, 3, 5],
        filters: [1, 2, 4],
        k: pairArb(4),
        strides: pairArb(3),
        dilation: pairArb(2),
        padding: padArb(2),
      }),
      (c) => checkTranspose(c),
    ),
    params(30),
  );
  fc.assert(
    fc.property(
      transposeCase({
        batch: fc.integer({ min: 1, max: 4 }),
        size: fc.integer({ min: 4, max: 10 }),
        channels: [16, 32, 64],
        filters: [8, 16, 32],
        k: fc.constantFrom<Pair>([2, 2], [3, 3], [4, 4]),
        strides: fc.constantFrom<Pair>([1, 1], [2, 2]),
        dilation: fc.constant<Pair>([1, 1]),
        padding: fc.constantFrom<Pad>('same', 'valid'),
      }),
      (c) => checkTranspose(c, true),
    ),
    params(5),
  );
});

// ---- pooling -----------------------------------------------------------------------------------

interface PoolCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  pool: Pair;
  strides: Pair;
  padding: 'same' | 'valid';
  seed: number;
}

function poolCase(o: {
  batch: fc.Arbitrary<number>;
  size: fc.Arbitrary<number>;
  channels: number[];
  pool: fc.Arbitrary<Pair>;
  strides: fc.Arbitrary<Pair>;
}): fc.Arbitrary<PoolCase> {
  return fc
    .record({
      batch: o.batch,
      h: o.size,
      w: o.size,
      c: fc.constantFrom(...o.channels),
      pool: o.pool,
      strides: o.strides,
      padding: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    })
    .map((c) =>
      named('pool', {
        ...c,
        h: fitSize(c.h, c.pool[0], 1, c.padding, 0),
        w: fitSize(c.w, c.pool[1], 1, c.padding, 1),
      }),
    );
}

/**
 * avgPool's gradient of Σ y·dy in float64, as receptive defines the forward: each window's
 * mean over its real pixels, so each real pixel gets dy / (real pixels in the window).
 */
function avgPoolGradReference(c: PoolCase, dy: Float32Array): Float64Array {
  const [padTop] = padAmounts(c.h, c.pool[0], c.strides[0], 1, c.padding, 0);
  const [padLeft] = padAmounts(c.w, c.pool[1], c.strides[1], 1, c.padding, 1);
  const outH =
    c.padding === 'same'
      ? Math.ceil(c.h / c.strides[0])
      : Math.floor((c.h - c.pool[0]) / c.strides[0]) + 1;
  const outW =
    c.padding === 'same'
      ? Math.ceil(c.w / c.strides[1])
      : Math.floor((c.w - c.pool[1]) / c.strides[1]) + 1;
  const dx = new Float64Array(c.batch * c.h * c.w * c.c);
  for (let b = 0; b < c.batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(0, oy * c.strides[0] - padTop);
      const y1 = Math.min(c.h, oy * c.strides[0] - padTop + c.pool[0]);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(0, ox * c.strides[1] - padLeft);
        const x1 = Math.min(c.w, ox * c.strides[1] - padLeft + c.pool[1]);
        const count = (y1 - y0) * (x1 - x0);
        for (let ch = 0; ch < c.c; ch++) {
          const g = dy[((b * outH + oy) * outW + ox) * c.c + ch]! / count;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) dx[((b * c.h + iy) * c.w + ix) * c.c + ch] += g;
          }
        }
      }
    }
  }
  return dx;
}

function checkPools(c: PoolCase, wide = false): void {
  const rng = new Random(c.seed);
  const shape = [c.batch, c.h, c.w, c.c];
  const input = { shape, values: normal(shape, rng) };
  const dyOf = (s: number[]) => normal(s, new Random(c.seed + 1));
  const opts = { poolSize: c.pool, strides: c.strides, padding: c.padding };
  const tag = wide ? ' (wide)' : '';
  // Pooling sums few terms: the bound is the largest input (forward) or output weight (dx)
  // times the windows a pixel is in.
  const overlap = Math.ceil(c.pool[0] / c.strides[0]) * Math.ceil(c.pool[1] / c.strides[1]);
  const maxAbs = (a: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
    return m;
  };

  const max = runTf((x) => tf.maxPool(x!, c.pool, c.strides, c.padding), [input], dyOf);
  const avg = runTf((x) => tf.avgPool(x!, c.pool, c.strides, c.padding), [input], dyOf);
  const dyMax = maxAbs(dyOf(max.shape)) * overlap;
  // TF.js's avgPool gradient divides by the whole window where 'same' padding cuts it; its
  // forward (and receptive, both passes) by the real pixels. Use the float64 reference there.
  const avgDx = avgPoolGradReference(c, dyOf(avg.shape));
  if (c.padding === 'valid') {
    compare(`avgPool2d${tag} dx: reference / tfjs`, describeCase(c), avgDx, avg.grads[0]!, dyMax);
  }
  for (const b of BACKENDS) {
    const who = `${describeCase(c)} on ${b}`;
    const gm = runReceptive(b, (x) => rc.maxPool2d(x!, opts), [input], dyOf);
    assert.deepEqual(gm.shape, max.shape, `${who}: maxPool2d output shape`);
    // The largest value is one of the inputs: exactly equal.
    compare(`maxPool2d${tag} forward / ${b}`, who, gm.y, max.y, 0);
    compare(`maxPool2d${tag} dx / ${b}`, who, gm.grads[0]!, max.grads[0]!, dyMax);
    const ga = runReceptive(b, (x) => rc.avgPool2d(x!, opts), [input], dyOf);
    assert.deepEqual(ga.shape, avg.shape, `${who}: avgPool2d output shape`);
    compare(`avgPool2d${tag} forward / ${b}`, who, ga.y, avg.y, maxAbs(input.values));
    compare(`avgPool2d${tag} dx (float64 reference) / ${b}`, who, ga.grads[0]!, avgDx, dyMax);
  }
}

test('maxPool2d and avgPool2d: random geometries agree with TF.js (avgPool dx: float64 reference)', () => {
  fc.assert(
    fc.property(
      poolCase({
        batch: fc.integer({ min: 1, max: 3 }),
        size: fc.integer({ min: 1, max: 11 }),
        channels: [1, 2, 3, 5],
        pool: pairArb(4),
        strides: pairArb(4),
      }),
      (c) => checkPools(c),
    ),
    params(40),
  );
  fc.assert(
    fc.property(
      poolCase({
        batch: fc.integer({ min: 2, max: 4 }),
        size: fc.integer({ min: 8, max: 24 }),
        channels: [16, 32, 64],
        pool: fc.constantFrom<Pair>([2, 2], [3, 3]),
        strides: fc.constantFrom<Pair>([1, 1], [2, 2]),
      }),
      (c) => checkPools(c, true),
    ),
    params(6),
  );
});

test("TF.js's avgPool gradient with cut 'same' windows is the one that differs (why the reference)", () => {
  // 3×3 input, 2×2 windows, stride 2, 'same': the last row and column of windows are cut.
  const c = named('pool', {
    batch: 1,
    h: 3,
    w: 3,
    c: 1,
    pool: [2, 2] as Pair,
    strides: [2, 2] as Pair,
    padding: 'same' as const,
    seed: 1,
  });
  const ones = (s: number[]) => new Float32Array(sizeOf(s)).fill(1);
  const input = { shape: [1, 3, 3, 1], values: ones([1, 3, 3, 1]) };
  const avg = runTf((x) => tf.avgPool(x!, c.pool, c.strides, c.padding), [input], ones);
  const ref = avgPoolGradReference(c, ones([1, 2, 2, 1]));
  // The corner pixel is alone in its window: its gradient is 1; TF.js says 1/4.
  assert.equal(ref[8], 1);
  assert.equal(avg.grads[0]![8], 0.25);
  for (const b of BACKENDS) {
    const opts = { poolSize: c.pool, strides: c.strides, padding: c.padding };
    const got = runReceptive(b, (x) => rc.avgPool2d(x!, opts), [input], ones);
    assert.deepEqual(Array.from(got.grads[0]!), Array.from(ref), `receptive on ${b}`);
  }
});
