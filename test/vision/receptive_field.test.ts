/** Receptive fields computed from the layers' geometry, checked by hand and against gradients. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers, vision } = rc;

test("LeNet-5's second conv: a 14×14 field (5, then 5 + 1 = 6 after the pool, then 6 + (5 − 1)·2 = 14)", () => {
  const model = rc.models.lenet5();
  const conv2 = model.layers[2]!.name;
  const rf = vision.receptiveField(model, conv2, [0, 0]);
  assert.deepEqual(rf.size, [14, 14]);
  assert.deepEqual(rf.jump, [2, 2]);
  assert.deepEqual(rf.inputSize, [28, 28]);
  assert.deepEqual(rf.box, { top: 0, left: 0, bottom: 13, right: 13 });
  assert.deepEqual(
    rf.steps.map((s) => [s.size[0], s.jump[0]]),
    [
      [5, 1],
      [6, 2],
      [14, 2],
    ],
  );
  // The unit at (3, 2) starts 2 pixels further per step: rows 6..19, columns 4..17.
  const moved = vision.receptiveField(model, conv2, [3, 2]);
  assert.deepEqual(moved.box, { top: 6, left: 4, bottom: 19, right: 17 });
  assert.deepEqual(moved.inImage, moved.box);
  // After the second pool: 14 + (2 − 1)·2 = 16, jump 4.
  const pool2 = vision.receptiveField(model, model.layers[3]!.name, [0, 0]);
  assert.deepEqual(
    [pool2.size, pool2.jump],
    [
      [16, 16],
      [4, 4],
    ],
  );
});

test('three 3×3 convolutions see 7×7; with same padding a corner unit sees only the image part', () => {
  const stack = (padding: 'valid' | 'same') =>
    new rc.Sequential([
      new layers.Conv2D({ filters: 2, kernelSize: 3, padding, inputShape: [12, 12, 1] }),
      new layers.ReLU(),
      new layers.Conv2D({ filters: 2, kernelSize: 3, padding }),
      new layers.Conv2D({ filters: 2, kernelSize: 3, padding }),
    ]);
  const valid = stack('valid');
  const rf = vision.receptiveField(valid, valid.layers[3]!.name, [2, 5]);
  assert.deepEqual(rf.size, [7, 7]);
  assert.deepEqual(rf.box, { top: 2, left: 5, bottom: 8, right: 11 });
  const same = stack('same');
  const corner = vision.receptiveField(same, same.layers[3]!.name, [0, 0]);
  assert.deepEqual(corner.size, [7, 7]);
  assert.deepEqual(corner.box, { top: -3, left: -3, bottom: 3, right: 3 });
  assert.deepEqual(corner.inImage, { top: 0, left: 0, bottom: 3, right: 3 });
});

test('strides, dilation, zero padding and upsampling move and grow the field', () => {
  const model = new rc.Sequential([
    new layers.ZeroPadding2D({ padding: 1, inputShape: [16, 16, 1] }),
    new layers.Conv2D({ filters: 1, kernelSize: 3, dilationRate: 2 }), // span 5
    new layers.Conv2D({ filters: 1, kernelSize: 3, strides: 2 }), // 5 + 2 = 7, jump 2
    new layers.MaxPooling2D({ poolSize: 2 }), // 7 + 2 = 9, jump 4
    new layers.UpSampling2D({ size: 2 }),
  ]);
  const pool = vision.receptiveField(model, model.layers[3]!.name, [1, 0]);
  assert.deepEqual(pool.size, [9, 9]);
  assert.deepEqual(pool.jump, [4, 4]);
  // Row 1 of the pool starts at row 4 of the padded input, row 3 of the image.
  assert.equal(pool.box.top, 3);
  assert.equal(pool.box.left, -1);
  assert.equal(pool.inImage.left, 0);
  // Upsampling: output rows 2 and 3 both come from pool row 1.
  const up = vision.receptiveField(model, model.layers[4]!.name, [3, 0]);
  assert.deepEqual(up.box, pool.box);
});

test('branches (a residual connection) give the union of the paths', () => {
  const input = rc.Input([10, 10, 1]);
  const a = new layers.Conv2D({ filters: 1, kernelSize: 5, padding: 'same' }).apply(input);
  const b = new layers.Conv2D({ filters: 1, kernelSize: 1 }).apply(input);
  const add = new layers.Add();
  const sum = add.apply([a, b]);
  const c = new layers.Conv2D({ filters: 1, kernelSize: 3, padding: 'same' });
  c.apply(sum);
  const model = new rc.Model({ inputs: input, outputs: c.inboundNodes[0]!.output });
  assert.deepEqual(vision.receptiveField(model, add.name, [5, 5]).size, [5, 5]);
  const rf = vision.receptiveField(model, c.name, [5, 5]);
  assert.deepEqual(rf.size, [7, 7]);
  assert.deepEqual(rf.box, { top: 2, left: 2, bottom: 8, right: 8 });
  assert.deepEqual(rf.steps, [], 'no step table for a branching graph');
});

test('the analytic field is exactly where the gradient of the unit is non-zero', () => {
  rc.setSeed(3);
  const model = rc.models.lenet5();
  const x = rc.randn([1, 28, 28, 1], { seed: 9 });
  x.requiresGrad = true;
  let y = x;
  for (const l of model.layers.slice(0, 3)) y = l.apply(y);
  const [r, c] = [2, 5];
  rc.sum(rc.slice(y, [0, r, c, 0], [1, 1, 1, 1])).backward();
  const g = x.grad!.dataSync();
  let [top, left, bottom, right] = [99, 99, -1, -1];
  for (let i = 0; i < 28; i++)
    for (let j = 0; j < 28; j++)
      if (g[i * 28 + j] !== 0) {
        top = Math.min(top, i);
        bottom = Math.max(bottom, i);
        left = Math.min(left, j);
        right = Math.max(right, j);
      }
  const rf = vision.receptiveField(model, model.layers[2]!.name, [r, c]);
  assert.deepEqual({ top, left, bottom, right }, rf.box);
});

test('the picture frames the field in red and dims the rest; bad positions and layers are refused', () => {
  const model = new rc.Sequential([
    new layers.Conv2D({ filters: 1, kernelSize: 3, inputShape: [8, 8, 1] }),
    new layers.Flatten(),
  ]);
  const name = model.layers[0]!.name;
  const image = { width: 8, height: 8, channels: 1 as const, data: new Uint8Array(64).fill(200) };
  const rf = vision.receptiveField(model, name, [1, 1], { image, scale: 4 });
  const p = rf.picture!;
  assert.deepEqual([p.width, p.height, p.channels], [32, 32, 3]);
  const at = (x: number, y: number) =>
    Array.from(p.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
  // Field rows/cols 1..3 → pixels 4..15: frame at its edge, the image inside, dimmed outside.
  assert.deepEqual(at(4, 8), [230, 20, 20]);
  assert.deepEqual(at(9, 9), [200, 200, 200]);
  assert.deepEqual(at(20, 20), [70, 70, 70]);
  assert.equal(image.data[0], 200, "the caller's image is not drawn on");
  assert.throws(() => vision.receptiveField(model, name, [6, 0]), /outside the 6×6 output/);
  assert.throws(() => vision.receptiveField(model, model.layers[1]!.name, [0, 0]), /image-like/);
  assert.throws(() => vision.receptiveField(model, 'missing', [0, 0]), /no layer named 'missing'/);
});

test('a dilated max pool widens the field by dilation·(k − 1); a bilinear upsampling is not traced', () => {
  const model = new rc.Sequential([
    new layers.MaxPooling2D({ inputShape: [12, 12, 1], poolSize: 3, strides: 1, dilationRate: 2 }),
    new layers.UpSampling2D({ interpolation: 'bilinear', name: 'up' }),
  ]);
  const rf = vision.receptiveField(model, model.layers[0]!.name, [0, 0]);
  assert.deepEqual(rf.size, [5, 5]);
  assert.throws(() => vision.receptiveField(model, 'up', [0, 0]), /UpSampling2D\) is not known/);
});
