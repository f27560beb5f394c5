/** The IDX parser: real MNIST from ../shared (gzipped and raw), and hand-made corrupt files. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import { parseIdx } from '../../src/data/idx.js';
import { sharedDir } from '../helpers.js';

const mnistDir = join(sharedDir, 'datasets', 'mnist');
const haveMnist = existsSync(join(mnistDir, 't10k-images-idx3-ubyte.gz'));
const MISSING = `${mnistDir} not found (../shared/datasets is not on this machine)`;

const TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

const gunzipped = (name: string) => new Uint8Array(gunzipSync(readFileSync(join(mnistDir, name))));

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

/** An IDX file of unsigned bytes with the given dimensions and values. */
function idx(dims: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out.set([0, 0, 0x08, dims.length]);
  const view = new DataView(out.buffer);
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(values, 4 + 4 * dims.length);
  return out;
}

test('real MNIST test set (gzipped in ../shared): 10000 × 28×28, pixels 0..255, mean 33.791, label histogram', (t) => {
  if (!haveMnist) return t.skip(MISSING);
  const images = parseIdx(gunzipped('t10k-images-idx3-ubyte.gz'), 't10k-images');
  const labels = parseIdx(gunzipped('t10k-labels-idx1-ubyte.gz'), 't10k-labels');
  assert.deepEqual(images.dims, [10000, 28, 28]);
  assert.deepEqual(labels.dims, [10000]);
  assert.equal(images.data.length, 10000 * 28 * 28);
  let min = 255;
  let max = 0;
  let sum = 0;
  for (const v of images.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  assert.equal(min, 0);
  assert.equal(max, 255);
  const mean = sum / images.data.length;
  assert.ok(Math.abs(mean - 33.791) < 0.001, `mean pixel ${mean}, expected 33.791`);
  assert.deepEqual(histogram(labels.data), TEST_HISTOGRAM);
  // The README's first 16 test labels.
  assert.deepEqual(
    [...labels.data.subarray(0, 16)],
    [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5],
  );
});

test('real MNIST training set: 60000 images and labels with the published histogram', (t) => {
  if (!haveMnist) return t.skip(MISSING);
  const images = parseIdx(gunzipped('train-images-idx3-ubyte.gz'), 'train-images');
  const labels = parseIdx(gunzipped('train-labels-idx1-ubyte.gz'), 'train-labels');
  assert.deepEqual(images.dims, [60000, 28, 28]);
  assert.deepEqual(labels.dims, [60000]);
  assert.deepEqual(histogram(labels.data), TRAIN_HISTOGRAM);
});

test('the parsed data is a view of the input bytes after the header', () => {
  const bytes = idx([2, 3], [1, 2, 3, 4, 5, 6]);
  const a = parseIdx(bytes, 'small');
  assert.deepEqual(a.dims, [2, 3]);
  assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
  // A subarray with a byte offset (as gunzip or a file read may hand over) parses the same.
  const padded = new Uint8Array(bytes.length + 7);
  padded.set(bytes, 7);
  const b = parseIdx(padded.subarray(7), 'offset');
  assert.deepEqual(b.dims, [2, 3]);
  assert.deepEqual([...b.data], [1, 2, 3, 4, 5, 6]);
  // Big-endian dimensions above 255.
  const big = parseIdx(idx([300], new Uint8Array(300).fill(9)), 'big');
  assert.deepEqual(big.dims, [300]);
});

test('corrupt IDX files: each a DataError naming the file and what is wrong', () => {
  const good = idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  const cases: { what: string; bytes: Uint8Array; message: RegExp }[] = [
    { what: 'truncated data', bytes: good.subarray(0, good.length - 3), message: /truncated/ },
    {
      what: 'trailing bytes',
      bytes: Uint8Array.from([...good, 0, 0]),
      message: /2 bytes follow the 2×2×2 values/,
    },
    {
      what: 'wrong magic',
      bytes: Uint8Array.from([0x1f, 0x8b, ...good.subarray(2)]),
      message: /wrong magic number \(1f 8b/,
    },
    {
      what: 'wrong type byte (float32, 0x0d)',
      bytes: Uint8Array.from([0, 0, 0x0d, ...good.subarray(3)]),
      message: /value type 0xd is not supported/,
    },
    { what: 'too short for a magic number', bytes: Uint8Array.from([0, 0]), message: /too short/ },
    {
      what: 'ends inside its header',
      bytes: good.subarray(0, 9),
      message: /ends inside its header \(9 of 16 bytes\)/,
    },
    { what: 'zero dimensions', bytes: Uint8Array.from([0, 0, 8, 0]), message: /0 dimensions/ },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseIdx(c.bytes, 'broken-file-idx3-ubyte'),
      (e: unknown) => {
        assert.ok(e instanceof DataError, `${c.what}: a DataError, got ${e}`);
        assert.match(e.message, /^broken-file-idx3-ubyte: /, `${c.what}: names the file`);
        assert.match(e.message, c.message, `${c.what}: ${e.message}`);
        return true;
      },
      c.what,
    );
  }
});
