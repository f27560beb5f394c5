/**
 * Models exported by PyTorch's own ONNX exporter (test/golden/make_onnx_models.py writes them:
 * ResNet, MobileNetV2/V3, ShuffleNet/Inception/DenseNet-style pieces and a decoder's resampling
 * (reflection padding, dilated pooling, bilinear upsampling, max/min/div/pow) at opsets 9 or 11,
 * 13 and 17) import and give PyTorch's outputs within 1e-4 relative on NHWC input, with the NCHW
 * layout folded away (Permute layers only where the graph itself permutes: a channel shuffle).
 * The weights are read from the file's bytes without keeping them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../../src/index.js';
import { permute, permuteFloat32Bytes } from '../../../src/io/layouts.js';
import { readJson, repoRoot } from '../../helpers.js';

const DIR = join(repoRoot, 'test', 'fixtures', 'onnx');
const io = readJson<
  Record<string, { input: number[]; x: number[]; y: number[]; y_shape: number[] }>
>('test/fixtures/onnx/io.json');

/**
 * Permute layers each model may need: the channel shuffle's Reshape → Transpose → Reshape (3),
 * and the input transform's channels joined along ONNX's axis 1 before a convolution (1).
 */
const PERMUTES: Record<string, number> = {
  resnet_tiny: 0,
  mobilenet_tiny: 0,
  mixed_tiny: 4,
  resample_tiny: 0,
};

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.onnx'))
  .sort();

test('the PyTorch-exported fixtures are there (4 models × 3 opsets)', () => {
  assert.equal(files.length, 12, files.join(', '));
});

for (const file of files) {
  const name = file.replace(/_opset\d+\.onnx$/, '');
  test(`PyTorch export ${file}: importOnnx gives PyTorch's outputs (1e-4 relative)`, async () => {
    const c = io[name]!;
    const m = await rc.importOnnx(join(DIR, file));
    const x = rc.transpose(rc.tensor(Float32Array.from(c.x), c.input), [0, 2, 3, 1]);
    // A 4-D output (a decoder's image) comes out NHWC: compared in PyTorch's NCHW.
    const out = m.predict(x);
    const y = out.rank === 4 ? rc.transpose(out, [0, 3, 1, 2]) : out;
    assert.deepEqual(y.shape, c.y_shape);
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++)
      worst = Math.max(worst, Math.abs(got[i]! - c.y[i]!) / (1 + Math.abs(c.y[i]!)));
    assert.ok(worst < 1e-4, `${file}: differs from PyTorch by ${worst} (relative)`);
    const permutes = m.layers.filter((l) => l.className === 'Permute').map((l) => l.name);
    assert.equal(permutes.length, PERMUTES[name], `Permute layers: ${permutes.join(', ')}`);
  });
}

test('the imported weights are their own: changing the bytes afterwards changes nothing', async () => {
  const c = io.resnet_tiny!;
  const bytes = new Uint8Array(readFileSync(join(DIR, 'resnet_tiny_opset13.onnx')));
  const m = rc.importOnnxBytes(bytes);
  const x = rc.transpose(rc.tensor(Float32Array.from(c.x), c.input), [0, 2, 3, 1]);
  const before = m.predict(x).dataSync();
  bytes.fill(0);
  assert.deepEqual(m.predict(x).dataSync(), before);
});

test('weights permuted straight from raw bytes at any alignment equal permute()', () => {
  const shape = [5, 3, 2, 4];
  const values = Float32Array.from({ length: 120 }, (_, i) => Math.sin(i) * 100);
  for (const perm of [
    [2, 3, 1, 0],
    [1, 2, 0, 3],
    [3, 2, 1, 0],
  ]) {
    const want = permute(values, shape, perm);
    for (const offset of [0, 1, 2, 3]) {
      const bytes = new Uint8Array(values.byteLength + offset);
      bytes.set(new Uint8Array(values.buffer), offset);
      const got = permuteFloat32Bytes(bytes.subarray(offset), shape, perm);
      assert.deepEqual(got, want, `perm ${perm}, offset ${offset}`);
    }
  }
  assert.throws(() => permuteFloat32Bytes(new Uint8Array(8), [3], [0]), rc.ShapeError);
});
