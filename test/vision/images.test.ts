/** Images in and out: tensors to PNG and back give the same values, grey and RGB; JPEG decodes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { vision } = rc;

/** Deterministic bytes that are not the same on every channel. */
function bytes(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 37 + seed * 101 + ((i * i) % 11)) % 256);
}

test('a grey tensor written as PNG decodes back to the same values (0..255 and 0..1)', () => {
  const values = bytes(5 * 7, 1);
  const t = rc.tensor(values, [1, 5, 7, 1]);
  const png = vision.tensorToPng(t, { scale: '0..255' });
  const back = vision.imageToTensor(png, { scale: '0..255' });
  assert.deepEqual(back.shape, [1, 5, 7, 1]);
  assert.deepEqual(Array.from(back.dataSync()), values);
  const decoded = vision.decodeImage(png);
  assert.equal(decoded.channels, 1);
  // 0..1: k/255 survives exactly (to float32 rounding).
  const unit = rc.tensor(
    values.map((v) => v / 255),
    [1, 5, 7, 1],
  );
  const again = vision.imageToTensor(vision.tensorToPng(unit));
  assertClose(again.dataSync(), unit.dataSync(), { atol: 1e-7 });
});

test('an RGB tensor written as PNG decodes back to the same values', () => {
  const values = bytes(4 * 6 * 3, 2);
  const t = rc.tensor(values, [1, 4, 6, 3]);
  const png = vision.tensorToPng(t, { scale: '0..255' });
  const img = vision.decodeImage(png);
  assert.equal(img.channels, 3);
  assert.equal(img.width, 6);
  assert.equal(img.height, 4);
  assert.deepEqual(Array.from(img.data), values);
  assert.deepEqual(Array.from(vision.imageToTensor(img, { scale: '0..255' }).dataSync()), values);
  // [h, w, c] and [h, w] work too.
  assert.deepEqual(
    Array.from(vision.tensorToImage(rc.reshape(t, [4, 6, 3]), { scale: '0..255' }).data),
    values,
  );
});

test('imageToTensor: JPEG bytes, forced channels, 0..1 scale', () => {
  const w = 16;
  const h = 8;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([200, 100, 50, 255], i * 4);
  const jpg = jpeg.encode({ data: rgba, width: w, height: h }, 95).data;
  const x = vision.imageToTensor(new Uint8Array(jpg));
  assert.deepEqual(x.shape, [1, 8, 16, 3]);
  const v = x.dataSync();
  assert.ok(
    Math.abs(v[0]! - 200 / 255) < 0.03 && Math.abs(v[2]! - 50 / 255) < 0.03,
    `${v[0]}, ${v[2]}`,
  );
  const grey = vision.imageToTensor(new Uint8Array(jpg), { channels: 1, scale: '0..255' });
  assert.deepEqual(grey.shape, [1, 8, 16, 1]);
  // Luma: 0.299·200 + 0.587·100 + 0.114·50 ≈ 124.
  assert.ok(Math.abs(grey.dataSync()[0]! - 124) < 4);
  const rgb = vision.imageToTensor(
    { width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) },
    { channels: 3 },
  );
  assert.deepEqual(Array.from(rgb.dataSync()), [0, 0, 0, 1, 1, 1]);
});

test('tensorToImage normalizes by clip, minmax or abs, and refuses NaN and odd shapes', () => {
  const t = rc.tensor([-0.5, 0, 0.5, 2], [1, 1, 4, 1]);
  assert.deepEqual(Array.from(vision.tensorToImage(t).data), [0, 0, 128, 255]);
  assert.deepEqual(
    Array.from(vision.tensorToImage(t, { normalize: 'minmax' }).data),
    [0, 51, 102, 255],
  );
  assert.deepEqual(
    Array.from(vision.tensorToImage(t, { normalize: 'abs' }).data),
    [64, 0, 64, 255],
  );
  // A constant map has no contrast: black, not NaN.
  assert.deepEqual(
    Array.from(vision.tensorToImage(rc.full([1, 1, 3, 1], 0.7), { normalize: 'minmax' }).data),
    [0, 0, 0],
  );
  assert.throws(
    () => vision.tensorToImage(rc.tensor([0, Number.NaN], [1, 1, 2, 1])),
    rc.NonFiniteError,
  );
  assert.throws(() => vision.tensorToImage(rc.zeros([1, 4, 4, 6])), /featureMaps/);
  assert.throws(() => vision.tensorToImage(t, { normalize: 'log' as 'clip' }), rc.ArgumentError);
  // The second image of a batch.
  const two = rc.tensor([0, 0, 1, 1], [2, 1, 2, 1]);
  assert.deepEqual(Array.from(vision.tensorToImage(two, { index: 1 }).data), [255, 255]);
});

test('zoom enlarges with crisp pixels', () => {
  const img = vision.zoom({ width: 2, height: 1, channels: 1, data: new Uint8Array([10, 20]) }, 2);
  assert.deepEqual([img.width, img.height], [4, 2]);
  assert.deepEqual(Array.from(img.data), [10, 10, 20, 20, 10, 10, 20, 20]);
});
