/**
 * What the conformance suite of the fast backends (conformance*.test.ts) shares:
 * random values, the tolerance checks, and the convolution and pooling cases, chosen to miss
 * the SIMD widths and the micro-tiles (odd sizes), with stride, dilation, groups, depthwise
 * multipliers, asymmetric 'same' padding, explicit padding, 1×1 and non-square kernels, and the
 * shapes where a backend switches algorithm (column chunks, blocked layouts, Winograd).
 */
import assert from 'node:assert/strict';
import type {
  ActivationGradOp,
  Backend,
  ConvInfo,
  PoolInfo,
  Storage,
} from '../../src/backend/backend.js';
import { axisGeometry, type Padding } from '../../src/ops/conv_geometry.js';
import type { Random } from '../../src/util/random.js';
import { assertClose } from '../checks.js';

/**
 * A kernel's result as the suite reads it: without blocking where the backend can (a GPU's
 * readAsync; webgpu cannot read a computed tensor synchronously), else at once.
 */
export async function readResult(be: Backend, s: Storage): Promise<Float32Array | Int32Array> {
  return await (be.readAsync?.(s) ?? be.read(s));
}

/** n values uniform in [-1, 1). */
export function randomValues(rng: Random, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** |actual − expected| ≤ 1e-4 · (largest |expected|) + 1e-6, elementwise. */
export function assertRel(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  msg: string,
): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  assertClose(actual, expected, { atol: 1e-4 * scale + 1e-6, rtol: 0, msg });
}

/** Bit-for-bit the same values (NaN where NaN, -0 where -0). */
export function assertSame(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  msg: string,
): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
      assert.fail(`${msg}: at index ${i} got ${show(actual[i]!)}, expected ${show(expected[i]!)}`);
    }
  }
}

/**
 * Where the reference is NaN, ±Infinity or ±0, the same value (bit for bit); elsewhere within
 * `rtol` of it, relative to each value: for kernels computed from float32 approximations.
 */
export function assertWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  msg: string,
): void {
  assert.equal(actual.length, expected.length, `${msg}: length`);
  const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    const ok =
      e === 0 || !Number.isFinite(e) ? Object.is(a, e) : Math.abs(a - e) <= rtol * Math.abs(e);
    if (!ok) {
      assert.fail(
        `${msg}: at index ${i} got ${show(a)}, expected ${show(e)} (within ${rtol} relative)`,
      );
    }
  }
}

