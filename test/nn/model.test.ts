/** Sequential and functional models: summaries, parameter counts, graphs, configs, shape errors. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { repoRoot } from '../helpers.js';

const { layers } = rc;

/** LeNet-5 as the Keras listing of the course notes: tanh, average pooling, 120-84-10 softmax. */
function lenet5(size = 28): rc.Sequential {
  return new rc.Sequential([
    new layers.Conv2D({
      filters: 6,
      kernelSize: 5,
      activation: 'tanh',
      inputShape: [size, size, 1],
    }),
    new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
    new layers.Conv2D({ filters: 16, kernelSize: 5, activation: 'tanh' }),
    new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
    new layers.Flatten(),
    new layers.Dense({ units: 120, activation: 'tanh' }),
    new layers.Dense({ units: 84, activation: 'tanh' }),
    new layers.Dense({ units: 10, activation: 'softmax' }),
  ]);
}

/** The residual block of DESIGN.md: conv 1x1 → conv 3x3 'same', added back to the 1x1 output. */
function residual(): rc.Model {
  const input = rc.Input([8, 8, 3]);
  const x0 = new layers.Conv2D({ filters: 4, kernelSize: 1 }).apply(input);
  const h = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x0);
  const out = new layers.Add().apply([h, x0]);
  return new rc.Model({ inputs: input, outputs: out });
}

const bits = (t: rc.Tensor) => Array.from(t.dataSync());

test('LeNet-5 summary matches the golden Keras-style table; 44,426 parameters', () => {
  rc.clearSession();
  const model = lenet5();
  const lines: string[] = [];
  const text = model.summary({ print: (l) => lines.push(l) });
  assert.deepEqual(lines, [text], 'summary prints the text it returns');
  const golden = readFileSync(join(repoRoot, 'test/fixtures/lenet5_summary.txt'), 'utf8');
  assert.equal(text, golden.trimEnd());
  assert.equal(model.countParams(), 44426);
  assert.match(text, /^Total params: 44,426 \(173\.54 KB\)$/m);
  assert.equal(model.summary({ print: false }), text, 'summary is repeatable');
});

test('LeNet-5 on the original 32x32 input: 61,706 parameters', () => {
  const model = lenet5(32);
  assert.equal(model.countParams(), 61706);
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  assert.deepEqual(model.layers[4]!.computeOutputShape([null, 5, 5, 16]), [null, 400]);
});

test('the simple MNIST CNN (32-64-64 conv, dense 64, dense 10): 93,322 parameters', () => {
  const model = new rc.Sequential([
    new layers.Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
    new layers.Flatten(),
    new layers.Dense({ units: 64, activation: 'relu' }),
    new layers.Dense({ units: 10 }),
  ]);
  assert.equal(model.countParams(), 93322);
  assert.deepEqual(
    model.layers.map((l) => l.countParams()),
    [320, 0, 18496, 0, 36928, 0, 36928, 650],
  );
  const text = model.summary({ print: false });
  assert.match(text, /Total params: 93,322/);
  assert.match(text, /\(None, 3, 3, 64\)/);
});

test('a Sequential without inputShape builds on first call; countParams then counts', () => {
  const model = new rc.Sequential([new layers.Dense({ units: 3 }), new layers.Dense({ units: 2 })]);
  assert.equal(model.built, false);
  assert.match(model.summary({ print: false }), /unbuilt/);
  const y = model.predict(rc.ones([5, 4]));
  assert.deepEqual(y.shape, [5, 2]);
  assert.equal(model.countParams(), 4 * 3 + 3 + 3 * 2 + 2);
});

