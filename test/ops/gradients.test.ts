/**
 * Gradient checks: every differentiable op exported from src/index.ts, its autograd gradient
 * against central finite differences in float64 (test/gradcheck.ts), over shapes that exercise
 * broadcasting, strides, dilation, groups, odd sizes and asymmetric 'same' padding.
 * The last test checks that no public op was left out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import * as activationOps from '../../src/ops/activations.js';
import * as convOps from '../../src/ops/conv.js';
import * as dropoutOps from '../../src/ops/dropout.js';
import * as elementwiseOps from '../../src/ops/elementwise.js';
import * as lossOps from '../../src/ops/loss.js';
import * as matmulOps from '../../src/ops/matmul.js';
import * as normOps from '../../src/ops/norm.js';
import * as poolOps from '../../src/ops/pool.js';
import * as reduceOps from '../../src/ops/reduce.js';
import * as resizeOps from '../../src/ops/resize.js';
import * as shapeOps from '../../src/ops/shape.js';
import { Random } from '../../src/util/random.js';
import { f64, type GradcheckOptions, gradcheck, randomValues } from '../gradcheck.js';
import { withBackend } from '../helpers.js';

type Input = { shape: number[]; values: Float64Array };
type Fn = (...xs: rc.Tensor[]) => rc.Tensor;

/** Public ops whose gradients were checked (by name), for the coverage test at the end. */
const covered = new Set<string>();

/**
 * gradcheck, remembering which public ops the case exercises. The inputs here are small, so
 * every entry is checked (maxChecks 2000); the whole file still runs in about half a second.
 */
function check(ops: string[], name: string, f: Fn, inputs: Input[], opts?: GradcheckOptions) {
  for (const op of ops) covered.add(op);
  gradcheck(name, f, inputs, { maxChecks: 2000, ...opts });
}

// Seeds: every call draws fresh values, so no two inputs share theirs.
let seedCounter = 1000;
const nextSeed = () => seedCounter++;

/** Standard normal values. */
const rnd = (shape: number[], scale = 1): Input => randomValues(shape, nextSeed(), scale);

/** Values with |v| ≥ min: away from the kinks of abs, relu, leakyRelu, elu and the pole of 1/x. */
function awayFromZero(shape: number[], min = 0.2): Input {
  const r = rnd(shape);
  return { shape, values: r.values.map((v) => (v < 0 ? -1 : 1) * (min + Math.abs(v))) };
}

/** Uniform values in [lo, hi): the domain of log, sqrt, rsqrt, pow's base, variances. */
function positive(shape: number[], lo = 0.5, hi = 2): Input {
  const rng = new Random(nextSeed());
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float64Array.from({ length: n }, () => rng.uniform(lo, hi)) };
}

/** Distinct values spaced 0.05 apart in random order: no ties for max, min and max pooling. */
function distinct(shape: number[]): Input {
  const rng = new Random(nextSeed());
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  rng.shuffle(v);
  return { shape, values: Float64Array.from(v) };
}

/** Runs fn in float64 on 'js-f64', where identities can be checked to 1e-10. */
const withF64 = (fn: () => void) => withBackend('js-f64', fn);
const tensorOf = (inp: Input) => rc.tensor(inp.values, inp.shape);

// ---------------------------------------------------------------------------------------------
// Elementwise arithmetic with broadcasting
// ---------------------------------------------------------------------------------------------

const broadcastPairs: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [
    [3, 1],
    [2, 3, 4],
  ],
  [
    [2, 1, 4],
    [1, 3, 1],
  ],
  [[2, 3, 4], []],
  [[], [2, 3]],
];

test('add, sub, mul with broadcasting', () => {
  for (const [sa, sb] of broadcastPairs) {
    const tag = `[${sa}] with [${sb}]`;
    check(['add'], `add ${tag}`, (a, b) => rc.add(a!, b!), [rnd(sa), rnd(sb)]);
    check(['sub'], `sub ${tag}`, (a, b) => rc.sub(a!, b!), [rnd(sa), rnd(sb)]);
    check(['mul'], `mul ${tag}`, (a, b) => rc.mul(a!, b!), [rnd(sa), rnd(sb)]);
  }
  // Plain numbers on either side.
  check(['add', 'sub', 'mul'], 'number operands', (a) => rc.mul(rc.sub(3, rc.add(a!, 2)), -1.5), [
    rnd([2, 3]),
  ]);
});

