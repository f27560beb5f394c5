/** Filter grids and feature maps: sizes, layout, and the pixels in the cells. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { layers, vision, kernels } = rc;

/** The pixel at (x, y) of a grey image. */
const px = (img: rc.vision.RawImage, x: number, y: number) => img.data[y * img.width + x]!;

test('filterGrid: one grey cell per filter for one input channel, wrapped about square', () => {
  // 6 filters of 5×5: 3 columns × 2 rows; scale 2 → 10-px cells, 1-px gutters around and between.
  const w = rc.randn([5, 5, 1, 6], { seed: 1 });
  const img = vision.filterGrid(w, { scale: 2, gutter: 1 });
  assert.equal(img.channels, 1);
  assert.equal(img.width, 3 * 10 + 4 * 1);
  assert.equal(img.height, 2 * 10 + 3 * 1);
  // Default: about 48-px cells (5 × 10), 2-px gutters.
  const d = vision.filterGrid(w);
  assert.deepEqual([d.width, d.height], [3 * 50 + 4 * 2, 2 * 50 + 3 * 2]);
  assert.equal(px(d, 0, 0), 255, 'gutters are white');
});

test('filterGrid: each filter is min-max normalized; its weights land in the right cell', () => {
  // Filter 0: a left-to-right ramp (a vertical edge detector); filter 1: constant zero except one weight.
  const v = new Float32Array(3 * 3 * 1 * 2);
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 3; x++) {
      v[(y * 3 + x) * 2] = x - 1; // -1, 0, 1
      v[(y * 3 + x) * 2 + 1] = y === 2 && x === 2 ? 5 : 0;
    }
  const img = vision.filterGrid(rc.tensor(v, [3, 3, 1, 2]), { scale: 1, gutter: 1, columns: 2 });
  assert.deepEqual([img.width, img.height], [2 * 3 + 3, 3 + 2]);
  // Cell 0 spans x = 1..3, y = 1..3: columns 0, 128, 255.
  for (let y = 1; y <= 3; y++)
    assert.deepEqual([px(img, 1, y), px(img, 2, y), px(img, 3, y)], [0, 128, 255]);
  // Cell 1 spans x = 5..7: black except its bottom-right weight.
  assert.equal(px(img, 5, 1), 0);
  assert.equal(px(img, 7, 3), 255);
});

test('filterGrid: RGB cells for 3 input channels; a row per input channel otherwise', () => {
  const rgb = vision.filterGrid(rc.randn([3, 3, 3, 4], { seed: 2 }), { scale: 4, gutter: 2 });
  assert.equal(rgb.channels, 3);
  assert.deepEqual([rgb.width, rgb.height], [2 * 12 + 3 * 2, 2 * 12 + 3 * 2]);
  const many = vision.filterGrid(rc.randn([3, 3, 2, 5], { seed: 3 }), { scale: 1, gutter: 1 });
  assert.equal(many.channels, 1);
  assert.deepEqual([many.width, many.height], [5 * 3 + 6, 2 * 3 + 3]);
  assert.throws(
    () => vision.filterGrid(rc.zeros([3, 3, 1])),
    /kernel \[kh, kw, inChannels, filters\]/,
  );
  assert.throws(() => vision.filterGrid(rc.zeros([3, 3, 1, 1]), { scale: 0 }), rc.ArgumentError);
});

test('featureMaps: the layer output for an image and a grid of its channels', () => {
  const conv = new layers.Conv2D({
    filters: 2,
    kernelSize: 3,
    useBias: false,
    inputShape: [6, 8, 1],
  });
  const model = new rc.Sequential([conv, new layers.ReLU(), new layers.Flatten()]);
  conv.setWeights([rc.concat([kernels.sobelX(), kernels.sobelY()], 3)]);
  const x = rc.tensor(
    Array.from({ length: 48 }, (_, i) => (i % 8 >= 4 ? 1 : 0)),
    [1, 6, 8, 1],
  );
  const { maps, picture } = vision.featureMaps(model, x, conv.name, { scale: 2, gutter: 1 });
  assert.deepEqual(maps.shape, [1, 4, 6, 2]);
  assertClose(maps.dataSync(), rc.conv2d(x, conv.kernel).dataSync());
  // 2 maps of 4×6 at scale 2: 2 columns.
  assert.deepEqual([picture.width, picture.height], [2 * 12 + 3, 8 + 2]);
  // Map 0 (sobelX) is bright on output columns 2 and 3 (the edge), dark elsewhere.
  assert.equal(px(picture, 1 + 2 * 2, 1), 255);
  assert.equal(px(picture, 1, 1), 0);
  // [h, w, c] works; non-spatial layers and unknown names are refused with the choices.
  assert.deepEqual(
    vision.featureMaps(model, rc.reshape(x, [6, 8, 1]), conv.name).maps.shape,
    [1, 4, 6, 2],
  );
  assert.throws(() => vision.featureMaps(model, x, 'nope'), /no layer named 'nope'.*conv2d/);
  assert.throws(() => vision.featureMaps(model, x, model.layers[2]!.name), /not feature maps/);
  assert.throws(() => vision.featureMaps(model, rc.zeros([1, 5, 5, 1]), conv.name), /Resize/);
});

test('featureMaps and layerOutput follow a functional graph to the named layer', () => {
  const input = rc.Input([8, 8, 1]);
  const a = new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same' });
  const h = a.apply(input);
  const relu = new layers.ReLU();
  const r = relu.apply(h);
  const sum = new layers.Add().apply([r, h]);
  const out = new layers.Dense({ units: 2 }).apply(new layers.Flatten().apply(sum));
  const model = new rc.Model({ inputs: input, outputs: out });
  const x = rc.randn([1, 8, 8, 1], { seed: 4 });
  const pre = rc.add(rc.conv2d(x, a.kernel, { padding: 'same' }), a.bias!);
  assertClose(vision.layerOutput(model, a.name, x).dataSync(), pre.dataSync());
  assertClose(vision.layerOutput(model, relu.name, x).dataSync(), rc.relu(pre).dataSync());
  const { picture } = vision.featureMaps(model, x, relu.name, { scale: 1, gutter: 0 });
  assert.deepEqual([picture.width, picture.height], [2 * 8, 2 * 8]);
  assert.deepEqual(vision.spatialLayerNames(model).slice(0, 2), [a.name, relu.name]);
});

test('every picture written as PNG decodes back to the same pixels', () => {
  const pictures = [
    vision.filterGrid(rc.randn([5, 5, 1, 6], { seed: 5 })),
    vision.filterGrid(rc.randn([3, 3, 3, 8], { seed: 6 })),
  ];
  for (const p of pictures) {
    const back = vision.decodeImage(vision.encodePng(p), { channels: p.channels });
    assert.deepEqual([back.width, back.height, back.channels], [p.width, p.height, p.channels]);
    assert.deepEqual(Buffer.from(back.data), Buffer.from(p.data));
  }
});