test('functional residual block: output shape, parameters, and a Connected to column', () => {
  rc.clearSession();
  const net = residual();
  assert.deepEqual(net.outputs[0]!.shape, [null, 8, 8, 4]);
  assert.equal(net.countParams(), 3 * 4 + 4 + 9 * 4 * 4 + 4);
  const y = net.predict(rc.randn([2, 8, 8, 3]));
  assert.deepEqual(y.shape, [2, 8, 8, 4]);
  const text = net.summary({ print: false });
  const header = text.split('\n')[2]!;
  assert.match(header, /^Layer \(type\) +Output Shape +Param # +Connected to$/);
  // The Add row lists both of its inputs, one per line.
  assert.match(
    text,
    /^add \(Add\) +\(None, 8, 8, 4\) +0 +conv2d_1\[0\]\[0\]\n +conv2d\[0\]\[0\]$/m,
  );
  assert.match(text, /^conv2d \(Conv2D\) +\(None, 8, 8, 4\) +16 +input_layer\[0\]\[0\]$/m);
  // The residual connection is really there: zero the 3x3 conv and the block is the 1x1 conv.
  const conv3 = net.getLayer('conv2d_1');
  conv3.setWeights(conv3.getWeights().map((w) => new Float32Array(w.length)));
  const x = rc.randn([1, 8, 8, 3]);
  assert.deepEqual(bits(net.predict(x)), bits(net.getLayer('conv2d').apply(x)));
});

test('two inputs and two outputs: callAll returns both; call says to use callAll', () => {
  const a = rc.Input([4], { name: 'in_a' });
  const b = rc.Input([6], { name: 'in_b' });
  const ha = new layers.Dense({ units: 5 }).apply(a);
  const hb = new layers.Dense({ units: 5 }).apply(b);
  const sum = new layers.Add().apply([ha, hb]);
  const o1 = new layers.Dense({ units: 2, activation: 'softmax' }).apply(sum);
  const o2 = new layers.Dense({ units: 3 }).apply(sum);
  const model = new rc.Model({ inputs: [a, b], outputs: [o1, o2] });
  const outs = model.callAll([rc.randn([7, 4]), rc.randn([7, 6])]);
  assert.deepEqual(
    outs.map((o) => o.shape),
    [
      [7, 2],
      [7, 3],
    ],
  );
  assert.equal(model.countParams(), 4 * 5 + 5 + 6 * 5 + 5 + 5 * 2 + 2 + 5 * 3 + 3);
  assert.throws(
    () => model.call([rc.randn([7, 4]), rc.randn([7, 6])]),
    (e: Error) => e instanceof rc.ArgumentError && /2 outputs.*callAll/.test(e.message),
  );
  assert.throws(
    () => model.callAll([rc.randn([7, 4])]),
    (e: Error) => e instanceof rc.ArgumentError && /expects 2 input\(s\), got 1/.test(e.message),
  );
  assert.throws(
    () => model.callAll([rc.randn([7, 6]), rc.randn([7, 4])]),
    (e: Error) => e instanceof rc.ShapeError && /'in_a'.*\(None, 4\), got \[7, 6\]/.test(e.message),
  );
});

test('a shared layer applied twice: one set of weights, two nodes, counted once', () => {
  const shared = new layers.Dense({ units: 3, name: 'shared_dense' });
  const i1 = rc.Input([3]);
  const i2 = rc.Input([3]);
  const out = new layers.Add().apply([shared.apply(i1), shared.apply(i2)]);
  const model = new rc.Model({ inputs: [i1, i2], outputs: out });
  assert.equal(model.countParams(), 12);
  assert.equal(model.weights.length, 2);
  assert.equal(shared.inboundNodes.length, 2);
  const text = model.summary({ print: false });
  assert.match(text, /shared_dense\[0\]\[0\]\n +shared_dense\[1\]\[0\]/);
  assert.match(text, /Total params: 12 /);
  // Same weights on both branches: equal inputs give exactly twice one branch.
  const x = rc.randn([2, 3]);
  const y = rc.noGrad(() => model.callAll([x, x])[0]!);
  const one = shared.apply(x);
  assert.deepEqual(bits(y), bits(rc.add(one, one)));
  // The config round trip keeps the sharing.
  const again = rc.Model.fromConfig(JSON.parse(JSON.stringify(model.getConfig())));
  assert.equal(again.countParams(), 12);
  assert.equal(again.getLayer('shared_dense').inboundNodes.length, 2);
});

test('a Sequential used as a layer inside a functional model', () => {
  const inner = new rc.Sequential(
    [
      new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2] }),
      new layers.GlobalAveragePooling2D(),
    ],
    { name: 'features' },
  );
  const input = rc.Input([6, 6, 2]);
  const out = new layers.Dense({ units: 3 }).apply(inner.apply(input));
  const model = new rc.Model({ inputs: input, outputs: out });
  assert.equal(model.countParams(), 3 * 3 * 2 * 4 + 4 + 4 * 3 + 3);
  assert.deepEqual(out.shape, [null, 3]);
  const x = rc.randn([2, 6, 6, 2]);
  const direct = model.getLayer(2).apply(inner.apply(x));
  assert.deepEqual(bits(model.predict(x)), bits(direct));
  assert.match(model.summary({ print: false }), /features \(Sequential\) +\(None, 4\) +76 /);
  // Training the outer model trains the inner one.
  assert.equal(model.trainableWeights.length, 4);
  inner.setTrainable(false);
  assert.equal(model.trainableWeights.length, 2);
  inner.setTrainable(true);
  // Applying the inner model to a symbolic input of the wrong shape fails at once, naming it.
  assert.throws(
    () => inner.apply(rc.Input([7, 7, 2])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /Sequential 'features'/.test(e.message) &&
      /\(None, 6, 6, 2\)/.test(e.message) &&
      /\(None, 7, 7, 2\)/.test(e.message),
  );
});

