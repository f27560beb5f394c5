/**
 * rc.resize against TensorFlow.js's tf.image.resizeBilinear / resizeNearestNeighbor (same NHWC
 * layout; its alignCorners / halfPixelCenters flags are our coordinate modes), up and down, by
 * whole and fractional factors, on every backend; plus the hand-worked cases in the doc comment.
 * Gradients are checked against finite differences in gradients.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { assertClose, withBackend } from '../helpers.js';

const BACKENDS = process.env.RECEPTIVE_BACKEND
  ? [rc.getBackend()]
  : ['js', 'wasm', ...(rc.nativeBackendStatus().available ? ['native'] : [])];

const flags = {
  'half-pixel': [false, true],
  'align-corners': [true, false],
  asymmetric: [false, false],
} as const;

const sizes: [number, number, number, number][] = [
  // in h, in w, out h, out w
  [3, 4, 6, 8],
  [5, 5, 7, 3],
  [7, 7, 224, 224],
  [8, 6, 3, 2],
  [4, 4, 1, 1],
  [1, 3, 4, 5],
];

test('resize equals TensorFlow.js for every method, coordinate mode and size', async () => {
  await tf.setBackend('cpu');
  const rng = new Random(7);
  for (const name of BACKENDS) {
    withBackend(name, () => {
      for (const [h, w, oh, ow] of sizes) {
        const shape = [2, h, w, 3];
        const values = Float32Array.from({ length: 2 * h * w * 3 }, () => rng.normal());
        for (const method of ['bilinear', 'nearest'] as const) {
          for (const coordinates of ['half-pixel', 'align-corners', 'asymmetric'] as const) {
            // TensorFlow.js refuses align-corners with half-pixel centres only; ours is plain.
            const [alignCorners, halfPixel] = flags[coordinates];
            const x4 = tf.tensor4d(values, shape as [number, number, number, number]);
            const want =
              method === 'bilinear'
                ? tf.image.resizeBilinear(x4, [oh, ow], alignCorners, halfPixel)
                : tf.image.resizeNearestNeighbor(x4, [oh, ow], alignCorners, halfPixel);
            const got = rc.resize(rc.tensor(values, shape), [oh, ow], { method, coordinates });
            assert.deepEqual(got.shape, [2, oh, ow, 3]);
            assertClose(got.dataSync(), want.dataSync(), {
              msg: `${name} ${method} ${coordinates} [${h}, ${w}] → [${oh}, ${ow}]`,
            });
          }
        }
      }
    });
  }
});

test('resize: the worked cases (a 2×2 image to 3×3 and 4×4)', () => {
  const x = rc.tensor([1, 2, 3, 4], [1, 2, 2, 1]);
  // Corners aligned: the middle pixel is the mean of all four.
  assert.deepEqual(
    Array.from(rc.resize(x, [3, 3], { coordinates: 'align-corners' }).dataSync()),
    [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4],
  );
  // Half-pixel centres (PyTorch's align_corners=False): output pixel 1 samples 0.25 of the way.
  const row = Array.from(rc.resize(x, [4, 4]).dataSync()).slice(4, 8);
  assert.deepEqual(row, [1.5, 1.75, 2.25, 2.5]);
  // Same size: the input, whatever the mode.
  assert.deepEqual(
    Array.from(rc.resize(x, [2, 2], { method: 'nearest' }).dataSync()),
    [1, 2, 3, 4],
  );
});

test('resize passes gradients through to what it resizes (a heat map upsampled and trained)', () => {
  const x = rc.ones([1, 2, 2, 1]);
  x.requiresGrad = true;
  rc.sum(rc.resize(x, [4, 6])).backward();
  // Bilinear weights of each output pixel sum to 1, so the gradient totals the 24 outputs.
  assert.ok(Math.abs(rc.sum(x.grad!).item() - 24) < 1e-4);
});

test("resize with a factor of its own equals PyTorch's interpolate(scale_factor) without recompute_scale_factor", () => {
  // torch.nn.functional.interpolate(arange(15).reshape(1, 1, 3, 5), scale_factor=(1.7, 0.6),
  // recompute_scale_factor=False), torch 1.13: output 5×3, sampled with 1/1.7 and 1/0.6.
  const x = rc.reshape(rc.range(15), [1, 3, 5, 1]);
  const bilinear = rc.resize(x, [5, 3], { scale: [1.7, 0.6] });
  assertClose(
    bilinear.dataSync(),
    [
      0.3333333134651184, 2.0, 3.6666665077209473, 2.245098352432251, 3.9117648601531982,
      5.578431606292725, 5.186275005340576, 6.852941513061523, 8.519608497619629, 8.127450942993164,
      9.79411792755127, 11.460784912109375, 10.333333015441895, 11.999999046325684,
      13.666666984558105,
    ],
    { msg: 'bilinear' },
  );
  // PyTorch's 'nearest' is asymmetric: floor(i / factor).
  const nearest = rc.resize(x, [5, 3], {
    method: 'nearest',
    coordinates: 'asymmetric',
    scale: [1.7, 0.6],
  });
  assert.deepEqual(
    Array.from(nearest.dataSync()),
    [0, 1, 3, 0, 1, 3, 5, 6, 8, 5, 6, 8, 10, 11, 13],
  );
  // Without the factor, the sizes' ratio places the samples elsewhere.
  assert.notDeepEqual(Array.from(rc.resize(x, [5, 3]).dataSync()), Array.from(bilinear.dataSync()));
  // A factor on an axis of the same size still moves its samples.
  const same = rc.resize(x, [3, 5], { coordinates: 'asymmetric', scale: [1, 2] });
  assert.deepEqual(Array.from(same.dataSync()).slice(0, 5), [0, 0.5, 1, 1.5, 2]);
});
