/** CIFAR-10 binary batches: the real 1000-image subset from ../shared, hand-made records, loadCifar10. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import {
  CIFAR10_CLASSES,
  loadCifar10,
  parseCifarBatch,
  parseMeta,
} from '../../src/data/cifar10.js';
import { DataError, DataNotFoundError } from '../../src/data/errors.js';
import { decodeImage } from '../../src/data/image_codec.js';
import { sharedDir, tempDirs } from '../helpers.js';

const cifarDir = join(sharedDir, 'datasets', 'cifar10-jpeg');
const subsetFile = join(cifarDir, 'test_subset1000_from_jpeg.bin.gz');
const haveCifar = existsSync(subsetFile);
const MISSING = `${cifarDir} not found (../shared/datasets is not on this machine)`;

const tempDir = tempDirs('receptive-');

/** One 3,073-byte record: the label, then the R, G and B planes, each from fn(channel, pixel). */
function record(label: number, fn: (c: number, p: number) => number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) r[1 + c * 1024 + p] = fn(c, p) & 255;
  return r;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('the real 1000-image subset: 100 per class, interleaved labels, 32×32×3, mean pixel ≈ 121.5', (t) => {
  if (!haveCifar) return t.skip(MISSING);
  const bytes = new Uint8Array(gunzipSync(readFileSync(subsetFile)));
  assert.equal(bytes.length, 3_073_000);
  const set = parseCifarBatch(bytes, 'test_subset1000_from_jpeg.bin');
  assert.equal(set.labels.length, 1000);
  assert.deepEqual(set.shape, [32, 32, 3]);
  assert.equal(set.images.length, 1000 * 3072);
  assert.deepEqual(set.classNames, CIFAR10_CLASSES);
  // Files 0000–0099 of every class, interleaved airplane, automobile, …, truck, airplane, …
  for (let i = 0; i < 1000; i++) assert.equal(set.labels[i], i % 10, `label of record ${i}`);
  const counts = new Array<number>(10).fill(0);
  for (const l of set.labels) counts[l]!++;
  assert.deepEqual(counts, new Array(10).fill(100));
  let sum = 0;
  let min = 255;
  let max = 0;
  for (const v of set.images) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / set.images.length;
  assert.ok(Math.abs(mean - 121.5) < 2, `mean pixel ${mean}`);
  assert.equal(min, 0);
  assert.equal(max, 255);
});

test('subset records 0 and 1 are test/airplane/0000.jpg and test/automobile/0000.jpg (HWC order matches a decoder)', async (t) => {
  if (!haveCifar) return t.skip(MISSING);
  const dir = tempDir();
  await tar.x({ file: join(cifarDir, 'cifar10-test-jpeg.tar.gz'), cwd: dir }, [
    'test/airplane/0000.jpg',
    'test/automobile/0000.jpg',
  ]);
  const set = parseCifarBatch(
    new Uint8Array(gunzipSync(readFileSync(subsetFile))),
    'test_subset1000_from_jpeg.bin',
  );
  for (const [i, cls] of [
    [0, 'airplane'],
    [1, 'automobile'],
  ] as const) {
    const img = decodeImage(new Uint8Array(readFileSync(join(dir, 'test', cls, '0000.jpg'))), {
      channels: 3,
    });
    assert.deepEqual([img.height, img.width, img.channels], [32, 32, 3]);
    const ours = set.images.subarray(i * 3072, (i + 1) * 3072);
    let total = 0;
    for (let k = 0; k < 3072; k++) total += Math.abs(ours[k]! - img.data[k]!);
    // Pillow (libjpeg-turbo) and jpeg-js upsample chroma differently: over the 1000 images the
    // mean |difference| is 1.3 (median) to 7.3. Reading the planes as HWC gives 12 to 57 or more.
    assert.ok(total / 3072 < 5, `${cls}: mean |difference| ${total / 3072}`);
  }
});

test('parseCifarBatch turns channel planes (CHW) into interleaved pixels (HWC)', () => {
  const bytes = concat([
    record(3, (c, p) => c * 100 + (p % 50)),
    record(9, (c, p) => 255 - c - (p % 7)),
  ]);
  const set = parseCifarBatch(bytes, 'two.bin');
  assert.deepEqual([...set.labels], [3, 9]);
  for (let i = 0; i < 2; i++) {
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) {
        const want = i === 0 ? c * 100 + (p % 50) : 255 - c - (p % 7);
        const got = set.images[i * 3072 + p * 3 + c];
        if (got !== want) assert.fail(`image ${i} pixel ${p} channel ${c}: ${got} ≠ ${want}`);
      }
    }
  }
  // Row y, column x of image 0 is pixel y*32+x of each plane.
  const y = 5;
  const x = 17;
  assert.deepEqual(
    [...set.images.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)],
    [(y * 32 + x) % 50, 100 + ((y * 32 + x) % 50), 200 + ((y * 32 + x) % 50)],
  );
});

