/** Image folders (root/<class>/<image>), the PNG / JPEG codecs and the bilinear resize. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { parseCifarBatch } from '../../src/data/cifar10.js';
import { DataError, DataNotFoundError } from '../../src/data/errors.js';
import {
  decodeImage,
  encodePng,
  type RawImage,
  resizeBilinear,
} from '../../src/data/image_codec.js';
import { loadImageFolder } from '../../src/data/image_folder.js';
import { Random } from '../../src/util/random.js';
import { sharedDir, tempDirs } from '../helpers.js';

const cifarDir = join(sharedDir, 'datasets', 'cifar10-jpeg');
const haveCifar = existsSync(join(cifarDir, 'cifar10-test-jpeg.tar.gz'));
const MISSING = `${cifarDir} not found (../shared/datasets is not on this machine)`;

const tempDir = tempDirs('receptive-');

function image(height: number, width: number, channels: 1 | 3, seed: number): RawImage {
  const rng = new Random(seed);
  const data = Uint8Array.from({ length: height * width * channels }, () => rng.int(256));
  return { height, width, channels, data };
}

function writePng(path: string, img: RawImage): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(img));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test('PNG round trip: decode(encode(x)) is x exactly, grey and RGB, odd sizes', () => {
  for (const channels of [1, 3] as const) {
    for (const [h, w] of [
      [1, 1],
      [5, 7],
      [28, 28],
      [13, 32],
    ] as const) {
      const img = image(h, w, channels, h * 100 + w + channels);
      const back = decodeImage(encodePng(img));
      assert.deepEqual(
        [back.height, back.width, back.channels],
        [h, w, channels],
        `${h}×${w}×${channels}`,
      );
      assert.ok(same(back.data, img.data), `${h}×${w}×${channels}: pixels differ`);
    }
  }
});

test('decodeImage: an RGB picture whose channels are equal comes back grey; channels forces 1 or 3', () => {
  const grey = image(4, 5, 1, 1);
  const rgbOfGrey: RawImage = {
    height: 4,
    width: 5,
    channels: 3,
    data: Uint8Array.from({ length: 60 }, (_, i) => grey.data[Math.floor(i / 3)]!),
  };
  const auto = decodeImage(encodePng(rgbOfGrey));
  assert.equal(auto.channels, 1);
  assert.ok(same(auto.data, grey.data));
  const forced = decodeImage(encodePng(grey), { channels: 3 });
  assert.equal(forced.channels, 3);
  assert.ok(same(forced.data, rgbOfGrey.data));
  // Colour to grey: ITU-R 601 luma, rounded.
  const rgb: RawImage = { height: 1, width: 1, channels: 3, data: Uint8Array.from([200, 100, 50]) };
  const luma = decodeImage(encodePng(rgb), { channels: 1 });
  assert.deepEqual([...luma.data], [Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)]);
});

test('decodeImage errors: not an image, a truncated PNG, a bad encodePng size', () => {
  assert.throws(
    () => decodeImage(Uint8Array.from([1, 2, 3, 4, 5]), { name: 'notes.txt' }),
    (e: unknown) =>
      e instanceof DataError &&
      /^notes\.txt: not a PNG or JPEG file \(it starts with 01 02 03 04\)/.test(e.message),
  );
  const png = encodePng(image(8, 8, 3, 5));
  assert.throws(
    () => decodeImage(png.subarray(0, 40), { name: 'cut.png' }),
    (e: unknown) =>
      e instanceof DataError && /^cut\.png: the image could not be decoded/.test(e.message),
  );
  assert.throws(
    () => encodePng({ height: 2, width: 2, channels: 3, data: new Uint8Array(11) }),
    /11 bytes do not make a 2×2×3 image/,
  );
});

test('resizeBilinear: a constant image stays constant; same size is the identity; 2× down averages blocks', () => {
  for (const channels of [1, 3] as const) {
    const data = new Uint8Array(7 * 9 * channels);
    for (let i = 0; i < data.length; i++) data[i] = channels === 1 ? 77 : [10, 200, 255][i % 3]!;
    const img: RawImage = { height: 7, width: 9, channels, data };
    for (const [h, w] of [
      [3, 4],
      [14, 18],
      [32, 5],
      [1, 1],
    ] as const) {
      const r = resizeBilinear(img, h, w);
      assert.deepEqual([r.height, r.width, r.channels], [h, w, channels]);
      for (let i = 0; i < r.data.length; i++)
        assert.equal(r.data[i], data[i % channels], `${h}×${w}×${channels} at ${i}`);
    }
  }
  const img = image(6, 6, 1, 9);
  assert.equal(resizeBilinear(img, 6, 6), img);
  // Half size with pixel centres aligned samples exactly between each 2×2 block.
  const half = resizeBilinear(img, 3, 3);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) {
      const p = (yy: number, xx: number) => img.data[yy * 6 + xx]!;
      const avg =
        (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1)) / 4;
      assert.ok(Math.abs(half.data[y * 3 + x]! - avg) <= 0.5, `(${y}, ${x})`);
    }
  }
});

test('loadImageFolder: sorted class names, labels by folder, pixels as written, files sorted', async () => {
  const root = tempDir();
  const written: Record<string, RawImage[]> = {};
  for (const [k, cls] of ['zebra', 'ant', 'cat'].entries()) {
    written[cls] = [];
    for (let i = 0; i < k + 2; i++) {
      const img = image(6, 5, 3, k * 10 + i);
      written[cls].push(img);
      writePng(join(root, cls, `img${i}.png`), img);
    }
  }
  writeFileSync(join(root, 'README.txt'), 'not a class');
  writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
  const set = await loadImageFolder(root);
  assert.deepEqual(set.classNames, ['ant', 'cat', 'zebra']);
  assert.deepEqual(set.shape, [6, 5, 3]);
  assert.deepEqual([...set.labels], [0, 0, 0, 1, 1, 1, 1, 2, 2]);
  const order = [...written.ant!, ...written.cat!, ...written.zebra!];
  order.forEach((img, i) => {
    assert.ok(same(set.images.subarray(i * 90, (i + 1) * 90), img.data), `image ${i}`);
  });

  // Given class names pick and order the folders; limitPerClass caps each.
  const picked = await loadImageFolder(root, { classNames: ['zebra', 'ant'], limitPerClass: 1 });
  assert.deepEqual(picked.classNames, ['zebra', 'ant']);
  assert.deepEqual([...picked.labels], [0, 1]);
  assert.ok(same(picked.images.subarray(0, 90), written.zebra![0]!.data));
  assert.ok(same(picked.images.subarray(90), written.ant![0]!.data));
});

test('loadImageFolder: grey images stay grey, RGB stay RGB; channels converts', async () => {
  const root = tempDir();
  const g0 = image(4, 4, 1, 1);
  const g1 = image(4, 4, 1, 2);
  writePng(join(root, 'a', '0.png'), g0);
  writePng(join(root, 'b', '0.png'), g1);
  const grey = await loadImageFolder(root);
  assert.deepEqual(grey.shape, [4, 4, 1]);
  assert.ok(same(grey.images, Uint8Array.from([...g0.data, ...g1.data])));
  const asRgb = await loadImageFolder(root, { channels: 3 });
  assert.deepEqual(asRgb.shape, [4, 4, 3]);
  assert.equal(asRgb.images[3 * 5 + 2], g0.data[5]);

  const rgbRoot = tempDir();
  writePng(join(rgbRoot, 'x', '0.png'), image(4, 4, 3, 3));
  writePng(join(rgbRoot, 'y', '0.png'), image(4, 4, 3, 4));
  const rgb = await loadImageFolder(rgbRoot);
  assert.deepEqual(rgb.shape, [4, 4, 3]);
  assert.deepEqual((await loadImageFolder(rgbRoot, { channels: 1 })).shape, [4, 4, 1]);
});

test('loadImageFolder: grey and colour images mixed make an RGB set, whichever comes first', async () => {
  const grey = image(3, 3, 1, 4);
  const colour = image(3, 3, 3, 5);
  const greyAsRgb = Uint8Array.from({ length: 27 }, (_, i) => grey.data[Math.floor(i / 3)]!);
  for (const greyFirst of [true, false]) {
    const root = tempDir();
    writePng(join(root, greyFirst ? 'a' : 'b', '0.png'), grey);
    writePng(join(root, greyFirst ? 'a' : 'b', '1.png'), grey);
    writePng(join(root, greyFirst ? 'b' : 'a', '0.png'), colour);
    const set = await loadImageFolder(root);
    assert.deepEqual(set.shape, [3, 3, 3]);
    const expected = greyFirst
      ? [greyAsRgb, greyAsRgb, colour.data]
      : [colour.data, greyAsRgb, greyAsRgb];
    expected.forEach((want, i) => {
      assert.ok(
        same(set.images.subarray(i * 27, (i + 1) * 27), want),
        `greyFirst ${greyFirst}, image ${i}`,
      );
    });
  }
});

test('loadImageFolder: size resizes every image; without it a differing size names the file and both sizes', async () => {
  const root = tempDir();
  writePng(join(root, 'a', '0.png'), image(8, 8, 1, 1));
  writePng(join(root, 'a', '1.png'), image(6, 10, 1, 2));
  writePng(join(root, 'b', '0.png'), image(8, 8, 1, 3));
  const resized = await loadImageFolder(root, { size: [4, 5] });
  assert.deepEqual(resized.shape, [4, 5, 1]);
  assert.equal(resized.images.length, 3 * 20);
  await assert.rejects(loadImageFolder(root), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.ok(e.message.includes(join(root, 'a', '1.png')), e.message);
    assert.match(e.message, /is 6×10 but the first image was 8×8/);
    assert.match(e.message, /--image-size/);
    return true;
  });
});

test('loadImageFolder errors: empty root, no images, a missing root, a missing named class, a corrupt image', async () => {
  const empty = tempDir();
  await assert.rejects(
    loadImageFolder(empty),
    (e: unknown) =>
      e instanceof DataError &&
      !(e instanceof DataNotFoundError) &&
      /has no class sub-folders/.test(e.message) &&
      e.message.includes(empty),
  );
  const noImages = tempDir();
  mkdirSync(join(noImages, 'cls'));
  writeFileSync(join(noImages, 'cls', 'a.txt'), 'x');
  await assert.rejects(
    loadImageFolder(noImages),
    /class folders \(cls\) but no \.png or \.jpg images/,
  );
  const missing = join(tempDir(), 'nope');
  await assert.rejects(
    loadImageFolder(missing),
    (e: unknown) => e instanceof DataNotFoundError && e.message.includes(missing),
  );
  await assert.rejects(
    loadImageFolder(noImages, { classNames: ['cls', 'other'] }),
    (e: unknown) => e instanceof DataNotFoundError && e.message.includes(join(noImages, 'other')),
  );
  const corrupt = tempDir();
  writePng(join(corrupt, 'a', '0.png'), image(4, 4, 1, 1));
  writePng(join(corrupt, 'b', '0.png'), image(4, 4, 1, 1));
  writeFileSync(join(corrupt, 'a', '1.png'), encodePng(image(4, 4, 1, 2)).subarray(0, 30));
  await assert.rejects(
    loadImageFolder(corrupt),
    (e: unknown) => e instanceof DataError && e.message.includes(join(corrupt, 'a', '1.png')),
  );
});

test('real CIFAR-10 JPEGs from the tarball: 32×32×3, and a class folder with grey pictures loads as RGB', async (t) => {
  if (!haveCifar) return t.skip(MISSING);
  const dir = tempDir();
  // airplane/0013.jpg is one of CIFAR-10's grey pictures.
  await tar.x({
    file: join(cifarDir, 'cifar10-test-jpeg.tar.gz'),
    cwd: dir,
    filter: (p) => /^test\/(airplane|automobile)\/00[0-2]\d\.jpg$/.test(p),
  });
  const img = decodeImage(new Uint8Array(readFileSync(join(dir, 'test', 'airplane', '0000.jpg'))));
  assert.deepEqual([img.height, img.width, img.channels], [32, 32, 3]);
  assert.equal(decodeImage(readFileSync(join(dir, 'test', 'airplane', '0013.jpg'))).channels, 1);

  const set = await loadImageFolder(join(dir, 'test'));
  assert.deepEqual(set.classNames, ['airplane', 'automobile']);
  assert.deepEqual(set.shape, [32, 32, 3]);
  assert.equal(set.labels.length, 60);
  assert.ok(same(set.images.subarray(0, 3072), img.data));

  // The decoded pixels agree with the subset decoded by Pillow (record 0 is airplane/0000).
  const subset = join(cifarDir, 'test_subset1000_from_jpeg.bin.gz');
  if (existsSync(subset)) {
    const ref = parseCifarBatch(new Uint8Array(gunzipSync(readFileSync(subset))), 'subset');
    let diff = 0;
    for (let k = 0; k < 3072; k++) diff += Math.abs(ref.images[k]! - set.images[k]!);
    assert.ok(diff / 3072 < 5, `mean |difference| to the Pillow decode ${diff / 3072}`);
  }
});
