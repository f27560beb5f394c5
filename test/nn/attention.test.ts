/**
 * SqueezeExcite and CBAM against plain loops written from the papers' equations, their
 * parameter counts, weight names and errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { SqueezeExcite, CBAM } = rc.layers;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const relu = (v: number) => Math.max(v, 0);

/** y = act(x · W + b) for one row x, W [in, out] row-major. */
function dense(
  x: number[],
  w: Float32Array,
  b: Float32Array | null,
  out: number,
  act: (v: number) => number,
) {
  return Array.from({ length: out }, (_, j) =>
    act(x.reduce((s, xi, i) => s + xi * w[i * out + j]!, b ? b[j]! : 0)),
  );
}

test('SqueezeExcite: y = x · sigmoid(W2 relu(W1 avgpool(x) + b1) + b2), per channel', () => {
  const [n, h, w, c] = [2, 3, 4, 8];
  const x = rc.randn([n, h, w, c], { seed: 1 });
  const se = new SqueezeExcite({ ratio: 4 });
  const y = se.apply(x).dataSync();
  se.setWeights(se.getWeights().map((v, i) => (i % 2 === 1 ? v.map((_, k) => 0.1 * (k - 1)) : v))); // non-zero biases
  const y2 = se.apply(x).dataSync();
  assert.notDeepEqual(y2, y);
  const [w1, b1, w2, b2] = se.getWeights() as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  assert.deepEqual(
    se.weights.map((t) => [t.name!.replace(se.name, 'se'), t.shape]),
    [
      ['se/reduce/kernel', [8, 2]],
      ['se/reduce/bias', [2]],
      ['se/expand/kernel', [2, 8]],
      ['se/expand/bias', [8]],
    ],
  );
  const xv = x.dataSync();
  const want = new Float32Array(xv.length);
  for (let b = 0; b < n; b++) {
    const z = Array.from({ length: c }, (_, k) => {
      let s = 0;
      for (let p = 0; p < h * w; p++) s += xv[(b * h * w + p) * c + k]!;
      return s / (h * w);
    });
    const gate = dense(dense(z, w1, b1, 2, relu), w2, b2, c, sigmoid);
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < c; k++)
        want[(b * h * w + p) * c + k] = xv[(b * h * w + p) * c + k]! * gate[k]!;
  }
  assertClose(y2, want, { atol: 1e-6 });
});

test('SqueezeExcite: parameters C·C/r + C/r + C/r·C + C; ratio and reduction are one argument', () => {
  const count = (c: number, args: ConstructorParameters<typeof SqueezeExcite>[0]) => {
    const se = new SqueezeExcite(args);
    se.apply(rc.Input([4, 4, c]));
    return se.countParams();
  };
  assert.equal(count(64, {}), 64 * 4 + 4 + 4 * 64 + 64); // r = 16 by default
  assert.equal(count(256, { reduction: 16 }), 256 * 16 + 16 + 16 * 256 + 256);
  assert.equal(count(10, { ratio: 3 }), 10 * 3 + 3 + 3 * 10 + 10); // floor(10 / 3)
  assert.equal(new SqueezeExcite({ reduction: 8 }).getConfig().ratio, 8);
  assert.throws(
    () => new SqueezeExcite({ ratio: 8, reduction: 4 }),
    /two names for the same thing/,
  );
  assert.throws(() => new SqueezeExcite({ ratio: 0 }), /ratio .* must be a positive integer/);
  const se = new SqueezeExcite();
  assert.throws(
    () => se.apply(rc.randn([2, 8])),
    (e: Error) =>
      e instanceof rc.ShapeError &&
      e.message.includes(`SqueezeExcite '${se.name}'`) &&
      /rank 4/.test(e.message),
  );
  se.apply(rc.randn([1, 2, 2, 32]));
  assert.throws(
    () => se.apply(rc.randn([1, 2, 2, 16])),
    /built for input of shape \[batch, height, width, 32\]/,
  );
});