test('div with broadcasting (denominators away from 0)', () => {
  for (const [sa, sb] of broadcastPairs) {
    check(['div'], `div [${sa}] / [${sb}]`, (a, b) => rc.div(a!, b!), [
      rnd(sa),
      awayFromZero(sb, 0.5),
    ]);
  }
  check(['div'], 'number / tensor', (b) => rc.div(2, b!), [awayFromZero([3, 2], 0.5)]);
});

test('pow with broadcasting (positive base)', () => {
  for (const [sa, sb] of broadcastPairs) {
    check(['pow'], `pow [${sa}] ^ [${sb}]`, (a, b) => rc.pow(a!, b!), [positive(sa), rnd(sb)]);
  }
  check(['pow'], 'pow x^2.5', (a) => rc.pow(a!, 2.5), [positive([2, 3])]);
  check(['pow'], 'pow 2^x', (b) => rc.pow(2, b!), [rnd([2, 3])]);
});

test('maximum and minimum with broadcasting', () => {
  for (const [sa, sb] of broadcastPairs) {
    // Continuous random values: a tie within eps has probability ~0.
    check(['maximum'], `maximum [${sa}] [${sb}]`, (a, b) => rc.maximum(a!, b!), [rnd(sa), rnd(sb)]);
    check(['minimum'], `minimum [${sa}] [${sb}]`, (a, b) => rc.minimum(a!, b!), [rnd(sa), rnd(sb)]);
  }
});

test('unary math: neg, abs, exp, log, sqrt, rsqrt, square, erf', () => {
  const s = [3, 4];
  check(['neg'], 'neg', (x) => rc.neg(x!), [rnd(s)]);
  check(['abs'], 'abs', (x) => rc.abs(x!), [awayFromZero(s)]);
  check(['exp'], 'exp', (x) => rc.exp(x!), [rnd(s)]);
  check(['log'], 'log', (x) => rc.log(x!), [positive(s, 0.3, 3)]);
  check(['sqrt'], 'sqrt', (x) => rc.sqrt(x!), [positive(s, 0.3, 3)]);
  check(['rsqrt'], 'rsqrt', (x) => rc.rsqrt(x!), [positive(s, 0.3, 3)]);
  check(['square'], 'square', (x) => rc.square(x!), [rnd(s)]);
  check(['erf'], 'erf (series and continued-fraction ranges)', (x) => rc.erf(x!), [rnd(s, 1.8)]);
  // Composed: each rule's output feeds another's input.
  check(
    ['exp', 'log', 'sqrt'],
    'log(1 + exp(x)) then sqrt',
    (x) => rc.sqrt(rc.log(rc.add(1, rc.exp(x!)))),
    [rnd(s)],
  );
});

// ---------------------------------------------------------------------------------------------
// Activations and softmax
// ---------------------------------------------------------------------------------------------

test('activations: relu, tanh, sigmoid, leakyRelu, elu, gelu, swish', () => {
  const s = [2, 3, 4];
  check(['relu'], 'relu', (x) => rc.relu(x!), [awayFromZero(s)]);
  check(['tanh'], 'tanh', (x) => rc.tanh(x!), [rnd(s)]);
  check(['sigmoid'], 'sigmoid', (x) => rc.sigmoid(x!), [rnd(s, 2)]);
  check(['leakyRelu'], 'leakyRelu default alpha', (x) => rc.leakyRelu(x!), [awayFromZero(s)]);
  check(['leakyRelu'], 'leakyRelu alpha 0.05', (x) => rc.leakyRelu(x!, 0.05), [awayFromZero(s)]);
  check(['elu'], 'elu', (x) => rc.elu(x!), [awayFromZero(s)]);
  check(['elu'], 'elu alpha 0.7', (x) => rc.elu(x!, 0.7), [awayFromZero(s)]);
  check(['gelu'], 'gelu', (x) => rc.gelu(x!), [rnd(s, 1.5)]);
  check(['swish'], 'swish', (x) => rc.swish(x!), [rnd(s, 1.5)]);
});

test('softmax and logSoftmax over several axes', () => {
  for (const axis of [-1, 0, 1, 2]) {
    check(['softmax'], `softmax axis ${axis}`, (x) => rc.softmax(x!, axis), [rnd([2, 3, 4], 2)]);
    check(['logSoftmax'], `logSoftmax axis ${axis}`, (x) => rc.logSoftmax(x!, axis), [
      rnd([2, 3, 4], 2),
    ]);
  }
  // Large logits: the stable forms keep finite gradients.
  check(
    ['softmax', 'logSoftmax'],
    'softmax + logSoftmax, logits ~ ±30',
    (x) => rc.add(rc.softmax(x!), rc.logSoftmax(x!)),
    [rnd([3, 5], 30)],
  );
});

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

