/**
 * Transfer learning: model.replaceHead and model.freeze. PyTorch-written models imported from
 * ONNX (test/fixtures/onnx) get a new classifier, are fine-tuned with the body frozen (the loss
 * falls, every frozen weight and batch-norm statistic stays the same bit for bit), and the
 * fine-tuned model exported to ONNX gives the same predictions in ONNX Runtime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { findHead, outputActivation, outputsProbabilities } from '../../src/model/head.js';
import { repoRoot, tempDirs } from '../helpers.js';
import { maxAbsDiff, runOnnx } from '../io/onnx/helpers.js';

const { layers } = rc;
const tempDir = tempDirs('receptive-head-');
const DIR = join(repoRoot, 'test', 'fixtures', 'onnx');

/**
 * A task the frozen body can learn: n random NHWC images (noise over a colour cast of their
 * own, which global pooling keeps) labelled by a random linear map of the body's own features
 * (the classifier's input), one of three classes.
 */
function synthetic(net: rc.Model, n: number, seed: number): { x: rc.Tensor; y: rc.Tensor } {
  const shape = net.inputs[0]!.shape.slice(1) as number[];
  const cast = rc.randn([n, 1, 1, shape[2]!], { seed: seed + 2 });
  const x = rc.add(rc.mul(rc.randn([n, ...shape], { seed }), 0.3), rc.mul(cast, 2));
  const body = new rc.Model({ inputs: net.inputs, outputs: findHead(net).input });
  const f = rc.noGrad(() => body.predict(x));
  const k = f.shape[1]!;
  const proj = rc.randn([k, 3], { seed: seed + 1 });
  const scores = rc.matmul(rc.sub(f, rc.mean(f, 0, true)), proj).dataSync();
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = [0, 1, 2].map((j) => scores[i * 3 + j]!);
    y[i] = row.indexOf(Math.max(...row));
  }
  return { x, y: rc.tensor(y, [n], 'int32') };
}

const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

for (const name of ['resnet_tiny', 'mobilenet_tiny', 'mixed_tiny']) {
  test(`${name} (PyTorch → ONNX → receptive): replaceHead(3), freeze all but the head, fit: the loss falls, frozen weights stay bit for bit, ONNX Runtime agrees`, async () => {
    const net = await rc.importOnnx(join(DIR, `${name}_opset13.onnx`));
    const { x, y } = synthetic(net, 24, 7);
    const before = net.predict(x).dataSync();
    const tuned = net.replaceHead(3);
    assert.ok(tuned instanceof rc.Model);
    assert.deepEqual(tuned.outputs[0]!.shape, [null, 3]);
    const oldHead = findHead(net).layer;
    const newHead = tuned.layers.find((l) => l.name === oldHead.name)!;
    assert.ok(
      newHead !== oldHead && newHead instanceof layers.Dense,
      'a new Dense under the old name',
    );
    assert.equal(newHead.weights[0]!.shape[1], 3);
    // mixed_tiny's classifier is two Dense layers: both train there.
    const train = name === 'mixed_tiny' ? [oldHead.name, 'classifier.0'] : 'head';
    const frozen = tuned.freeze({ except: train });
    assert.ok(frozen.length > 5);
    assert.ok(!frozen.includes(newHead));
    const trained = tuned.layers.filter((l) => !frozen.includes(l));
    assert.equal(
      tuned.trainableWeights.length,
      trained.reduce((k, l) => k + l.weights.length, 0),
    );
    const body = frozen.flatMap((l) => l.weights);
    const bodyBefore = body.map((t) => t.dataSync() as Float32Array);
    const headBefore = newHead.weights.map((t) => t.dataSync() as Float32Array);

    rc.setSeed(3);
    tuned.compile({
      optimizer: new rc.Adam({ learningRate: 0.1 }),
      loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
      metrics: ['accuracy'],
    });
    const history = await tuned.fit(x, y, { epochs: 8, batchSize: 8, verbose: 0 });
    const loss = history.history.loss!;
    assert.ok(loss.at(-1)! < loss[0]! * 0.8, `loss ${loss.map((v) => v.toFixed(3)).join(' → ')}`);
    for (const [i, t] of body.entries())
      assert.ok(same(t.dataSync() as Float32Array, bodyBefore[i]!), `${t.name} changed`);
    assert.ok(
      newHead.weights.some((t, i) => !same(t.dataSync() as Float32Array, headBefore[i]!)),
      'the head trained',
    );
    // The body is shared, and frozen: the imported model still gives what it gave.
    if (train === 'head')
      assert.ok(same(net.predict(x).dataSync() as Float32Array, before as Float32Array));

    const file = join(tempDir(), 'tuned.onnx');
    await tuned.exportOnnx(file);
    const [ort] = await runOnnx(new Uint8Array(readFileSync(file)), [x]);
    const mine = tuned.predict(x).dataSync();
    assert.equal(ort!.length, 24 * 3);
    assert.ok(maxAbsDiff(ort!, mine) < 1e-5, `ONNX Runtime differs by ${maxAbsDiff(ort!, mine)}`);
  });
}