/** ConvInfo the way ops/conv.ts builds it (TensorFlow's 'same': the odd pixel after). */
export function convInfo(o: {
  batch?: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  k: [number, number];
  stride?: [number, number];
  dilation?: [number, number];
  padding?: Padding;
  groups?: number;
}): ConvInfo {
  const stride = o.stride ?? [1, 1];
  const dilation = o.dilation ?? [1, 1];
  const padding = o.padding ?? 'valid';
  const h = axisGeometry(o.inH, o.k[0], stride[0], dilation[0], padding, 0);
  const w = axisGeometry(o.inW, o.k[1], stride[1], dilation[1], padding, 1);
  return {
    batch: o.batch ?? 2,
    inH: o.inH,
    inW: o.inW,
    inC: o.inC,
    outH: h.out,
    outW: w.out,
    outC: o.outC,
    kh: o.k[0],
    kw: o.k[1],
    strideH: stride[0],
    strideW: stride[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    padTop: h.padBefore,
    padBottom: h.padAfter,
    padLeft: w.padBefore,
    padRight: w.padAfter,
    groups: o.groups ?? 1,
  };
}

export const convCases: [string, ConvInfo][] = [
  ['3x3 valid', convInfo({ inH: 9, inW: 7, inC: 3, outC: 5, k: [3, 3] })],
  ['3x3 same', convInfo({ inH: 8, inW: 8, inC: 4, outC: 8, k: [3, 3], padding: 'same' })],
  [
    "asymmetric 'same' (4x4 kernel, stride 2, odd input)",
    convInfo({ inH: 9, inW: 11, inC: 3, outC: 7, k: [4, 4], stride: [2, 2], padding: 'same' }),
  ],
  [
    "asymmetric 'same', even kernel, stride 1",
    convInfo({ inH: 6, inW: 7, inC: 5, outC: 4, k: [2, 2], padding: 'same' }),
  ],
  ['stride 2', convInfo({ inH: 13, inW: 13, inC: 5, outC: 9, k: [3, 3], stride: [2, 2] })],
  [
    'stride [2, 3]',
    convInfo({ inH: 13, inW: 14, inC: 2, outC: 3, k: [3, 2], stride: [2, 3], padding: 1 }),
  ],
  ['dilation 2', convInfo({ inH: 11, inW: 10, inC: 3, outC: 4, k: [3, 3], dilation: [2, 2] })],
  [
    'stride 2 + dilation 2, same',
    convInfo({
      inH: 12,
      inW: 13,
      inC: 6,
      outC: 10,
      k: [3, 3],
      stride: [2, 2],
      dilation: [2, 2],
      padding: 'same',
    }),
  ],
  [
    'dilation [1, 3] + explicit asymmetric padding',
    convInfo({
      inH: 9,
      inW: 12,
      inC: 3,
      outC: 5,
      k: [2, 3],
      dilation: [1, 3],
      padding: [
        [1, 2],
        [0, 3],
      ],
    }),
  ],
  ['explicit padding 2', convInfo({ inH: 6, inW: 5, inC: 3, outC: 6, k: [3, 3], padding: 2 })],
  [
    'padding wider than the kernel reaches',
    convInfo({ inH: 5, inW: 5, inC: 2, outC: 3, k: [2, 2], stride: [3, 3], padding: 3 }),
  ],
  ['groups 2', convInfo({ inH: 8, inW: 9, inC: 6, outC: 10, k: [3, 3], groups: 2 })],
  [
    'groups 3, stride 2, same',
    convInfo({
      inH: 10,
      inW: 9,
      inC: 9,
      outC: 12,
      k: [3, 3],
      stride: [2, 2],
      padding: 'same',
      groups: 3,
    }),
  ],
  [
    'groups 4, 32 channels (blocked layouts)',
    convInfo({ inH: 7, inW: 6, inC: 64, outC: 32, k: [3, 3], padding: 'same', groups: 4 }),
  ],
  [
    'depthwise (groups = channels)',
    convInfo({ inH: 9, inW: 8, inC: 7, outC: 7, k: [3, 3], padding: 'same', groups: 7 }),
  ],
  [
    'depthwise, 32 channels, stride 2',
    convInfo({
      inH: 10,
      inW: 11,
      inC: 32,
      outC: 32,
      k: [3, 3],
      stride: [2, 2],
      padding: 'same',
      groups: 32,
    }),
  ],
  [
    'depthwise, multiplier 3, stride 2, dilation 2',
    convInfo({
      inH: 11,
      inW: 10,
      inC: 5,
      outC: 15,
      k: [3, 3],
      stride: [2, 2],
      dilation: [2, 2],
      padding: 'same',
      groups: 5,
    }),
  ],
  [
    'depthwise, multiplier 4, 8 channels',
    convInfo({ inH: 6, inW: 7, inC: 8, outC: 32, k: [2, 3], groups: 8 }),
  ],
  ['1x1', convInfo({ inH: 7, inW: 5, inC: 13, outC: 33, k: [1, 1] })],
  ['1x1 groups 4', convInfo({ inH: 5, inW: 5, inC: 12, outC: 8, k: [1, 1], groups: 4 })],
  [
    '1x1 depthwise, multiplier 2',
    convInfo({ inH: 5, inW: 6, inC: 5, outC: 10, k: [1, 1], groups: 5 }),
  ],
  ['1x1 stride 2', convInfo({ inH: 9, inW: 8, inC: 5, outC: 7, k: [1, 1], stride: [2, 2] })],
  [
    '1x1 stride 2, 64 → 128 (ResNet downsample)',
    convInfo({ inH: 8, inW: 8, inC: 64, outC: 128, k: [1, 1], stride: [2, 2] }),
  ],
  ['1x1 padded', convInfo({ inH: 4, inW: 4, inC: 3, outC: 5, k: [1, 1], padding: 1 })],
  ['non-square 1x5', convInfo({ inH: 6, inW: 11, inC: 4, outC: 3, k: [1, 5], padding: 'same' })],
  ['non-square 5x2', convInfo({ inH: 12, inW: 6, inC: 3, outC: 8, k: [5, 2] })],
  ['one input channel (LeNet conv1)', convInfo({ inH: 28, inW: 28, inC: 1, outC: 6, k: [5, 5] })],
  // Few input channels: the native input gradient's own kernel (runs of kw·inC floats).
  ['LeNet conv2 (6 -> 16, 5x5)', convInfo({ inH: 12, inW: 12, inC: 6, outC: 16, k: [5, 5] })],
  [
    'few channels: 3-vector runs, dilation and stride in rows only',
    convInfo({
      inH: 13,
      inW: 11,
      inC: 7,
      outC: 5,
      k: [3, 5],
      stride: [2, 1],
      dilation: [2, 1],
      padding: 'same',
    }),
  ],
  [
    'few channels: 4 full vectors a run, stride 3 in columns, padded',
    convInfo({ inH: 7, inW: 20, inC: 8, outC: 3, k: [2, 8], stride: [1, 3], padding: 3 }),
  ],
  [
    '7x7 stride 2 stem, batch 1',
    convInfo({
      batch: 1,
      inH: 23,
      inW: 21,
      inC: 3,
      outC: 16,
      k: [7, 7],
      stride: [2, 2],
      padding: 'same',
    }),
  ],
  ['kernel as large as the input', convInfo({ inH: 5, inW: 4, inC: 2, outC: 3, k: [5, 4] })],
  [
    'batch 1, 257 filters',
    convInfo({ batch: 1, inH: 5, inW: 5, inC: 3, outC: 257, k: [3, 3], padding: 'same' }),
  ],
  [
    '64 → 64 channels, batch 3 (the blocked AVX-512 paths)',
    convInfo({ batch: 3, inH: 10, inW: 9, inC: 64, outC: 64, k: [3, 3], padding: 'same' }),
  ],
  [
    "Winograd's range (3x3, 32 → 48 channels, 2 × 32 × 32 outputs, 'same')",
    convInfo({ batch: 2, inH: 32, inW: 32, inC: 32, outC: 48, k: [3, 3], padding: 'same' }),
  ],
  [
    "Winograd's range, 'valid', odd sizes",
    convInfo({ batch: 3, inH: 29, inW: 33, inC: 40, outC: 36, k: [3, 3] }),
  ],
  [
    '48 → 80 channels, stride 2, batch 1',
    convInfo({
      batch: 1,
      inH: 11,
      inW: 13,
      inC: 48,
      outC: 80,
      k: [3, 3],
      stride: [2, 2],
      padding: 'same',
    }),
  ],
  [
    'several column chunks (rows × K > 2^18)',
    convInfo({ batch: 3, inH: 37, inW: 41, inC: 16, outC: 12, k: [3, 3], padding: 'same' }),
  ],
];

export function poolInfo(o: Partial<PoolInfo> & { inH: number; inW: number }): PoolInfo {
  const p = {
    batch: 2,
    channels: 3,
    kh: 2,
    kw: 2,
    strideH: 2,
    strideW: 2,
    padTop: 0,
    padLeft: 0,
    padBottom: 0,
    padRight: 0,
    ...o,
  } as PoolInfo;
  p.outH = Math.floor((p.inH + p.padTop + p.padBottom - p.kh) / p.strideH) + 1;
  p.outW = Math.floor((p.inW + p.padLeft + p.padRight - p.kw) / p.strideW) + 1;
  return p;
}

export const poolCases = [
  poolInfo({ inH: 8, inW: 8 }),
  poolInfo({ inH: 7, inW: 9, kh: 3, kw: 3, strideH: 2, strideW: 2, padBottom: 1, padRight: 1 }),
  poolInfo({ inH: 5, inW: 6, kh: 3, kw: 2, strideH: 1, strideW: 1, padTop: 1, padBottom: 1 }),
  poolInfo({ inH: 6, inW: 6, channels: 1, kh: 3, kw: 3, strideH: 3, strideW: 3 }),
  poolInfo({ batch: 1, inH: 15, inW: 15, channels: 64, kh: 3, kw: 3, padTop: 1, padLeft: 1 }),
  poolInfo({ batch: 8, inH: 24, inW: 24, channels: 6 }),
  poolInfo({ batch: 4, inH: 17, inW: 15, channels: 7, kh: 3, kw: 3, padBottom: 1, padRight: 1 }),
  poolInfo({
    batch: 3,
    inH: 16,
    inW: 16,
    channels: 9,
    kh: 3,
    kw: 3,
    strideH: 1,
    strideW: 1,
    padTop: 1,
    padLeft: 1,
    padBottom: 1,
    padRight: 1,
  }),
  poolInfo({ batch: 2, inH: 40, inW: 40, channels: 1, kh: 2, kw: 3, strideH: 2, strideW: 1 }),
  poolInfo({ batch: 5, inH: 32, inW: 32, channels: 64 }),
  // Windows apart (stride > window): pixels between them get no gradient.
  poolInfo({ batch: 3, inH: 9, inW: 11, channels: 6, strideH: 3, strideW: 3 }),
  // Disjoint windows cut by padding, at the end and at the start.
  poolInfo({ inH: 7, inW: 7, channels: 16, padBottom: 1, padRight: 1 }),
  poolInfo({
    inH: 8,
    inW: 8,
    channels: 4,
    kh: 3,
    kw: 3,
    strideH: 3,
    strideW: 3,
    padTop: 1,
    padLeft: 1,
  }),
];

/** NumPy broadcasting of two shapes. */
export function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[i - (rank - a.length)] ?? 1;
    const db = b[i - (rank - b.length)] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

export const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/**
 * Checks a backend's one-pass activation gradients against the ops ops/activations.ts composes
 * on the js backend, bit for bit, at sizes around the backend's thresholds and SIMD tails, with
 * zeros, -0, ±Infinity and NaN among the values. Runs inside a scope (as a training step does).
 */
export async function checkActivationGrad(
  be: Backend,
  js: Backend,
  rng: Random,
  exactGelu = true,
): Promise<void> {
  const special = [0, -0, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
  for (const n of [7, 1003, 5000, 70001]) {
    const dy = randomValues(rng, n).map((v) => v * 3);
    const v = randomValues(rng, n);
    special.forEach((s, i) => {
      dy[i] = s;
      v[special.length + i] = s;
    });
    const J = (a: ArrayLike<number>) => js.write(a, 'float32');
    const bin = (op: 'mul' | 'sub', a: Storage, b: Storage) =>
      js.binary(op, a, a.size === 1 ? [] : [n], b, b.size === 1 ? [] : [n], [n]);
    const one = J([1]);
    const composed: Record<Exclude<ActivationGradOp, 'gelu'>, Storage> = {
      relu: bin('mul', J(dy), js.unary('step', J(v))),
      tanh: bin('mul', J(dy), bin('sub', one, bin('mul', J(v), J(v)))),
      sigmoid: bin('mul', J(dy), bin('mul', J(v), bin('sub', one, J(v)))),
    };
    for (const op of ['relu', 'tanh', 'sigmoid'] as const) {
      be.beginScope?.();
      const r = be.activationGrad?.(op, be.write(dy, 'float32'), be.write(v, 'float32'));
      // Small sizes may be left to the composed ops (null); big ones must not.
      if (n >= 5000) assert.ok(r, `activationGrad(${op}) ran for ${n} values`);
      if (r) {
        const got = await readResult(be, r);
        assertSame(got, js.read(composed[op]), `activationGrad(${op}), ${n} values`);
      }
      be.endScope?.(new Set());
    }
  }
  await checkGelu(be, js, rng, exactGelu);
}

/**
 * GELU at the kernel interface on `be`: unary('gelu') and activationGrad('gelu') against the
 * ops ops/activations.ts composes, on `be` itself, bit for bit (both use the backend's own erf
 * and exp), and against the reference's kernels on js within float32 rounding of erf (the
 * backends' erf is within 1e-6 relative of the reference's; GELU's 1 + erf loses that much of
 * its own relative accuracy where erf is near −1, so the bound is absolute, scaled by |x|).
 * Sizes around the thresholds and SIMD tails, zeros, −0, ±Infinity and NaN among the values.
 * `exact` false (a GPU: WGSL lets its compiler fuse a multiply and an add, so one shader and
 * several round differently, by an ulp): against the backend's composed ops within the bound
 * used against the reference.
 */
export async function checkGelu(
  be: Backend,
  js: Backend,
  rng: Random,
  exact = true,
): Promise<void> {
  const special = [0, -0, 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
  for (const n of [7, 1003, 5000, 70001]) {
    const dy = randomValues(rng, n).map((v) => v * 3);
    // Over both branches of every erf (|x·√½| below and above 1), and into the tails.
    const x = randomValues(rng, n).map((v) => v * 6);
    special.forEach((s, i) => {
      dy[i] = s;
      x[special.length + i] = s;
    });
    x[2 * special.length] = -40;
    x[2 * special.length + 1] = 40;
    be.beginScope?.();
    const [bdy, bx] = [be.write(dy, 'float32'), be.write(x, 'float32')];
    const fwd = await readResult(be, be.unary('gelu', bx));
    const grad = be.activationGrad?.('gelu', bdy, bx) ?? null;
    // Small sizes may be left to the composed ops (null); big ones must not.
    if (n >= 5000) assert.ok(grad, `activationGrad(gelu) ran for ${n} values`);
    const got = grad ? await readResult(be, grad) : null;
    const composedFwd = await readResult(be, geluComposed(be, bx, n));
    const composedGrad = await readResult(be, geluGradComposed(be, bdy, bx, n));
    be.endScope?.(new Set());
    const onBe = `the composed ops on ${be.name}`;
    const gradScale = (i: number) => Math.abs(dy[i]!) * (1 + Math.abs(x[i]!));
    if (exact) {
      assertSame(fwd, composedFwd, `gelu on ${n}: ${onBe}`);
      if (got) assertSame(got, composedGrad, `activationGrad(gelu) on ${n}: ${onBe}`);
    } else {
      assertGeluClose(fwd, composedFwd, x, (i) => Math.abs(x[i]!), `gelu on ${n}: ${onBe}`);
      if (got)
        assertGeluClose(got, composedGrad, x, gradScale, `activationGrad(gelu) on ${n}: ${onBe}`);
    }
    const refFwd = js.read(js.unary('gelu', js.write(x, 'float32')));
    const refGrad = js.read(
      js.activationGrad!('gelu', js.write(dy, 'float32'), js.write(x, 'float32'))!,
    );
    assertGeluClose(fwd, refFwd, x, (i) => Math.abs(x[i]!), `gelu on ${n} vs the reference`);
    if (got) {
      assertGeluClose(got, refGrad, x, gradScale, `activationGrad(gelu) on ${n} vs the reference`);
    }
  }
}

/** |got − ref| ≤ 1e-6·scale(i) + 1e-6·|ref|, NaN exactly where the reference has NaN. */
function assertGeluClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  x: ArrayLike<number>,
  scale: (i: number) => number,
  msg: string,
): void {
  assert.equal(got.length, ref.length, `${msg}: length`);
  for (let i = 0; i < ref.length; i++) {
    const [g, r] = [got[i]!, ref[i]!];
    if (Number.isNaN(r) || !Number.isFinite(r)) {
      assert.ok(Object.is(g, r), `${msg}: at ${i} (x ${x[i]}) got ${g}, expected ${r}`);
      continue;
    }
    const tol = 1e-6 * scale(i) + 1e-6 * Math.abs(r);
    assert.ok(
      Math.abs(g - r) <= tol,
      `${msg}: at ${i} (x ${x[i]}) got ${g}, expected ${r} (±${tol})`,
    );
  }
}

/** A float32 scalar on `b`. */
const scalarOn = (b: Backend, v: number) => b.write([v], 'float32');

/** x·0.5·(1 + erf(x·√½)) from `b`'s elementwise kernels, as ops/activations.ts composed it. */
function geluComposed(b: Backend, x: Storage, n: number): Storage {
  const mul = (p: Storage, q: Storage) =>
    b.binary('mul', p, p.size === 1 ? [] : [n], q, q.size === 1 ? [] : [n], [n]);
  const add = (p: Storage, q: Storage) =>
    b.binary('add', p, p.size === 1 ? [] : [n], q, q.size === 1 ? [] : [n], [n]);
  const e = b.unary('erf', mul(x, scalarOn(b, Math.SQRT1_2)));
  return mul(mul(x, scalarOn(b, 0.5)), add(scalarOn(b, 1), e));
}

/** dy·((1 + erf(x·√½))·0.5 + x·(exp(x·x·(−0.5))·(1/√(2π)))) from `b`'s kernels, as ops/activations.ts composes it. */
function geluGradComposed(b: Backend, dy: Storage, x: Storage, n: number): Storage {
  const mul = (p: Storage, q: Storage) =>
    b.binary('mul', p, p.size === 1 ? [] : [n], q, q.size === 1 ? [] : [n], [n]);
  const add = (p: Storage, q: Storage) =>
    b.binary('add', p, p.size === 1 ? [] : [n], q, q.size === 1 ? [] : [n], [n]);
  const cdf = mul(
    add(scalarOn(b, 1), b.unary('erf', mul(x, scalarOn(b, Math.SQRT1_2)))),
    scalarOn(b, 0.5),
  );
  const pdf = mul(
    b.unary('exp', mul(b.unary('square', x), scalarOn(b, -0.5))),
    scalarOn(b, 1 / Math.sqrt(2 * Math.PI)),
  );
  return mul(dy, add(cdf, mul(x, pdf)));
}