const reduceAxes: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 2], [1, 2]];

test('sum and mean over axes, with and without keepDims', () => {
  for (const axis of reduceAxes) {
    for (const keep of [false, true]) {
      const tag = `axis ${JSON.stringify(axis)} keepDims ${keep}`;
      check(['sum'], `sum ${tag}`, (x) => rc.sum(x!, axis, keep), [rnd([2, 3, 4])]);
      check(['mean'], `mean ${tag}`, (x) => rc.mean(x!, axis, keep), [rnd([2, 3, 4])]);
    }
  }
});

test('max and min over axes (distinct values, no ties)', () => {
  for (const axis of reduceAxes) {
    for (const keep of [false, true]) {
      const tag = `axis ${JSON.stringify(axis)} keepDims ${keep}`;
      check(['max'], `max ${tag}`, (x) => rc.max(x!, axis, keep), [distinct([2, 3, 4])]);
      check(['min'], `min ${tag}`, (x) => rc.min(x!, axis, keep), [distinct([2, 3, 4])]);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------------------------

test('matmul: 2-D and batched, all four transpose combinations', () => {
  const [m, k, n] = [3, 4, 5];
  for (const batch of [0, 2]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const lead = batch ? [batch] : [];
        const a = [...lead, ...(ta ? [k, m] : [m, k])];
        const b = [...lead, ...(tb ? [n, k] : [k, n])];
        check(
          ['matmul'],
          `matmul ${batch ? 'batched' : '2-D'} transposeA ${ta} transposeB ${tb}`,
          (x, y) => rc.matmul(x!, y!, ta, tb),
          [rnd(a), rnd(b)],
        );
      }
    }
  }
  check(['matmul'], 'matmul a·a (a used twice)', (a) => rc.matmul(a!, a!, false, true), [
    rnd([3, 4]),
  ]);
});

// ---------------------------------------------------------------------------------------------
// Data movement
// ---------------------------------------------------------------------------------------------

test('reshape, transpose, slice, pad', () => {
  check(['reshape'], 'reshape to [4, -1]', (x) => rc.reshape(x!, [4, -1]), [rnd([2, 3, 4])]);
  check(['transpose'], 'transpose default (reverse)', (x) => rc.transpose(x!), [rnd([2, 3, 4])]);
  check(['transpose'], 'transpose [2, 0, 1]', (x) => rc.transpose(x!, [2, 0, 1]), [rnd([2, 3, 4])]);
  check(['transpose'], 'transpose [0, 3, 1, 2]', (x) => rc.transpose(x!, [0, 3, 1, 2]), [
    rnd([2, 3, 2, 3]),
  ]);
  check(['slice'], 'slice with -1 size', (x) => rc.slice(x!, [0, 1, 1], [2, 2, -1]), [
    rnd([2, 3, 4]),
  ]);
  check(['slice'], 'slice to the end', (x) => rc.slice(x!, [1, 0, 2]), [rnd([2, 3, 4])]);
  check(
    ['pad'],
    'pad zeros',
    (x) =>
      rc.pad(x!, [
        [1, 0],
        [0, 2],
        [1, 1],
      ]),
    [rnd([2, 3, 4])],
  );
  check(
    ['pad'],
    'pad with a value',
    (x) =>
      rc.pad(
        x!,
        [
          [2, 1],
          [0, 0],
        ],
        -3,
      ),
    [rnd([2, 3])],
  );
  // Each copied entry's gradient adds to the entry it copies (reflect: all but the edge row).
  for (const mode of ['reflect', 'edge'] as const)
    check(
      ['pad'],
      `pad ${mode}`,
      (x) =>
        rc.pad(
          x!,
          [
            [0, 0],
            [2, 1],
            [1, 2],
            [0, 0],
          ],
          { mode },
        ),
      [rnd([2, 3, 4, 2])],
    );
});

test('concat (a tensor used twice accumulates both gradients) and stack', () => {
  for (const axis of [0, 1, -1]) {
    const shapeB = [2, 3, 4];
    shapeB[axis < 0 ? 2 : axis] = 1;
    check(['concat'], `concat [a, b, a] axis ${axis}`, (a, b) => rc.concat([a!, b!, a!], axis), [
      rnd([2, 3, 4]),
      rnd(shapeB),
    ]);
  }
  for (const axis of [0, 1, 2, -1]) {
    check(['stack'], `stack [a, b, a] axis ${axis}`, (a, b) => rc.stack([a!, b!, a!], axis), [
      rnd([2, 3]),
      rnd([2, 3]),
    ]);
  }
});

test('squeeze, expandDims, broadcastTo, where', () => {
  check(['squeeze'], 'squeeze all', (x) => rc.squeeze(x!), [rnd([2, 1, 3, 1])]);
  check(['squeeze'], 'squeeze axis -1', (x) => rc.squeeze(x!, [-1]), [rnd([2, 1, 3, 1])]);
  check(['expandDims'], 'expandDims 0', (x) => rc.expandDims(x!, 0), [rnd([2, 3])]);
  check(['expandDims'], 'expandDims -1', (x) => rc.expandDims(x!, -1), [rnd([2, 3])]);
  check(['broadcastTo'], 'broadcastTo [3, 1] → [2, 3, 4]', (x) => rc.broadcastTo(x!, [2, 3, 4]), [
    rnd([3, 1]),
  ]);
  check(['broadcastTo'], 'broadcastTo [] → [2, 3]', (x) => rc.broadcastTo(x!, [2, 3]), [rnd([])]);
  const mask = [1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1];
  check(['where'], 'where with a fixed mask', (a, b) => rc.where(rc.tensor(mask, [3, 4]), a!, b!), [
    rnd([3, 4]),
    rnd([3, 4]),
  ]);
  check(
    ['where'],
    'where(x > 0, x, x²) (x in both branches)',
    (x) => rc.where(rc.greater(x!, 0), x!, rc.square(x!)),
    [awayFromZero([3, 4])],
  );
});

// ---------------------------------------------------------------------------------------------
// Convolutions
// ---------------------------------------------------------------------------------------------

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  options: rc.Conv2DOptions;
}

const conv2dCases: ConvCase[] = [
  { name: 'k3 valid', x: [2, 5, 5, 3], w: [3, 3, 3, 4], options: {} },
  { name: 'stride 2 valid, odd sizes', x: [1, 7, 6, 2], w: [3, 3, 2, 3], options: { strides: 2 } },
  {
    name: 'dilation 2 same',
    x: [1, 7, 7, 2],
    w: [3, 3, 2, 2],
    options: { dilationRate: 2, padding: 'same' },
  },
  {
    name: 'dilation 2 with stride 2, same (asymmetric pad)',
    x: [1, 8, 7, 2],
    w: [3, 3, 2, 3],
    options: { strides: 2, dilationRate: 2, padding: 'same' },
  },
  {
    name: 'dilation [2, 1], stride [1, 2], valid',
    x: [1, 7, 7, 2],
    w: [3, 3, 2, 2],
    options: { strides: [1, 2], dilationRate: [2, 1] },
  },
  {
    name: 'groups 2, same',
    x: [1, 5, 5, 4],
    w: [3, 3, 2, 4],
    options: { groups: 2, padding: 'same' },
  },
  {
    name: 'groups = channels (3), 2 filters each',
    x: [1, 5, 6, 3],
    w: [3, 3, 1, 6],
    options: { groups: 3 },
  },
  { name: "odd sizes 'same'", x: [1, 7, 5, 3], w: [3, 3, 3, 2], options: { padding: 'same' } },
  {
    name: "asymmetric 'same': in 6, k 3, stride 2 (pad 0 before, 1 after)",
    x: [1, 6, 6, 2],
    w: [3, 3, 2, 2],
    options: { strides: 2, padding: 'same' },
  },
  {
    name: "asymmetric 'same': in 5, k 4, stride 1 (pad 1 before, 2 after)",
    x: [1, 5, 5, 2],
    w: [4, 4, 2, 2],
    options: { padding: 'same' },
  },
  {
    name: 'explicit padding [[1, 2], [0, 1]]',
    x: [1, 5, 6, 2],
    w: [3, 3, 2, 2],
    options: {
      padding: [
        [1, 2],
        [0, 1],
      ],
    },
  },
  {
    name: 'number padding 1, stride 2',
    x: [1, 6, 5, 2],
    w: [3, 3, 2, 2],
    options: { padding: 1, strides: 2 },
  },
  {
    name: 'non-square kernel 2x3, strides [2, 1], same',
    x: [1, 6, 7, 2],
    w: [2, 3, 2, 3],
    options: { strides: [2, 1], padding: 'same' },
  },
  { name: '1x1 kernel, stride 2', x: [2, 5, 5, 3], w: [1, 1, 3, 2], options: { strides: 2 } },
];

/** Random valid conv configurations from a seed (a fixed seed, so failures repeat). */
function randomConvCases(count: number, seed: number): ConvCase[] {
  const rng = new Random(seed);
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!;
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const groups = pick([1, 1, 2, 3]);
    const inC = groups * pick([1, 2]);
    const filters = groups * pick([1, 2]);
    const kh = pick([1, 2, 3, 4]);
    const kw = pick([1, 2, 3]);
    const strides: [number, number] = [pick([1, 2, 3]), pick([1, 2])];
    const dilationRate: [number, number] = [pick([1, 2]), pick([1, 2])];
    const padding = pick<rc.Padding>([
      'same',
      'valid',
      1,
      [
        [0, 2],
        [1, 0],
      ],
    ]);
    const h = 3 + rng.int(6);
    const w = 3 + rng.int(6);
    const x = [1 + rng.int(2), h, w, inC];
    const kernel = [kh, kw, inC / groups, filters];
    const options = { strides, dilationRate, padding, groups };
    try {
      // Keep only configurations whose window fits (the op throws otherwise).
      rc.noGrad(() => rc.conv2d(rc.zeros(x), rc.zeros(kernel), options));
    } catch {
      continue;
    }
    cases.push({
      name: `random ${JSON.stringify({ x, kernel, ...options })}`,
      x,
      w: kernel,
      options,
    });
  }
  return cases;
}

