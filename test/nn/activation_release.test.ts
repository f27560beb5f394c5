/**
 * Inference frees activations as it goes (nn/activation_release.ts): inside a step scope with
 * gradients off, a model's pass gives exactly the values of a pass that keeps everything, and
 * afterwards the scope holds its outputs only. The caller's input, the weights, every output (a
 * softmax's logits too) stay readable; a value two layers read, one a layer passes through
 * unchanged (Dropout in inference) and one a reshape shares all live until their last reader.
 * With gradients on nothing is freed (the tape needs it). On native a deep model's predict
 * peaks at a few layers' activations, not all of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import type { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backend, backendByName } from '../../src/backend/registry.js';
import type { WasmBackend } from '../../src/backend/wasm/wasm_backend.js';
import * as rc from '../../src/index.js';
import { withBackend } from '../helpers.js';

const native = loadNativeAddon();
const scoped = ['wasm', ...(native.addon ? ['native'] : [])];

/**
 * A functional model with the cases that must not be freed early: `a` read by two layers (one
 * a Dropout that returns it as it is), a conv → batch norm → ReLU chain with a skip (fused on
 * native), a Flatten that may share its input's values, and two outputs, one of them (`d`) also
 * read by a layer, the other a softmax with logits.
 */
function branchy(): rc.Model {
  const input = rc.Input([8, 8, 3]);
  const a = new rc.layers.Conv2D({
    filters: 6,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
  }).apply(input);
  const kept = new rc.layers.Dropout({ rate: 0.5 }).apply(a);
  let b = new rc.layers.Conv2D({
    filters: 6,
    kernelSize: 3,
    padding: 'same',
    useBias: false,
  }).apply(a);
  b = new rc.layers.BatchNormalization().apply(b);
  const d = new rc.layers.ReLU().apply(new rc.layers.Add().apply([b, kept]));
  const flat = new rc.layers.Flatten().apply(d);
  const out = new rc.layers.Dense({ units: 5, activation: 'softmax' }).apply(flat);
  return new rc.Model({ inputs: input, outputs: [out, d] });
}

/** Bytes the open scopes (native) or the wasm heap's blocks (wasm) hold now. */
function held(name: string): number {
  if (name === 'native') return (backendByName('native') as NativeBackend).memoryUsage().scopeBytes;
  return (backendByName('wasm') as WasmBackend).memoryUsage().inUseBytes;
}

describe('inference frees activations as it goes', () => {
  for (const name of scoped) {
    test(`${name}: the values of a pass that keeps them; afterwards the scope holds the outputs only`, () => {
      withBackend(name, () => {
        rc.setSeed(3);
        const model = branchy();
        const x = rc.randomUniform([4, 8, 8, 3], { seed: 4 });
        // Outside a scope nothing is freed: the reference.
        const ref = rc.noGrad(() => model.callAll(x, { training: false }));
        const expected = [
          ...ref.map((t) => Array.from(t.dataSync())),
          Array.from(ref[0]!.logits!.dataSync()),
        ];
        const be = backend();
        // Warm up (wasm moves weights into its memory after a few uses; native folds the chain's weights once).
        for (let i = 0; i < 4; i++) {
          be.beginScope!();
          rc.noGrad(() => model.callAll(x, { training: false }));
          be.endScope!(new Set());
        }
        be.beginScope!();
        try {
          const before = held(name);
          const outs = rc.noGrad(() => model.callAll(x, { training: false }));
          const got = [
            ...outs.map((t) => Array.from(t.dataSync())),
            Array.from(outs[0]!.logits!.dataSync()),
          ];
          assert.deepEqual(got, expected);
          // The outputs, the logits, and nothing else: 4·5 + 4·5 + 4·8·8·6 floats.
          const outputBytes = 4 * (20 + 20 + 4 * 8 * 8 * 6);
          const grew = held(name) - before;
          assert.ok(
            grew >= outputBytes && grew <= 1.5 * outputBytes + 1024,
            `the pass left ${grew} bytes; its outputs take ${outputBytes}`,
          );
          // Still readable: the input and the weights.
          x.dataSync();
          for (const w of model.weights) w.dataSync();
        } finally {
          be.endScope!(new Set());
        }
      });
    });

    test(`${name}: predict and a Sequential that passes its input through leave the input readable`, () => {
      withBackend(name, () => {
        const model = new rc.Sequential([
          new rc.layers.InputLayer({ inputShape: [3] }),
          new rc.layers.Dropout({ rate: 0.1 }),
          new rc.layers.Reshape({ targetShape: [3, 1] }),
          new rc.layers.Dropout({ rate: 0.2 }),
        ]);
        const x = rc.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
        assert.deepEqual(Array.from(model.predict(x).dataSync()), [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4, 5, 6]);
      });
    });

    test(`${name}: with gradients on, inference inside a scope frees nothing the tape needs`, () => {
      withBackend(name, () => {
        rc.setSeed(5);
        const model = new rc.Sequential([
          new rc.layers.InputLayer({ inputShape: [6, 6, 2] }),
          new rc.layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }),
          new rc.layers.Flatten(),
          new rc.layers.Dense({ units: 3 }),
        ]);
        const input = () => {
          const x = rc.randomUniform([2, 6, 6, 2], { seed: 6 });
          x.requiresGrad = true;
          return x;
        };
        const x0 = input();
        rc.sum(model.call(x0, { training: false })).backward();
        const expected = Array.from(x0.grad!.dataSync());
        const be = backend();
        be.beginScope!();
        try {
          const x = input();
          rc.sum(model.call(x, { training: false })).backward();
          assert.deepEqual(Array.from(x.grad!.dataSync()), expected);
        } finally {
          be.endScope!(new Set());
        }
      });
    });
  }
});

describe('predict on native', {
  skip: !native.addon && `no native addon: ${native.reason}`,
}, () => {
  test('peaks at a few layers of activations, not all of them', () => {
    withBackend('native', () => {
      const be = backendByName('native') as NativeBackend;
      rc.setSeed(7);
      const layers: rc.Layer[] = [new rc.layers.InputLayer({ inputShape: [16, 16, 8] })];
      for (let i = 0; i < 8; i++)
        layers.push(
          new rc.layers.Conv2D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        );
      const model = new rc.Sequential(layers);
      const x = rc.randomUniform([16, 16, 16, 8], { seed: 8 });
      const expected = Array.from(rc.noGrad(() => model.call(x, { training: false })).dataSync());
      model.predict(x, { batchSize: 16 }); // folds nothing, but warms the pool
      be.resetPeakMemory();
      const y = model.predict(x, { batchSize: 16 });
      const peak = be.memoryUsage().peakScopeBytes;
      assert.deepEqual(Array.from(y.dataSync()), expected);
      const layerBytes = 16 * 16 * 16 * 8 * 4;
      // Freeing only at the end would hold all eight (and each conv's pre-activation).
      assert.ok(
        peak <= 3 * layerBytes,
        `predict peaked at ${peak} bytes; one layer's output is ${layerBytes}`,
      );
    });
  });
});
