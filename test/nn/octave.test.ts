/**
 * OctaveConv2D: the four paths against the formula of Chen et al. 2019 written with ops, the
 * channel split int(alpha·C), the parameter count of an ordinary convolution, an octave
 * network built by direct calls and in the functional API, and the error messages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertTensorClose } from '../helpers.js';

const { OctaveConv2D, Conv2D } = rc.layers;

const conv = (x: rc.Tensor, w: rc.Tensor) => rc.conv2d(x, w, { padding: 'same' });
const pool = (x: rc.Tensor, p: number) => rc.avgPool2d(x, { poolSize: p, strides: p });
/** Nearest-neighbour 2× upsampling written independently of the layer's helper. */
function upsample2(x: rc.Tensor): rc.Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const v = x.dataSync();
  const out = new Float32Array(n * 4 * h * w * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < 2 * h; i++)
      for (let j = 0; j < 2 * w; j++)
        for (let k = 0; k < c; k++)
          out[((b * 2 * h + i) * 2 * w + j) * c + k] =
            v[((b * h + (i >> 1)) * w + (j >> 1)) * c + k]!;
  return rc.tensor(out, [n, 2 * h, 2 * w, c]);
}

const weightsOf = (l: rc.Layer) =>
  Object.fromEntries(l.weights.map((w) => [w.name!.split('/')[1]!, w]));

test('OctaveConv2D: the four paths of a middle layer follow the paper', () => {
  const xh = rc.randn([2, 6, 4, 4], { seed: 1 });
  const xl = rc.randn([2, 3, 2, 2], { seed: 2 });
  const [hi, lo] = OctaveConv2D.pair({
    filters: 5,
    kernelSize: 3,
    alphaIn: 1 / 3,
    alphaOut: 0.4,
    biasInitializer: 'randomNormal',
  });
  const yh = hi.apply([xh, xl]);
  const yl = lo.apply([xh, xl]);
  const a = weightsOf(hi);
  const b = weightsOf(lo);
  assert.deepEqual(Object.keys(a), ['kernel_h2h', 'kernel_l2h', 'bias']);
  assert.deepEqual(Object.keys(b), ['kernel_h2l', 'kernel_l2l', 'bias']);
  // int(0.4·5) = 2 low-frequency outputs, 3 high; int(1/3·6) = 2 low inputs, 4 high.
  assert.deepEqual(a.kernel_h2h!.shape, [3, 3, 4, 3]);
  assert.deepEqual(a.kernel_l2h!.shape, [3, 3, 2, 3]);
  assert.deepEqual(b.kernel_h2l!.shape, [3, 3, 4, 2]);
  assert.deepEqual(b.kernel_l2l!.shape, [3, 3, 2, 2]);
  const wantH = rc.add(
    rc.add(conv(xh, a.kernel_h2h!), upsample2(conv(xl, a.kernel_l2h!))),
    a.bias!,
  );
  const wantL = rc.add(rc.add(conv(xl, b.kernel_l2l!), conv(pool(xh, 2), b.kernel_h2l!)), b.bias!);
  assertTensorClose(yh, wantH, { atol: 1e-5, msg: 'Y_H' });
  assertTensorClose(yl, wantL, { atol: 1e-5, msg: 'Y_L' });
  assert.deepEqual(yh.shape, [2, 6, 4, 3]);
  assert.deepEqual(yl.shape, [2, 3, 2, 2]);
});

