/**
 * Inference fusion (nn/inference_fusion.ts): which chains it finds, and that fused inference
 * gives the unfused values (to rounding) on the backend under test, before and after training
 * changes the weights. On a backend without the fused kernel nothing is fused: same values.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { planFusion } from '../../src/nn/inference_fusion.js';
import type { SymbolicTensor } from '../../src/nn/layer.js';
import { assertClose, repoRoot } from '../helpers.js';

const { layers } = rc;

/** conv → BN → ReLU, conv(bias) → BN, a residual add, a ReLU6, and a conv read twice. */
function net(): { model: rc.Model; names: Record<string, SymbolicTensor> } {
  const input = rc.Input([9, 9, 3]);
  const c1 = new layers.Conv2D({
    filters: 8,
    kernelSize: 3,
    padding: 'same',
    useBias: false,
    name: 'c1',
  }).apply(input);
  const b1 = new layers.BatchNormalization({ name: 'b1' }).apply(c1);
  const r1 = new layers.ReLU({ name: 'r1' }).apply(b1);
  const c2 = new layers.Conv2D({ filters: 8, kernelSize: 3, padding: 'same', name: 'c2' }).apply(
    r1,
  );
  const b2 = new layers.BatchNormalization({ name: 'b2' }).apply(c2);
  const add = new layers.Add({ name: 'add' }).apply([b2, r1]);
  const c3 = new layers.Conv2D({ filters: 8, kernelSize: 1, strides: 2, name: 'c3' }).apply(add);
  const b3 = new layers.BatchNormalization({ name: 'b3' }).apply(c3);
  const r3 = new layers.ReLU({ maxValue: 6, name: 'r3' }).apply(b3);
  // c4's output is read by b4 and by the concatenation: not fusable.
  const c4 = new layers.Conv2D({ filters: 4, kernelSize: 1, name: 'c4' }).apply(r3);
  const b4 = new layers.BatchNormalization({ name: 'b4' }).apply(c4);
  const cat = new layers.Concatenate({ name: 'cat' }).apply([b4, c4]);
  const out = new layers.Dense({ units: 5, activation: 'softmax', name: 'out' }).apply(
    new layers.Flatten().apply(cat),
  );
  const model = new rc.Model({ inputs: input, outputs: out });
  return { model, names: { c1, b1, r1, c2, b2, c3, b3, r3, c4, b4 } };
}

/** Moving statistics and affine weights away from their initial 0/1, so folding matters. */
function randomizeNorms(model: rc.Model): void {
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (const l of model.layers) {
    if (!(l instanceof layers.BatchNormalization)) continue;
    const c = l.gamma.size;
    const vec = (f: () => number) => rc.tensor(Array.from({ length: c }, f), [c]).storage;
    l.gamma.storage = vec(() => 1 + 0.5 * rand());
    l.beta.storage = vec(() => 0.3 * rand());
    l.movingMean.storage = vec(() => 0.2 * rand());
    l.movingVariance.storage = vec(() => 0.5 + Math.abs(rand()));
  }
}

test('planFusion finds conv → BN (→ ReLU) chains whose inner values nothing else reads', () => {
  const { model, names } = net();
  const nodes = (model as unknown as { inferenceNodes: SymbolicTensor[] }).inferenceNodes;
  const plan = planFusion(nodes, model.outputs);
  const chains = [...plan.chains.values()].map((c) => [
    c.conv.name,
    c.bn?.name ?? null,
    c.residual?.layer.name ?? null,
    c.relu,
  ]);
  assert.deepEqual(chains, [
    ['c1', 'b1', null, true],
    ['c2', 'b2', 'r1', false], // the Add's other input is the residual
    ['c3', 'b3', null, false], // ReLU with maxValue is not a plain ReLU
  ]);
  assert.deepEqual(
    [...plan.inner].map((t) => t.layer.name),
    ['c1', 'b1', 'c2', 'b2', 'c3'],
  );
  assert.ok(!plan.chains.has(names.b4!), 'a convolution read twice is not fused');
});

test('ResNet-18: every convolution fused; each block Add taken once (projection shortcuts)', () => {
  const model = rc.models.resnet18({ inputShape: [32, 32, 3], numClasses: 10 });
  const nodes = (model as unknown as { inferenceNodes: SymbolicTensor[] }).inferenceNodes;
  const chains = [...planFusion(nodes, model.outputs).chains.values()];
  assert.equal(chains.length, 20);
  assert.equal(chains.filter((c) => c.residual).length, 8, 'one per basic block');
  assert.equal(chains.filter((c) => c.relu).length, 17, 'every ReLU but none after a shortcut');
});

/** Convolutions with biases and no normalization (as PyTorch's ONNX exporter folds them). */
function netWithoutNorms(): rc.Model {
  const input = rc.Input([9, 9, 3]);
  const conv = (name: string, filters: number, x: SymbolicTensor, useBias = true) =>
    new layers.Conv2D({ filters, kernelSize: 3, padding: 'same', useBias, name }).apply(x);
  const r1 = new layers.ReLU({ name: 'r1' }).apply(conv('c1', 6, input));
  const add = new layers.Add({ name: 'add' }).apply([conv('c2', 6, r1, false), r1]);
  const r2 = new layers.Activation({ activation: 'relu', name: 'r2' }).apply(add);
  const c3 = conv('c3', 4, r2); // alone: nothing to fuse
  const out = new layers.Dense({ units: 3, name: 'out' }).apply(new layers.Flatten().apply(c3));
  return new rc.Model({ inputs: input, outputs: out });
}