test('conv2d: strides, dilation, groups, odd sizes, asymmetric and explicit padding', () => {
  for (const c of conv2dCases) {
    check(['conv2d'], `conv2d ${c.name}`, (x, w) => rc.conv2d(x!, w!, c.options), [
      rnd(c.x),
      rnd(c.w),
    ]);
  }
});

test('conv2d: random shapes and options', () => {
  for (const c of randomConvCases(8, 2024)) {
    check(['conv2d'], `conv2d ${c.name}`, (x, w) => rc.conv2d(x!, w!, c.options), [
      rnd(c.x),
      rnd(c.w),
    ]);
  }
});

test('conv2dBias (Conv2D with a bias): the kernel, input and bias gradients', () => {
  for (const c of conv2dCases.slice(0, 6)) {
    const outC = c.w[3]!;
    check(
      ['conv2dBias'],
      `conv2dBias ${c.name}`,
      (x, w, b) => convOps.conv2dBias(x!, w!, b!, c.options),
      [rnd(c.x), rnd(c.w), rnd([outC])],
    );
  }
});

test('depthwiseConv2d: multiplier 1 and 2, stride, dilation', () => {
  const cases: ConvCase[] = [
    { name: 'm1 valid', x: [2, 5, 5, 3], w: [3, 3, 3, 1], options: {} },
    { name: 'm2 same', x: [1, 5, 6, 3], w: [3, 3, 3, 2], options: { padding: 'same' } },
    {
      name: 'm1 stride 2 same (asymmetric)',
      x: [1, 6, 7, 2],
      w: [3, 3, 2, 1],
      options: { strides: 2, padding: 'same' },
    },
    {
      name: 'm2 dilation 2',
      x: [1, 7, 6, 2],
      w: [3, 2, 2, 2],
      options: { dilationRate: 2 },
    },
    {
      name: 'm2 stride 2 dilation 2 same',
      x: [1, 7, 8, 2],
      w: [3, 3, 2, 2],
      options: { strides: 2, dilationRate: 2, padding: 'same' },
    },
  ];
  for (const c of cases) {
    check(
      ['depthwiseConv2d'],
      `depthwiseConv2d ${c.name}`,
      (x, w) => rc.depthwiseConv2d(x!, w!, c.options),
      [rnd(c.x), rnd(c.w)],
    );
  }
});