test('replaceHead keeps softmax where the old head had it and logits where it had none', () => {
  const zoo = rc.models.lenet5();
  assert.ok(outputsProbabilities(zoo));
  const lenet = zoo.replaceHead(4);
  assert.deepEqual(lenet.outputs[0]!.shape, [null, 4]);
  assert.ok(outputsProbabilities(lenet));
  const p = lenet.predict(rc.randn([2, 28, 28, 1])).dataSync();
  assert.ok(Math.abs(p[0]! + p[1]! + p[2]! + p[3]! - 1) < 1e-5, 'rows sum to 1');
  // The old model is unchanged: 10 classes, its own head.
  assert.deepEqual(zoo.outputs[0]!.shape, [null, 10]);

  const input = rc.Input([8]);
  const logits = new layers.Dense({ units: 5, name: 'cls' }).apply(
    new layers.Dense({ units: 6, activation: 'relu' }).apply(input),
  );
  const m = new rc.Model({ inputs: input, outputs: logits });
  assert.ok(!outputsProbabilities(m));
  assert.equal(outputActivation(m), 'linear');
  const sig = new layers.Activation({ activation: 'sigmoid' }).apply(logits);
  assert.equal(outputActivation(new rc.Model({ inputs: input, outputs: sig })), 'sigmoid');
  const logp = new layers.LogSoftmax().apply(logits);
  assert.equal(outputActivation(new rc.Model({ inputs: input, outputs: logp })), null);
  const r = m.replaceHead(2, { name: 'new_cls' });
  assert.ok(!outputsProbabilities(r));
  assert.equal(r.layers.at(-1)!.name, 'new_cls');
});

test('replaceHead finds a SqueezeNet-style head: a 1×1 convolution, ReLU, global pooling, softmax', () => {
  const input = rc.Input([8, 8, 3]);
  let t = new layers.Conv2D({ filters: 6, kernelSize: 3, activation: 'relu' }).apply(input);
  t = new layers.BatchNormalization().apply(t);
  t = new layers.Conv2D({ filters: 10, kernelSize: 1, name: 'classifier' }).apply(t);
  t = new layers.ReLU().apply(t);
  t = new layers.GlobalAveragePooling2D().apply(t);
  t = new layers.Softmax().apply(t);
  const m = new rc.Model({ inputs: input, outputs: t });
  const r = m.replaceHead(3);
  assert.deepEqual(r.outputs[0]!.shape, [null, 3]);
  const head = r.getLayer('classifier') as rc.layers.Conv2D;
  assert.equal(head.filters, 3);
  assert.notEqual(head, m.getLayer('classifier'));
  assert.deepEqual(
    r.layers.map((l) => l.className),
    m.layers.map((l) => l.className),
  );
  // The body's layers are shared, the weightless tail is copied.
  assert.equal(r.layers[1], m.layers[1]);
  assert.notEqual(r.layers.at(-1), m.layers.at(-1));
  assert.ok(outputsProbabilities(r));
  const y = r.predict(rc.randn([2, 8, 8, 3]));
  assert.deepEqual(y.shape, [2, 3]);
  // The new model saves and loads like any other.
  const cfg = r.getConfig();
  const back = rc.Model.fromConfig(cfg);
  assert.deepEqual(back.outputs[0]!.shape, [null, 3]);
  // freeze: every layer but those named; batch norm frozen keeps its statistics in training.
  r.freeze({ except: ['classifier'] });
  assert.deepEqual(
    r.trainableWeights.map((w) => w.name),
    head.weights.map((w) => w.name),
  );
  const bn = r.layers[2]!;
  const stats = bn.getWeights();
  r.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  r.trainOnBatch(rc.randn([4, 8, 8, 3]), rc.tensor([0, 1, 2, 0], [4], 'int32'));
  for (const [i, v] of bn.getWeights().entries())
    assert.ok(same(v, stats[i]!), 'frozen BN statistics kept');
  r.unfreeze();
  assert.equal(r.trainableWeights.length, 2 + 2 + 2);
});

test('replaceHead and freeze refuse what they cannot do, with clear errors', () => {
  const m = rc.models.lenet5();
  for (const bad of [0, -1, 2.5, Number.NaN, '3' as unknown as number])
    assert.throws(() => m.replaceHead(bad), rc.ArgumentError, String(bad));
  assert.throws(() => m.replaceHead(2 ** 40), /more than a tensor may hold/);
  assert.throws(() => m.replaceHead(1e9), rc.ShapeError);
  assert.throws(() => m.replaceHead(3, { units: 3 } as unknown as rc.ReplaceHeadOptions), /units/);
  assert.throws(() => m.replaceHead(3, { name: '' }), rc.ArgumentError);
  assert.throws(() => m.replaceHead(3, { name: m.layers[1]!.name }), /already has a layer/);
  assert.throws(() => m.freeze({ except: ['nope'] }), /no layer "nope"/);
  assert.throws(
    () => m.freeze({ except: 'all' as unknown as 'head' }),
    /'head' or an array of layer names/,
  );
  assert.throws(() => m.freeze({ except: [3 as unknown as string] }), rc.ArgumentError);
  assert.throws(() => m.freeze({ only: [] } as unknown as rc.FreezeOptions), /only/);

  // The last weights before the output are not a classifier.
  const input = rc.Input([4]);
  const bnOut = new layers.BatchNormalization().apply(new layers.Dense({ units: 3 }).apply(input));
  assert.throws(
    () => new rc.Model({ inputs: input, outputs: bnOut }).replaceHead(2),
    /the classifier must be a Dense layer or a 1×1 Conv2D/,
  );
  // A merge between the classifier and the output.
  const a = new layers.Dense({ units: 3 }).apply(input);
  const b = new layers.Dense({ units: 3 }).apply(input);
  const merged = new rc.Model({ inputs: input, outputs: new layers.Add().apply([a, b]) });
  assert.throws(() => merged.replaceHead(2), /joins 2 tensors/);
  // No weights at all; several outputs.
  const relu = new rc.Model({ inputs: input, outputs: new layers.ReLU().apply(input) });
  assert.throws(() => relu.replaceHead(2), /no layer with weights/);
  assert.throws(() => relu.freeze({ except: 'head' }), /no layer with weights/);
  const two = new rc.Model({ inputs: input, outputs: [a, b] });
  assert.throws(() => two.replaceHead(2), /2 outputs/);
});