test('convolutions without normalization fuse with an Add and a ReLU, and give the same values', () => {
  rc.setSeed(4);
  const model = netWithoutNorms();
  const nodes = (model as unknown as { inferenceNodes: SymbolicTensor[] }).inferenceNodes;
  const plan = planFusion(nodes, model.outputs);
  assert.deepEqual(
    [...plan.chains.values()].map((c) => [
      c.conv.name,
      c.bn,
      c.residual?.layer.name ?? null,
      c.relu,
    ]),
    [
      ['c1', null, null, true],
      ['c2', null, 'r1', true],
    ],
  );
  const x = rc.randomUniform([2, 9, 9, 3], { min: -1, max: 1 });
  model.fuseInference = true;
  const fused = model.predict(x).dataSync();
  model.fuseInference = false;
  assertClose(fused, model.predict(x).dataSync(), { atol: 1e-6, rtol: 1e-4 });
});

test('an imported PyTorch ResNet (normalization folded into the convolutions): every convolution fused', async () => {
  const model = await rc.importOnnx(join(repoRoot, 'test/fixtures/onnx/resnet_tiny_opset13.onnx'));
  const nodes = (model as unknown as { inferenceNodes: SymbolicTensor[] }).inferenceNodes;
  const chains = [...planFusion(nodes, model.outputs).chains.values()];
  const convs = model.layers.filter((l) => l instanceof layers.Conv2D).length;
  // Stem and each block's first convolution → ReLU; each block's second → Add → ReLU; the
  // projection shortcut is the Add's other input.
  assert.equal(convs, 6);
  assert.equal(chains.length, 5);
  assert.equal(chains.filter((c) => c.residual && c.relu).length, 2);
});

test('fused inference gives the unfused values, and follows weight changes', async () => {
  rc.setSeed(3);
  const { model } = net();
  randomizeNorms(model);
  const x = rc.randomUniform([4, 9, 9, 3], { min: -1, max: 1 });
  const run = (fuse: boolean) => {
    model.fuseInference = fuse;
    return model.predict(x).dataSync();
  };
  assertClose(run(true), run(false), { atol: 1e-6, rtol: 1e-4, msg: 'predict' });
  // model.call with gradients recorded never fuses (gradients must flow through every op).
  model.fuseInference = true;
  const called = model.call(x, { training: false }).dataSync();
  assertClose(called, run(false), { atol: 0, rtol: 0, msg: 'call with gradients on' });
  // Training replaces the weights; the folded ones must follow.
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const y = rc.tensor([0, 1, 2, 3], [4], 'int32');
  for (let i = 0; i < 3; i++) model.trainOnBatch(x, y);
  assertClose(run(true), run(false), { atol: 1e-6, rtol: 1e-4, msg: 'after training' });
  const ev = async (fuse: boolean) => {
    model.fuseInference = fuse;
    return (await model.evaluate(x, y, { batchSize: 2 })).loss!;
  };
  assertClose([await ev(true)], [await ev(false)], { atol: 1e-6, rtol: 1e-4, msg: 'evaluate' });
  assertClose(run(true), run(false), { atol: 1e-6, rtol: 1e-4, msg: 'after evaluate' });
});

/**
 * A residual block of 3×3 convolutions over 32 channels, fused against unfused. The native
 * backend runs these fused convolutions as Winograd's, whose output is blocked: the residual is
 * reordered into it before the convolution adds to it.
 */
function residualBlockFusedEqualsUnfused(batch: number, size: number): void {
  rc.setSeed(5);
  const input = rc.Input([size, size, 8]);
  const convBn = (x: SymbolicTensor, name: string) =>
    new layers.BatchNormalization({ name: `${name}_bn` }).apply(
      new layers.Conv2D({
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        name,
      }).apply(x),
    );
  const stem = new layers.ReLU().apply(convBn(input, 'stem'));
  const a = new layers.ReLU().apply(convBn(stem, 'a'));
  const sum = new layers.Add().apply([convBn(a, 'b'), stem]);
  const out = new layers.Dense({ units: 4 }).apply(
    new layers.GlobalAveragePooling2D().apply(new layers.ReLU().apply(sum)),
  );
  const model = new rc.Model({ inputs: input, outputs: out });
  const nodes = (model as unknown as { inferenceNodes: SymbolicTensor[] }).inferenceNodes;
  const chains = [...planFusion(nodes, model.outputs).chains.values()];
  assert.equal(chains.filter((c) => c.residual && c.relu).length, 1, 'the block end is one chain');
  randomizeNorms(model);
  const x = rc.randomUniform([batch, size, size, 8], { min: -1, max: 1 });
  model.fuseInference = true;
  const fused = model.predict(x).dataSync();
  model.fuseInference = false;
  assertClose(fused, model.predict(x).dataSync(), { atol: 1e-5, rtol: 1e-4 });
}

test("a residual block in Winograd's range for every pass (2 × 32 × 32 outputs): fused = unfused", () => {
  residualBlockFusedEqualsUnfused(2, 32);
});

test('a residual block at batch 1 and 7 × 7 (Winograd in fused inference only): fused = unfused', () => {
  residualBlockFusedEqualsUnfused(1, 7);
});