test('conv2dTranspose: strides 1 and 2, same and valid, dilation, outputPadding', () => {
  const cases: { name: string; x: number[]; w: number[]; options: rc.Conv2DTransposeOptions }[] = [
    { name: 's1 valid', x: [2, 3, 4, 3], w: [3, 3, 2, 3], options: {} },
    { name: 's1 same', x: [1, 4, 5, 3], w: [3, 3, 2, 3], options: { padding: 'same' } },
    { name: 's2 valid', x: [1, 3, 4, 2], w: [3, 3, 3, 2], options: { strides: 2 } },
    { name: 's2 same', x: [1, 3, 3, 2], w: [3, 3, 2, 2], options: { strides: 2, padding: 'same' } },
    {
      name: 's2 same k4',
      x: [1, 3, 3, 2],
      w: [4, 4, 2, 2],
      options: { strides: 2, padding: 'same' },
    },
    {
      name: 'dilation 2 same',
      x: [1, 4, 4, 2],
      w: [3, 3, 2, 2],
      options: { dilationRate: 2, padding: 'same' },
    },
    {
      name: 's2 dilation 2 valid',
      x: [1, 3, 3, 2],
      w: [3, 2, 2, 2],
      options: { strides: 2, dilationRate: 2 },
    },
    {
      name: 's2 same outputPadding 1',
      x: [1, 3, 4, 2],
      w: [3, 3, 2, 2],
      options: { strides: 2, padding: 'same', outputPadding: 1 },
    },
    {
      name: 's2 valid outputPadding [1, 0]',
      x: [1, 3, 4, 2],
      w: [3, 3, 2, 2],
      options: { strides: 2, outputPadding: [1, 0] },
    },
    {
      name: 'strides [2, 1], explicit padding 1',
      x: [1, 3, 4, 2],
      w: [3, 3, 2, 2],
      options: { strides: [2, 1], padding: 1 },
    },
  ];
  for (const c of cases) {
    check(
      ['conv2dTranspose'],
      `conv2dTranspose ${c.name}`,
      (x, w) => rc.conv2dTranspose(x!, w!, c.options),
      [rnd(c.x), rnd(c.w)],
    );
  }
});