test('OctaveConv2D: stride 2 pools first, as the authors do', () => {
  const xh = rc.randn([1, 8, 8, 2], { seed: 3 });
  const xl = rc.randn([1, 4, 4, 2], { seed: 4 });
  const [hi, lo] = OctaveConv2D.pair({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' });
  const yh = hi.apply([xh, xl]);
  const yl = lo.apply([xh, xl]);
  const a = weightsOf(hi);
  const b = weightsOf(lo);
  // H→H: pool then conv; L→H: conv, no upsampling (already at the strided size).
  assertTensorClose(
    yh,
    rc.relu(rc.add(conv(pool(xh, 2), a.kernel_h2h!), conv(xl, a.kernel_l2h!))),
    { atol: 1e-5 },
  );
  // L→L: pool then conv; H→L: pool by 4 then conv.
  assertTensorClose(
    yl,
    rc.relu(rc.add(conv(pool(xl, 2), b.kernel_l2l!), conv(pool(xh, 4), b.kernel_h2l!))),
    { atol: 1e-5 },
  );
  assert.deepEqual(yh.shape, [1, 4, 4, 2]);
  assert.deepEqual(yl.shape, [1, 2, 2, 2]);
});

test('OctaveConv2D with alphaIn = alphaOut = 0 is an ordinary Conv2D', () => {
  const x = rc.randn([2, 5, 5, 3], { seed: 5 });
  const oct = new OctaveConv2D({
    filters: 4,
    kernelSize: 3,
    alphaIn: 0,
    alphaOut: 0,
    activation: 'tanh',
  });
  const ref = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' });
  const y = oct.apply(x);
  ref.apply(x);
  ref.setWeights(oct.getWeights());
  assert.deepEqual(ref.apply(x).dataSync(), y.dataSync());
  assert.equal(oct.countParams(), ref.countParams());
});

test('OctaveConv2D: channels split as int(alpha·C); a pair has the parameters of one convolution', () => {
  assert.deepEqual(OctaveConv2D.split(10, 0.25), { high: 8, low: 2 });
  assert.deepEqual(OctaveConv2D.split(64, 0.5), { high: 32, low: 32 });
  assert.deepEqual(OctaveConv2D.split(7, 0.5), { high: 4, low: 3 });
  // Python's int(0.29 * 100) is 28 too: the same float64 product, truncated.
  assert.deepEqual(OctaveConv2D.split(100, 0.29), { high: 72, low: 28 });
  for (const [cin, filters, alphaIn, alphaOut, k] of [
    [10, 12, 0.3, 0.25, 3],
    [8, 8, 0.5, 0.5, 3],
    [6, 10, 0, 0.5, 5],
    [16, 8, 0.75, 0.25, 1],
  ] as const) {
    const split = OctaveConv2D.split(cin, alphaIn);
    const x = rc.Input([8, 8, split.high]);
    const inputs = alphaIn === 0 ? x : [x, rc.Input([4, 4, split.low])];
    const [hi, lo] = OctaveConv2D.pair({ filters, kernelSize: k, alphaIn, alphaOut });
    hi.apply(inputs as rc.SymbolicTensor);
    lo.apply(inputs as rc.SymbolicTensor);
    assert.equal(
      hi.countParams() + lo.countParams(),
      k * k * cin * filters + filters,
      `${cin}→${filters}, α ${alphaIn}/${alphaOut}`,
    );
  }
});

/** An octave network: first (alphaIn 0) → middle → last (alphaOut 0) → classifier. */
function octaveNet() {
  const [h1, l1] = OctaveConv2D.pair({
    filters: 8,
    kernelSize: 3,
    alphaIn: 0,
    alphaOut: 0.5,
    activation: 'relu',
  });
  const [h2, l2] = OctaveConv2D.pair({
    filters: 8,
    kernelSize: 3,
    alphaIn: 0.5,
    alphaOut: 0.5,
    activation: 'relu',
  });
  const last = new OctaveConv2D({
    filters: 6,
    kernelSize: 3,
    alphaIn: 0.5,
    alphaOut: 0,
    activation: 'relu',
  });
  const gap = new rc.layers.GlobalAveragePooling2D();
  const dense = new rc.layers.Dense({ units: 3 });
  return { h1, l1, h2, l2, last, gap, dense };
}

test('OctaveConv2D: an octave network by direct calls and in the functional API', () => {
  const n = octaveNet();
  const input = rc.Input([8, 8, 3]);
  let sh = n.h1.apply(input);
  let sl = n.l1.apply(input);
  assert.deepEqual(
    [sh.shape, sl.shape],
    [
      [null, 8, 8, 4],
      [null, 4, 4, 4],
    ],
  );
  [sh, sl] = [n.h2.apply([sh, sl]), n.l2.apply([sh, sl])];
  const out = n.dense.apply(n.gap.apply(n.last.apply([sh, sl])));
  const model = new rc.Model({ inputs: input, outputs: out });
  assert.deepEqual(out.shape, [null, 3]);
  // 3→8 then 8→8 then 8→6 convolutions (3x3), then 6→3 dense: the octave split costs nothing.
  assert.equal(model.countParams(), 9 * 3 * 8 + 8 + (9 * 8 * 8 + 8) + (9 * 8 * 6 + 6) + 6 * 3 + 3);

  const x = rc.randn([2, 8, 8, 3], { seed: 6 });
  let h = n.h1.apply(x);
  let l = n.l1.apply(x);
  [h, l] = [n.h2.apply([h, l]), n.l2.apply([h, l])];
  const direct = n.dense.apply(n.gap.apply(n.last.apply([h, l])));
  assert.deepEqual(model.apply(x).dataSync(), direct.dataSync());

  const text = model.summary({ print: false });
  for (const l of [n.h1, n.l1, n.h2, n.l2, n.last])
    assert.match(text, new RegExp(`${l.name} \\(OctaveConv2D\\)`));
  assert.match(text, /Total params: 1,267/);

  // The model's config rebuilds the same graph; with the same weights it computes the same.
  const clone = rc.layerFromConfig({
    className: 'Functional',
    config: JSON.parse(JSON.stringify(model.getConfig())),
  });
  clone.apply(x);
  clone.setWeights(model.getWeights());
  assert.deepEqual(clone.apply(x).dataSync(), direct.dataSync());

  // It trains: gradients reach every weight of both halves.
  const loss = rc.mean(rc.square(model.apply(x, { training: true })));
  loss.backward();
  for (const w of model.trainableWeights) assert.ok(w.grad, `${w.name} got no gradient`);
});

test('OctaveConv2D: clear errors for inputs of the wrong form', () => {
  const xh = rc.randn([1, 4, 4, 2], { seed: 7 });
  const xl = rc.randn([1, 2, 2, 2], { seed: 8 });
  const name = (l: rc.Layer) => new RegExp(`OctaveConv2D '${l.name}'`);
  const first = new OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: 0 });
  assert.throws(
    () => first.apply([xh, xl]),
    (e: Error) =>
      e instanceof rc.ArgumentError && name(first).test(e.message) && /one input/.test(e.message),
  );
  const mid = new OctaveConv2D({ filters: 4, kernelSize: 3 });
  assert.throws(() => mid.apply(xh), /takes a list \[high, low\]/);
  assert.throws(
    () => new OctaveConv2D({ filters: 4, kernelSize: 3 }).apply([xh, rc.randn([1, 3, 3, 2])]),
    /half the height and width/,
  );
  assert.throws(
    () => new OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: 0.25 }).apply([xh, xl]),
    /alphaIn 0.25 of 4 input channels/,
  );
  assert.throws(
    () =>
      new OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: 0, output: 'low' }).apply(
        rc.randn([1, 5, 5, 2]),
      ),
    /divisible by 2/,
  );
  const valid = new OctaveConv2D({ filters: 4, kernelSize: 3, padding: 'valid' });
  assert.throws(
    () => valid.apply([rc.randn([1, 8, 8, 2]), rc.randn([1, 4, 4, 2])]),
    /give sizes 6 and 4 .* cannot be added/,
  );
  assert.throws(
    () =>
      valid.computeOutputShape([
        [null, 4, 4, 2],
        [null, 2, 2, 2],
      ]),
    /does not fit the L→H path/,
  );
  assert.throws(
    () => new OctaveConv2D({ filters: 4, kernelSize: 3, alphaOut: 0, output: 'low' }),
    /no low-frequency channels/,
  );
  assert.throws(
    () => new OctaveConv2D({ filters: 4, kernelSize: 3, alphaOut: 1 }),
    /alphaOut must be a fraction in \[0, 1\)/,
  );
  assert.throws(
    () => new OctaveConv2D({ filters: 4, kernelSize: 3, strides: 3 }),
    /strides must be 1 or 2/,
  );
  // A built layer called on other channels says so.
  mid.apply([xh, xl]);
  assert.throws(
    () => mid.apply([rc.randn([1, 4, 4, 3]), rc.randn([1, 2, 2, 3])]),
    /built for 2 high and 2 low-frequency channels/,
  );
});
