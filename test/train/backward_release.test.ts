/**
 * A training step's backward pass frees tensors as soon as it is done with them (autograd.ts's
 * backwardReleasing, which fit and trainOnBatch use): each rule's temporaries, each gradient once
 * handed on, each forward tensor once the last rule that reads it has run. The gradients are
 * exactly those of backward(); what the step reads afterwards (the outputs, the loss, the
 * weights and their gradients) stays readable; the intermediates throw if read; and on native
 * a step's peak of tensor memory falls well below that of the same step freeing only at its end,
 * and stays the same step after step.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backwardReleasing } from '../../src/autograd.js';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import type { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backend, backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import type { Tensor } from '../../src/tensor.js';
import { withBackend } from '../helpers.js';

const native = loadNativeAddon();
const scoped = ['wasm', ...(native.addon ? ['native'] : [])];

/** A small residual net written with ops: convolution, batch statistics, ReLU, a skip, a reshape. */
function net(x: Tensor, y: Tensor, [w1, w2, wd]: Tensor[]) {
  const h = rc.conv2d(x, w1!, { padding: 'same' });
  const { mean, variance } = rc.moments(h, [0, 1, 2]);
  const n = rc.div(rc.sub(h, mean), rc.sqrt(rc.add(variance, 1e-5)));
  const a = rc.relu(n);
  const b = rc.conv2d(a, w2!, { padding: 'same' });
  const r = rc.relu(rc.add(b, a)); // `a` feeds two ops: its gradient is a sum
  const flat = rc.reshape(r, [x.shape[0]!, -1]); // may share r's values
  const logits = rc.matmul(flat, wd!);
  return { loss: rc.softmaxCrossEntropy(logits, y), inner: [h, n, a, b, r], logits };
}

function weights(): Tensor[] {
  const ws = [
    rc.randomUniform([3, 3, 3, 8], { seed: 2, min: -0.5, max: 0.5 }),
    rc.randomUniform([3, 3, 8, 8], { seed: 3, min: -0.3, max: 0.3 }),
    rc.randomUniform([16 * 16 * 8, 10], { seed: 4, min: -0.03, max: 0.03 }),
  ];
  for (const w of ws) w.requiresGrad = true;
  return ws;
}

describe('backwardReleasing', () => {
  for (const name of scoped) {
    test(`${name}: the gradients of backward(), and the intermediates freed as the pass goes`, () => {
      withBackend(name, () => {
        const x = rc.randomUniform([4, 16, 16, 3], { seed: 1 });
        const y = rc.tensor(Int32Array.from([1, 7, 3, 0]), [4], 'int32');
        const ws = weights();
        net(x, y, ws).loss.backward();
        const expected = ws.map((w) => Array.from(w.grad!.dataSync()));
        for (const w of ws) w.grad = null;

        const be = backend();
        be.beginScope!();
        try {
          const { loss, inner, logits } = net(x, y, ws);
          backwardReleasing(loss, [logits]);
          ws.forEach((w, i) => {
            assert.deepEqual(Array.from(w.grad!.dataSync()), expected[i], `gradient ${i}`);
          });
          // Read after the pass: kept.
          assert.ok(Number.isFinite(loss.item()));
          assert.equal(logits.dataSync().length, 40);
          x.dataSync();
          for (const w of ws) w.dataSync();
          // Done with: freed already, inside the scope.
          for (const t of inner) assert.throws(() => t.dataSync(), /was freed/);
        } finally {
          be.endScope!(new Set(ws.flatMap((w) => (w.grad ? [w.storage, w.grad.storage] : []))));
        }
      });
    });
  }

  test('without a scope (js) it is backward()', () => {
    withBackend('js', () => {
      const x = rc.randomUniform([2, 16, 16, 3], { seed: 5 });
      const y = rc.tensor(Int32Array.from([4, 2]), [2], 'int32');
      const ws = weights();
      net(x, y, ws).loss.backward();
      const expected = ws.map((w) => Array.from(w.grad!.dataSync()));
      for (const w of ws) w.grad = null;
      const { loss, inner } = net(x, y, ws);
      backwardReleasing(loss, []);
      ws.forEach((w, i) => {
        assert.deepEqual(Array.from(w.grad!.dataSync()), expected[i]);
      });
      for (const t of inner) t.dataSync();
    });
  });
});

/** Conv → batch norm → ReLU blocks with skips, as ResNet's, small. */
function resnetLike(): rc.Model {
  const input = rc.Input([16, 16, 3]);
  const convBn = (t: rc.SymbolicTensor, relu: boolean) => {
    let o = new rc.layers.Conv2D({
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
    }).apply(t);
    o = new rc.layers.BatchNormalization().apply(o);
    return relu ? new rc.layers.ReLU().apply(o) : o;
  };
  let x = convBn(input, true);
  for (let i = 0; i < 3; i++) {
    const y = convBn(convBn(x, true), false);
    x = new rc.layers.ReLU().apply(new rc.layers.Add().apply([y, x]));
  }
  x = new rc.layers.GlobalAveragePooling2D().apply(x);
  const out = new rc.layers.Dense({ units: 10, activation: 'softmax' }).apply(x);
  return new rc.Model({ inputs: input, outputs: out });
}

describe('a training step on native', {
  skip: !native.addon && `no native addon: ${native.reason}`,
}, () => {
  test('peaks far below a step that frees only at its end, and the same every step', () => {
    withBackend('native', () => {
      const be = backendByName('native') as NativeBackend;
      rc.setSeed(6);
      const model = resnetLike();
      model.compile({
        optimizer: new rc.SGD({ momentum: 0.9 }),
        loss: 'sparseCategoricalCrossentropy',
      });
      const x = rc.randomUniform([16, 16, 16, 3], { seed: 7 });
      const y = rc.tensor(
        Int32Array.from({ length: 16 }, (_, i) => i % 10),
        [16],
        'int32',
      );

      const peaks: number[] = [];
      const pooled: number[] = [];
      for (let i = 0; i < 6; i++) {
        be.resetPeakMemory();
        model.trainOnBatch(x, y);
        peaks.push(be.memoryUsage().peakScopeBytes);
        pooled.push(be.memoryUsage().pooledBytes);
        assert.equal(be.memoryUsage().scopeBytes, 0, 'a step leaves nothing in scopes');
      }
      // Flat: from the second step on (the first also makes the optimizer's slots).
      assert.deepEqual(peaks.slice(2), Array(4).fill(peaks[1]), `peaks ${peaks}`);
      assert.deepEqual(pooled.slice(2), Array(4).fill(pooled[1]), `pooled ${pooled}`);

      // The same step, freeing only when the scope ends (backward() instead).
      be.resetPeakMemory();
      be.beginScope();
      try {
        const out = model.call(x, { training: true });
        rc.softmaxCrossEntropy(out.logits!, y).backward();
      } finally {
        be.endScope(new Set());
        for (const w of model.weights) w.grad = null;
      }
      const plain = be.memoryUsage().peakScopeBytes;
      assert.ok(
        peaks[1]! < 0.7 * plain,
        `a releasing step peaks at ${peaks[1]} bytes, one freeing at its end at ${plain}`,
      );
    });
  });
});