test('corrupt batches: a truncated record, an empty file, a label of 10 → DataError naming the file', () => {
  const two = concat([record(1, () => 0), record(2, () => 0)]);
  assert.throws(
    () => parseCifarBatch(two.subarray(0, two.length - 1), 'data_batch_7.bin'),
    (e: unknown) =>
      e instanceof DataError &&
      /^data_batch_7\.bin: 6145 bytes is not a whole number of 3073-byte CIFAR-10 records \(1 records and 3072 bytes over\)/.test(
        e.message,
      ),
  );
  assert.throws(
    () => parseCifarBatch(new Uint8Array(0), 'empty.bin'),
    (e: unknown) => e instanceof DataError && /^empty\.bin: 0 bytes/.test(e.message),
  );
  const badLabel = concat([record(1, () => 0), record(10, () => 0)]);
  assert.throws(
    () => parseCifarBatch(badLabel, 'bad_label.bin'),
    (e: unknown) =>
      e instanceof DataError &&
      /^bad_label\.bin: record 1 has label 10, outside 0\.\.9/.test(e.message),
  );
  // With two class names, label 2 is already out of range.
  assert.throws(
    () =>
      parseCifarBatch(
        record(2, () => 0),
        'two_classes.bin',
        ['a', 'b'],
      ),
    /label 2, outside 0\.\.1/,
  );
});

test('parseMeta: one class name a line; blank lines, spaces and CRLF ignored', () => {
  assert.deepEqual(parseMeta('airplane\r\nautomobile\n\n  bird  \n\n'), [
    'airplane',
    'automobile',
    'bird',
  ]);
  assert.deepEqual(parseMeta(`${CIFAR10_CLASSES.join('\n')}\n\n`), CIFAR10_CLASSES);
  assert.deepEqual(parseMeta(''), []);
});

/** A CIFAR-10 folder of six small batches: batch k (1..5) holds k records, the test batch 4. */
function writeBatches(dir: string, options: { meta?: string; gzipOne?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  let id = 0;
  const batch = (n: number) =>
    concat(
      Array.from({ length: n }, () => {
        const k = id++;
        return record(k % 10, (c) => k * 3 + c);
      }),
    );
  for (let b = 1; b <= 5; b++) {
    const bytes = batch(b);
    writeFileSync(
      join(dir, `data_batch_${b}.bin`),
      options.gzipOne && b === 2 ? gzipSync(bytes) : bytes,
    );
  }
  writeFileSync(join(dir, 'test_batch.bin'), batch(4));
  if (options.meta !== undefined) writeFileSync(join(dir, 'batches.meta.txt'), options.meta);
}

test('loadCifar10({ dataDir }): five training batches in order, the test batch, names from batches.meta.txt', async () => {
  const dir = tempDir();
  const names = CIFAR10_CLASSES.map((c) => `${c}!`);
  writeBatches(dir, { meta: `${names.join('\n')}\n`, gzipOne: true });
  const d = await loadCifar10({ dataDir: dir });
  assert.equal(d.source, dir);
  assert.equal(d.train.labels.length, 1 + 2 + 3 + 4 + 5);
  assert.equal(d.test.labels.length, 4);
  assert.deepEqual(d.train.classNames, names);
  assert.deepEqual(d.train.shape, [32, 32, 3]);
  // Records were numbered in writing order: batch 1, 2, …, 5, then the test batch.
  for (let i = 0; i < 15; i++) {
    assert.equal(d.train.labels[i], i % 10);
    assert.deepEqual(
      [...d.train.images.subarray(i * 3072, i * 3072 + 3)],
      [3 * i, 3 * i + 1, 3 * i + 2],
    );
  }
  assert.deepEqual([...d.test.labels], [15 % 10, 16 % 10, 17 % 10, 18 % 10]);
  assert.equal(d.test.images[0], 45);
});

test('loadCifar10: the unpacked tarball folder cifar-10-batches-bin/ is found; no meta → the standard names', async () => {
  const dir = tempDir();
  writeBatches(join(dir, 'cifar-10-batches-bin'));
  const d = await loadCifar10({ dataDir: dir });
  assert.deepEqual(d.test.classNames, CIFAR10_CLASSES);
  assert.equal(d.train.labels.length, 15);
});

test('loadCifar10 errors: no test batch, a missing training batch, a corrupt batch, offline', async () => {
  const empty = tempDir();
  await assert.rejects(
    loadCifar10({ dataDir: empty }),
    (e: unknown) =>
      e instanceof DataNotFoundError &&
      e.message.includes(empty) &&
      /test_batch\.bin/.test(e.message),
  );

  const partial = tempDir();
  writeBatches(partial);
  rmSync(join(partial, 'data_batch_3.bin'));
  await assert.rejects(
    loadCifar10({ dataDir: partial }),
    (e: unknown) => e instanceof DataNotFoundError && /lacks data_batch_3\.bin/.test(e.message),
  );

  const corrupt = tempDir();
  writeBatches(corrupt);
  const b4 = readFileSync(join(corrupt, 'data_batch_4.bin'));
  writeFileSync(join(corrupt, 'data_batch_4.bin'), b4.subarray(0, b4.length - 100));
  await assert.rejects(
    loadCifar10({ dataDir: corrupt }),
    (e: unknown) => e instanceof DataError && e.message.includes(join(corrupt, 'data_batch_4.bin')),
  );

  const cacheDir = tempDir();
  await assert.rejects(
    loadCifar10({ cacheDir, download: false }),
    (e: unknown) =>
      e instanceof DataNotFoundError &&
      e.message.includes(join(cacheDir, 'cifar10')) &&
      /cifar-10-binary\.tar\.gz/.test(e.message) &&
      /downloads are turned off/.test(e.message),
  );
});