test('conv2dTranspose is the adjoint of conv2d: <conv2d(z, w), x> = <z, conv2dTranspose(x, w)>', () => {
  // t: the transposed conv's options; c: the forward conv it is the input-gradient of.
  const cases: { x: number[]; w: number[]; t: rc.Conv2DTransposeOptions; c: rc.Conv2DOptions }[] = [
    {
      x: [1, 3, 3, 2],
      w: [3, 3, 2, 2],
      t: { strides: 2, padding: 'same' },
      c: { strides: 2, padding: 'same' },
    },
    {
      x: [2, 3, 4, 2],
      w: [3, 2, 3, 2],
      t: { strides: [2, 1], dilationRate: [1, 2] },
      c: { strides: [2, 1], dilationRate: [1, 2] },
    },
    {
      x: [1, 4, 4, 3],
      w: [4, 4, 2, 3],
      t: { strides: 2, padding: 'same' },
      c: { strides: 2, padding: 'same' },
    },
    {
      x: [1, 3, 3, 2],
      w: [3, 3, 2, 2],
      t: { strides: 2, padding: 1 },
      c: { strides: 2, padding: 1 },
    },
    // outputPadding 1 on 'same' (in 3x4, k 3, s 2: pad 0 before, 1 after) leaves the extra
    // row and column unpadded: the forward conv of the 7x9 output pads nothing.
    {
      x: [1, 3, 4, 2],
      w: [3, 3, 2, 2],
      t: { strides: 2, padding: 'same', outputPadding: 1 },
      c: { strides: 2, padding: 'valid' },
    },
  ];
  withF64(() => {
    for (const c of cases) {
      const x = tensorOf(rnd(c.x));
      const w = tensorOf(rnd(c.w));
      const yT = rc.conv2dTranspose(x, w, c.t);
      const z = tensorOf(rnd(yT.shape));
      const fwd = rc.conv2d(z, w, c.c);
      assert.deepEqual(fwd.shape, x.shape, JSON.stringify(c));
      const lhs = f64(rc.sum(rc.mul(fwd, x)))[0]!;
      const rhs = f64(rc.sum(rc.mul(z, yT)))[0]!;
      assert.ok(
        Math.abs(lhs - rhs) < 1e-10 * (1 + Math.abs(lhs)),
        `${JSON.stringify(c)}: ${lhs} vs ${rhs}`,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

const poolCases: { name: string; x: number[]; options: rc.Pool2DOptions }[] = [
  { name: 'p2 s2 valid', x: [2, 4, 6, 2], options: { poolSize: 2 } },
  { name: 'p3 s2 valid overlapping', x: [1, 7, 7, 2], options: { poolSize: 3, strides: 2 } },
  {
    name: "p3 s2 'same', odd 5x7",
    x: [1, 5, 7, 2],
    options: { poolSize: 3, strides: 2, padding: 'same' },
  },
  { name: "p2 s2 'same', odd 5x5", x: [1, 5, 5, 2], options: { poolSize: 2, padding: 'same' } },
  { name: "p3 s1 'same'", x: [1, 4, 5, 2], options: { poolSize: 3, strides: 1, padding: 'same' } },
  {
    name: 'p [3, 2] s [2, 1] valid',
    x: [1, 6, 5, 2],
    options: { poolSize: [3, 2], strides: [2, 1] },
  },
];

test('maxPool2d (distinct values, so no ties)', () => {
  for (const c of poolCases) {
    check(['maxPool2d'], `maxPool2d ${c.name}`, (x) => rc.maxPool2d(x!, c.options), [
      distinct(c.x),
    ]);
  }
  // All values negative: padding (−∞) must take no gradient at the borders.
  const neg = distinct([1, 5, 5, 2]);
  neg.values = neg.values.map((v) => v - 10);
  check(
    ['maxPool2d'],
    "maxPool2d 'same', all values negative",
    (x) => rc.maxPool2d(x!, { poolSize: 2, padding: 'same' }),
    [neg],
  );
  // Dilated windows (composed of slices and maxima): explicit padding, 'same', strides.
  const dilated: rc.Pool2DOptions[] = [
    { poolSize: [2, 3], strides: [2, 1], padding: 1, dilationRate: 2 },
    { poolSize: 3, strides: 2, padding: 'same', dilationRate: [2, 3] },
    { poolSize: 2, strides: 1, dilationRate: [1, 2] },
  ];
  for (const options of dilated)
    check(
      ['maxPool2d'],
      `maxPool2d dilated ${JSON.stringify(options)}`,
      (x) => rc.maxPool2d(x!, options),
      [distinct([2, 7, 8, 2])],
    );
});

test("avgPool2d ('valid' and 'same' with odd sizes)", () => {
  for (const c of poolCases) {
    check(['avgPool2d'], `avgPool2d ${c.name}`, (x) => rc.avgPool2d(x!, c.options), [rnd(c.x)]);
  }
});

test('resize (bilinear and nearest, every coordinate mode, up and down)', () => {
  for (const method of ['bilinear', 'nearest'] as const) {
    for (const coordinates of ['half-pixel', 'align-corners', 'asymmetric'] as const) {
      for (const size of [
        [5, 7],
        [2, 3],
      ] as [number, number][]) {
        check(
          ['resize'],
          `resize ${method} ${coordinates} [3, 4] → ${JSON.stringify(size)}`,
          (x) => rc.resize(x!, size, { method, coordinates }),
          [rnd([2, 3, 4, 2])],
        );
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Normalization, dropout, loss
// ---------------------------------------------------------------------------------------------

test('batchNorm: gradients with respect to all five inputs', () => {
  for (const [shape, eps] of [
    [[2, 3, 3, 4], 1e-3],
    [[5, 3], 1e-5],
  ] as [number[], number][]) {
    const c = shape[shape.length - 1]!;
    check(
      ['batchNorm'],
      `batchNorm [${shape}] epsilon ${eps}`,
      (x, m, v, g, b) => rc.batchNorm(x!, m!, v!, g!, b!, eps),
      [rnd(shape), rnd([c]), positive([c], 0.3, 2), rnd([c]), rnd([c])],
    );
  }
});

test('batchNorm fed by rc.moments batch statistics (full training-mode gradient)', () => {
  check(
    ['batchNorm', 'moments'],
    'batchNorm(x, moments(x)) NHWC',
    (x, g, b) => {
      const { mean, variance } = rc.moments(x!, [0, 1, 2]);
      return rc.batchNorm(x!, mean, variance, g!, b!, 1e-3);
    },
    [rnd([2, 3, 3, 3]), rnd([3]), rnd([3])],
  );
  check(
    ['batchNorm', 'moments'],
    'batchNorm(x, moments(x)) [batch, features]',
    (x, g, b) => {
      const { mean, variance } = rc.moments(x!, 0);
      return rc.batchNorm(x!, mean, variance, g!, b!, 1e-5);
    },
    [rnd([6, 4]), rnd([4]), rnd([4])],
  );
  check(
    ['moments'],
    'moments keepDims (mean + variance)',
    (x) => {
      const { mean, variance } = rc.moments(x!, [1, 2], true);
      return rc.concat([mean, variance], 0);
    },
    [rnd([2, 3, 4])],
  );
});

test('localResponseNorm', () => {
  const cases: { x: number[]; o: rc.LRNOptions }[] = [
    { x: [1, 2, 3, 5], o: { depthRadius: 2, bias: 1, alpha: 0.5, beta: 0.75 } },
    { x: [2, 2, 2, 4], o: { depthRadius: 1, bias: 2, alpha: 0.1, beta: 0.5 } },
    { x: [1, 2, 2, 3], o: {} }, // TensorFlow's defaults: the radius covers every channel
  ];
  for (const c of cases) {
    check(
      ['localResponseNorm'],
      `localResponseNorm ${JSON.stringify(c.o)}`,
      (x) => rc.localResponseNorm(x!, c.o),
      [rnd(c.x, 1.5)],
    );
  }
});

test('dropout with a fixed seed', () => {
  check(['dropout'], 'dropout rate 0.4 seed 3', (x) => rc.dropout(x!, 0.4, { seed: 3 }), [
    rnd([4, 5]),
  ]);
  check(
    ['dropout'],
    'dropout training false is the identity',
    (x) => rc.dropout(x!, 0.4, { seed: 3, training: false }),
    [rnd([4, 5])],
  );
});

test('softmaxCrossEntropy with one-hot and int32 labels', () => {
  const ids = [2, 0, 4, 1];
  const oneHot = Float64Array.from({ length: 20 }, (_, i) =>
    ids[Math.floor(i / 5)] === i % 5 ? 1 : 0,
  );
  // One-hot labels as an input too: the gradient with respect to soft targets is checked as well.
  check(
    ['softmaxCrossEntropy'],
    'softmaxCrossEntropy one-hot',
    (l, y) => rc.softmaxCrossEntropy(l!, y!),
    [rnd([4, 5], 2), { shape: [4, 5], values: oneHot }],
  );
  check(
    ['softmaxCrossEntropy'],
    'softmaxCrossEntropy int32 ids',
    (l) => rc.softmaxCrossEntropy(l!, rc.tensor(ids, [4], 'int32')),
    [rnd([4, 5], 2)],
  );
  check(
    ['softmaxCrossEntropy'],
    'softmaxCrossEntropy large logits',
    (l) => rc.softmaxCrossEntropy(l!, rc.tensor(ids, [4], 'int32')),
    [rnd([4, 5], 30)],
  );
});

// ---------------------------------------------------------------------------------------------
// Graphs where a tensor is used more than once
// ---------------------------------------------------------------------------------------------

test('residual block: y = x + f(x), x used twice', () => {
  check(
    ['conv2d', 'relu', 'add'],
    'residual conv block',
    (x, w1, w2) => {
      const h = rc.relu(rc.conv2d(x!, w1!, { padding: 'same' }));
      return rc.add(x!, rc.conv2d(h, w2!, { padding: 'same' }));
    },
    [rnd([1, 5, 5, 3]), rnd([3, 3, 3, 4], 0.5), rnd([3, 3, 4, 3], 0.5)],
  );
  check(['mul', 'tanh', 'add'], 'x·x + tanh(x)', (x) => rc.add(rc.mul(x!, x!), rc.tanh(x!)), [
    rnd([3, 4]),
  ]);
  // Diamond: two branches from one tensor meet again further down.
  check(
    ['matmul', 'sigmoid', 'sum'],
    'diamond through matmul and a reduction',
    (x, w) => {
      const h = rc.matmul(x!, w!);
      return rc.sum(rc.mul(rc.sigmoid(h), h), 1);
    },
    [rnd([3, 4]), rnd([4, 5])],
  );
});

// ---------------------------------------------------------------------------------------------
// Coverage: every differentiable public op from src/ops/ was checked above.
// ---------------------------------------------------------------------------------------------

/** Public ops with no gradient to check: comparisons, integer results, dtype conversion. */
const notDifferentiable = new Set(['equal', 'greater', 'sign', 'argMax', 'cast']);

test('every differentiable op exported from src/index.ts has a gradient check', () => {
  const modules = [
    activationOps,
    convOps,
    dropoutOps,
    elementwiseOps,
    lossOps,
    matmulOps,
    normOps,
    poolOps,
    reduceOps,
    resizeOps,
    shapeOps,
  ];
  const publicFns = new Set(Object.values(rc));
  const missing: string[] = [];
  for (const mod of modules) {
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn !== 'function' || !publicFns.has(fn)) continue;
      if (!covered.has(name) && !notDifferentiable.has(name)) missing.push(name);
    }
  }
  assert.deepEqual(missing, [], `ops without a gradient check: ${missing.join(', ')}`);
  assert.ok(covered.size > 40, `only ${covered.size} ops covered`);
});