test('CBAM: channel attention (shared MLP on avg and max) then 7x7 spatial attention, as in Woo et al.', () => {
  const [n, h, w, c, r, k] = [2, 5, 6, 8, 4, 7];
  const x = rc.randn([n, h, w, c], { seed: 2 });
  const cbam = new CBAM({ ratio: r });
  const y = cbam.apply(x).dataSync();
  assert.deepEqual(
    cbam.weights.map((t) => [t.name!.replace(cbam.name, 'cbam'), t.shape]),
    [
      ['cbam/mlp_reduce/kernel', [8, 2]],
      ['cbam/mlp_expand/kernel', [2, 8]],
      ['cbam/spatial_conv/kernel', [7, 7, 2, 1]],
    ],
  );
  const [w0, w1, ks] = cbam.getWeights() as [Float32Array, Float32Array, Float32Array];
  const xv = x.dataSync();
  const at = (b: number, i: number, j: number, ch: number) => ((b * h + i) * w + j) * c + ch;
  const want = new Float32Array(xv.length);
  for (let b = 0; b < n; b++) {
    // Channel attention: sigmoid(W1 relu(W0 avg) + W1 relu(W0 max)), no biases.
    const avg = Array.from({ length: c }, () => 0);
    const mx = Array.from({ length: c }, () => -Infinity);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ch = 0; ch < c; ch++) {
          avg[ch]! += xv[at(b, i, j, ch)]! / (h * w);
          mx[ch] = Math.max(mx[ch]!, xv[at(b, i, j, ch)]!);
        }
    const mlp = (v: number[]) => dense(dense(v, w0, null, c / r, relu), w1, null, c, (t) => t);
    const ma = mlp(avg);
    const mm = mlp(mx);
    const gate = ma.map((v, ch) => sigmoid(v + mm[ch]!));
    const refined = new Float32Array(h * w * c);
    for (let p = 0; p < h * w; p++)
      for (let ch = 0; ch < c; ch++)
        refined[p * c + ch] = xv[(b * h * w + p) * c + ch]! * gate[ch]!;
    // Spatial attention: [mean over channels, max over channels] → 7x7 conv, zero 'same' padding → sigmoid.
    const pooled = Array.from({ length: h * w }, (_, p) => {
      const vals = Array.from(refined.subarray(p * c, (p + 1) * c));
      return [vals.reduce((s, v) => s + v, 0) / c, Math.max(...vals)];
    });
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = 0;
        for (let di = 0; di < k; di++)
          for (let dj = 0; dj < k; dj++) {
            const [ii, jj] = [i + di - 3, j + dj - 3];
            if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
            for (let q = 0; q < 2; q++) s += pooled[ii * w + jj]![q]! * ks[(di * k + dj) * 2 + q]!;
          }
        const g = sigmoid(s);
        for (let ch = 0; ch < c; ch++) want[at(b, i, j, ch)] = refined[(i * w + j) * c + ch]! * g;
      }
  }
  assertClose(y, want, { atol: 1e-6 });
});

test('CBAM: parameters 2·C·C/r + 2·k² (no biases, as the paper); useBias adds C/r + C', () => {
  const count = (args: ConstructorParameters<typeof CBAM>[0], c = 64) => {
    const l = new CBAM(args);
    l.apply(rc.Input([8, 8, c]));
    return l.countParams();
  };
  assert.equal(count({}), 2 * 64 * 8 + 2 * 7 * 7);
  assert.equal(count({ ratio: 16 }), 2 * 64 * 4 + 2 * 7 * 7);
  assert.equal(count({ ratio: 16, useBias: true }), 2 * 64 * 4 + 4 + 64 + 2 * 7 * 7);
  assert.equal(count({ kernelSize: 3 }), 2 * 64 * 8 + 2 * 3 * 3);
  const cbam = new CBAM();
  assert.throws(
    () => cbam.apply(rc.randn([2, 3, 3])),
    (e: Error) => e.message.includes(`CBAM '${cbam.name}'`),
  );
});

test('attention blocks: freezing the block freezes its sublayers', () => {
  for (const layer of [new SqueezeExcite({ ratio: 2 }), new CBAM({ ratio: 2 })]) {
    layer.apply(rc.Input([4, 4, 4]));
    assert.ok(layer.trainableWeights.length > 0);
    layer.setTrainable(false);
    assert.equal(layer.trainableWeights.length, 0);
    assert.ok(layer.weights.every((w) => !w.requiresGrad));
    const frozen = new SqueezeExcite({ ratio: 2, trainable: false });
    frozen.apply(rc.Input([4, 4, 4]));
    assert.equal(frozen.trainableWeights.length, 0);
    assert.ok(frozen.weights.every((w) => !w.requiresGrad));
  }
});