test('getConfig → JSON → fromConfig: same parameters, and the same predictions after setWeights', () => {
  const cases: [string, rc.Model, () => rc.Tensor, (c: rc.LayerConfig) => rc.Model][] = [
    ['Sequential LeNet-5', lenet5(), () => rc.randn([3, 28, 28, 1]), rc.Sequential.fromConfig],
    ['functional residual', residual(), () => rc.randn([2, 8, 8, 3]), rc.Model.fromConfig],
  ];
  {
    // A functional model holding a Sequential, with a BatchNormalization and Dropout.
    const inner = new rc.Sequential([
      new layers.Dense({ units: 6, activation: 'relu', inputShape: [5] }),
      new layers.BatchNormalization(),
    ]);
    const input = rc.Input([5]);
    const h = new layers.Dropout({ rate: 0.5 }).apply(inner.apply(input));
    const out = new layers.Dense({ units: 2, activation: 'softmax' }).apply(h);
    cases.push([
      'nested',
      new rc.Model({ inputs: input, outputs: out }),
      () => rc.randn([4, 5]),
      rc.Model.fromConfig,
    ]);
  }
  for (const [what, model, makeX, fromConfig] of cases) {
    const json = JSON.stringify(model.getConfig());
    const copy = fromConfig(JSON.parse(json));
    assert.equal(copy.className, model.className, what);
    assert.equal(copy.countParams(), model.countParams(), what);
    assert.deepEqual(
      copy.weights.map((w) => w.shape),
      model.weights.map((w) => w.shape),
      what,
    );
    assert.equal(JSON.stringify(copy.getConfig()), json, `${what}: the config round-trips`);
    const x = makeX();
    assert.notDeepEqual(bits(copy.predict(x)), bits(model.predict(x)), `${what}: fresh weights`);
    copy.setWeights(model.getWeights());
    assert.deepEqual(bits(copy.predict(x)), bits(model.predict(x)), what);
  }
});

test('a built model given the wrong input shape names the model and both shapes', () => {
  const model = new rc.Sequential(
    [new layers.Conv2D({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }), new layers.Flatten()],
    { name: 'tiny' },
  );
  assert.throws(
    () => model.predict(rc.zeros([2, 8, 8, 3])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /Sequential 'tiny'/.test(e.message) &&
      /\(None, 8, 8, 1\)/.test(e.message) &&
      /\[2, 8, 8, 3\]/.test(e.message),
  );
  const net = residual();
  assert.throws(
    () => net.predict(rc.zeros([1, 9, 9, 3])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      new RegExp(`'${net.name}'`).test(e.message) &&
      /\(None, 8, 8, 3\)/.test(e.message) &&
      /\[1, 9, 9, 3\]/.test(e.message),
  );
});

test('a Sequential called on one image (rank 3) suggests rc.expandDims, built or not', () => {
  const built = lenet5();
  assert.throws(
    () => built.predict(rc.zeros([28, 28, 1])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /\[28, 28, 1\]/.test(e.message) &&
      /rc\.expandDims\(x, 0\)/.test(e.message),
  );
  const unbuilt = new rc.Sequential([
    new layers.Conv2D({ filters: 2, kernelSize: 3 }),
    new layers.Flatten(),
  ]);
  assert.throws(
    () => unbuilt.call(rc.zeros([8, 8, 1])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      /\[8, 8, 1\]/.test(e.message) &&
      /rc\.expandDims\(x, 0\)/.test(e.message),
  );
  // After the mistake the model still builds from a proper batch.
  assert.deepEqual(unbuilt.predict(rc.zeros([1, 8, 8, 1])).shape, [1, 72]);
});

test('functional graph errors: disconnected input, missing input, non-symbolic outputs', () => {
  const a = rc.Input([3]);
  const b = rc.Input([3]);
  const ya = new layers.Dense({ units: 2 }).apply(a);
  assert.throws(() => new rc.Model({ inputs: [a, b], outputs: ya }), /not connected/);
  const sum = new layers.Add().apply([a, b]);
  assert.throws(() => new rc.Model({ inputs: a, outputs: sum }), /not among the model's inputs/);
  assert.throws(
    () => new rc.Model({ inputs: a, outputs: rc.ones([1]) as unknown as rc.SymbolicTensor }),
    rc.ArgumentError,
  );
});
