/** The Dataset pipeline (sources, map, take, skip, shuffle, prefetch, batch), fit() on it, augmentation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as augment from '../../src/data/augment.js';
import { BatchedDataset, Dataset, type Example } from '../../src/data/dataset.js';
import type { ImageSet } from '../../src/data/image_set.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { assertClose } from '../helpers.js';

async function collect<T>(ds: Dataset<T>, epoch = 0): Promise<T[]> {
  const out: T[] = [];
  for await (const e of ds.iterate(epoch)) out.push(e);
  return out;
}

/** A dataset of the numbers 0..n-1 (a generator, size known). */
const numbers = (n: number, size: number | undefined = n) =>
  Dataset.fromGenerator(function* () {
    for (let i = 0; i < n; i++) yield i;
  }, size);

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** An Example of a 1-channel image with the given values. */
function ex(values: number[], shape: number[], y: number | Float32Array = 0): Example {
  return { x: Float32Array.from(values), shape, y };
}

test('Dataset.fromArrays: rows of x with int labels (numbers) or target rows (vectors)', async () => {
  const x = rc.tensor(range(12), [3, 2, 2]);
  const ints = await collect(Dataset.fromArrays(x, rc.tensor([2, 0, 1], [3], 'int32')));
  assert.equal(ints.length, 3);
  assert.deepEqual(ints[1]!.shape, [2, 2]);
  assert.deepEqual([...ints[1]!.x], [4, 5, 6, 7]);
  assert.deepEqual(
    ints.map((e) => e.y),
    [2, 0, 1],
  );
  const vec = await collect(Dataset.fromArrays(x, rc.tensor([1, 0, 0, 1, 0.5, 0.5], [3, 2])));
  assert.ok(vec[2]!.y instanceof Float32Array);
  assert.deepEqual([...(vec[2]!.y as Float32Array)], [0.5, 0.5]);
  assert.equal(Dataset.fromArrays(x, rc.tensor([0, 1, 2], [3], 'int32')).size, 3);
  assert.throws(
    () => Dataset.fromArrays(x, rc.tensor([0, 1], [2], 'int32')),
    (e: unknown) => e instanceof rc.ShapeError && /x has 3 rows but y has 2/.test(e.message),
  );
});

test('Dataset.fromImageSet: bytes scaled to 0..1 (or a given scale), shape and labels kept', async () => {
  const set: ImageSet = {
    images: Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4]),
    labels: Int32Array.from([1, 0]),
    shape: [2, 2, 1],
    classNames: ['a', 'b'],
  };
  const ds = Dataset.fromImageSet(set);
  assert.equal(ds.size, 2);
  const [a, b] = await collect(ds);
  assertClose(a!.x, [0, 1, 0.2, 0.4]);
  assert.deepEqual(a!.shape, [2, 2, 1]);
  assert.equal(a!.y, 1);
  assert.equal(b!.y, 0);
  const raw = await collect(Dataset.fromImageSet(set, { scale: 1 }));
  assert.deepEqual([...raw[1]!.x], [1, 2, 3, 4]);
});

test('Dataset.fromGenerator: called once per epoch with the epoch number; async generators too', async () => {
  const calls: number[] = [];
  const ds = Dataset.fromGenerator(async function* (epoch) {
    calls.push(epoch);
    yield epoch * 10;
    yield epoch * 10 + 1;
  });
  assert.equal(ds.size, undefined);
  assert.deepEqual(await collect(ds, 3), [30, 31]);
  const viaIterator: number[] = [];
  for await (const v of ds) viaIterator.push(v);
  assert.deepEqual(viaIterator, [0, 1]);
  assert.deepEqual(calls, [3, 0]);
});

test('map, take, skip: values, sizes, laziness', async () => {
  const ds = numbers(10);
  assert.deepEqual(
    await collect(ds.map((v) => v * v)),
    range(10).map((v) => v * v),
  );
  assert.deepEqual(await collect(ds.take(3)), [0, 1, 2]);
  assert.equal(ds.take(3).size, 3);
  assert.equal(ds.take(30).size, 10);
  assert.deepEqual(await collect(ds.take(0)), []);
  assert.deepEqual(await collect(ds.skip(7)), [7, 8, 9]);
  assert.equal(ds.skip(7).size, 3);
  assert.equal(ds.skip(70).size, 0);
  assert.deepEqual(await collect(ds.skip(2).take(3)), [2, 3, 4]);
  // take stops pulling: an endless generator is fine.
  const endless = Dataset.fromGenerator(function* () {
    for (let i = 0; ; i++) yield i;
  });
  assert.deepEqual(await collect(endless.take(4)), [0, 1, 2, 3]);
  assert.equal(endless.take(4).size, undefined);
  // map's rng is seeded per epoch: repeatable, and different across epochs.
  const noisy = ds.map((v, rng) => v + rng.next(), { seed: 5 });
  assert.deepEqual(await collect(noisy, 1), await collect(noisy, 1));
  assert.notDeepEqual(await collect(noisy, 1), await collect(noisy, 2));
});

test('shuffle: a permutation, a new order each epoch, the same order for the same seed', async () => {
  const ds = numbers(100);
  const s = ds.shuffle(7);
  const e0 = await collect(s, 0);
  const e1 = await collect(s, 1);
  assert.deepEqual(sorted(e0), range(100));
  assert.deepEqual(sorted(e1), range(100));
  assert.notDeepEqual(e0, range(100));
  assert.notDeepEqual(e0, e1);
  assert.deepEqual(await collect(ds.shuffle(7), 0), e0);
  assert.deepEqual(await collect(ds.shuffle(7), 1), e1);
  assert.notDeepEqual(await collect(ds.shuffle(8), 0), e0);
  assert.equal(s.size, 100);
});

test('shuffle with a small buffer (and an unknown size) is still a permutation, mixing locally', async () => {
  for (const buffer of [1, 2, 5, 16]) {
    const out = await collect(numbers(50).shuffle(3, buffer), 0);
    assert.deepEqual(sorted(out), range(50), `buffer ${buffer}`);
    if (buffer === 1) assert.deepEqual(out, range(50), 'a buffer of one keeps the order');
    // An element leaves at most `buffer - 1` places before its own.
    for (const [i, v] of out.entries())
      assert.ok(v <= i + buffer - 1, `buffer ${buffer}: ${v} at ${i}`);
  }
  const unknown = await collect(numbers(30, undefined).shuffle(1), 0);
  assert.deepEqual(sorted(unknown), range(30));
  assert.notDeepEqual(unknown, range(30));
  // An empty dataset shuffles to nothing.
  assert.deepEqual(await collect(numbers(5).skip(10).shuffle(1)), []);
  assert.throws(() => numbers(5).shuffle(1, 0), rc.ArgumentError);
});

test('prefetch keeps the order and the values; n must be positive', async () => {
  const slow = Dataset.fromGenerator(async function* () {
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, i % 3));
      yield i;
    }
  }, 20);
  for (const n of [1, 2, 8, 50]) assert.deepEqual(await collect(slow.prefetch(n)), range(20));
  assert.deepEqual(await collect(numbers(0).prefetch()), []);
  assert.equal(slow.prefetch().size, 20);
  assert.throws(() => slow.prefetch(0), rc.ArgumentError);
});

test('batch: sizes, dropRemainder, int labels → int32 [b], vector labels → float32 [b, k]', async () => {
  const x = rc.tensor(range(10 * 4), [10, 2, 2, 1]);
  const y = rc.tensor(range(10), [10], 'int32');
  const batched = Dataset.fromArrays(x, y).batch(4);
  assert.ok(batched instanceof BatchedDataset);
  assert.equal(batched.steps, 3);
  assert.equal(batched.size, 10);
  const batches = [];
  for await (const b of batched.batches(0)) batches.push(b);
  assert.deepEqual(
    batches.map((b) => b.x.shape),
    [
      [4, 2, 2, 1],
      [4, 2, 2, 1],
      [2, 2, 2, 1],
    ],
  );
  assert.equal(batches[0]!.y.dtype, 'int32');
  assert.deepEqual(batches[2]!.y.shape, [2]);
  assert.deepEqual([...batches[2]!.y.dataSync()], [8, 9]);
  assert.deepEqual(
    [...batches[1]!.x.dataSync()],
    range(16).map((i) => 16 + i),
  );

  const dropped = Dataset.fromArrays(x, y).batch(4, { dropRemainder: true });
  assert.equal(dropped.steps, 2);
  let count = 0;
  for await (const b of dropped) {
    assert.equal(b.x.shape[0], 4);
    count++;
  }
  assert.equal(count, 2);

  const yv = rc.tensor(
    range(10).flatMap((i) => [i, -i, 0.5]),
    [10, 3],
  );
  const vb = [];
  for await (const b of Dataset.fromArrays(x, yv).batch(6).batches(0)) vb.push(b);
  assert.equal(vb[0]!.y.dtype, 'float32');
  assert.deepEqual(vb[0]!.y.shape, [6, 3]);
  assert.deepEqual(vb[1]!.y.shape, [4, 3]);
  assert.deepEqual([...vb[1]!.y.dataSync()].slice(0, 3), [6, -6, 0.5]);

  assert.throws(() => Dataset.fromArrays(x, y).batch(0), rc.ArgumentError);
  assert.throws(() => Dataset.fromArrays(x, y).batch(2.5), rc.ArgumentError);
  // Examples of different sizes cannot be stacked: a ShapeError that says so.
  const ragged = Dataset.fromGenerator(function* () {
    yield ex([1, 2, 3, 4], [2, 2, 1]);
    yield ex([1, 2, 3], [3, 1, 1]);
  }).batch(2);
  await assert.rejects(async () => {
    for await (const _ of ragged.batches(0)) {
      // drain
    }
  }, /example 1 has 3 values but the first has 4/);
});

test('a batched Dataset feeds model.fit and evaluate: a Dense model learns a separable toy set', async () => {
  rc.setSeed(3);
  const rng = new Random(11);
  const n = 256;
  const xs = new Float32Array(n * 2);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    xs[2 * i] = (cls ? 1.5 : -1.5) + 0.5 * rng.normal();
    xs[2 * i + 1] = rng.normal();
    ys[i] = cls;
  }
  const ds = Dataset.fromArrays(rc.tensor(xs, [n, 2]), rc.tensor(ys, [n], 'int32'));
  const model = new rc.Sequential([
    new rc.layers.Dense({ units: 8, activation: 'relu', inputShape: [2] }),
    new rc.layers.Dense({ units: 2, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: new rc.Adam({ learningRate: 0.05 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const history = await model.fit(ds.shuffle(1).prefetch().batch(32), {
    epochs: 8,
    verbose: 0,
    validationData: ds.batch(64),
  });
  const loss = history.history.loss!;
  assert.equal(loss.length, 8);
  assert.ok(loss[7]! < loss[0]!, `the loss falls: ${loss}`);
  const { accuracy } = await model.evaluate(ds.batch(64));
  assert.ok(accuracy! > 0.95, `accuracy ${accuracy}`);
  assert.equal(accuracy, history.history.val_accuracy![7]);
});

test('augment.randomCrop: padding 0 is the identity; otherwise a shifted, zero-filled copy', () => {
  const values = range(4 * 5 * 2).map((v) => v + 1);
  const e = ex(values, [4, 5, 2], 3);
  const rng = new Random(1);
  const same = augment.randomCrop({ padding: 0 })(e, rng);
  assert.deepEqual([...same.x], values);
  assert.equal(same.y, 3);
  const crop = augment.randomCrop({ padding: 2 });
  const seenShifts = new Set<string>();
  for (let trial = 0; trial < 40; trial++) {
    const out = crop(e, rng);
    assert.deepEqual(out.shape, [4, 5, 2]);
    assert.equal(out.y, 3);
    // Find the shift from any non-zero pixel, then check every pixel against it.
    let found: [number, number] | null = null;
    for (let i = 0; i < out.x.length && !found; i++) {
      if (out.x[i] !== 0) {
        const src = out.x[i]! - 1;
        const [sy, sx] = [Math.floor(src / 10), Math.floor((src % 10) / 2)];
        const [y, x] = [Math.floor(i / 10), Math.floor((i % 10) / 2)];
        found = [sy - y, sx - x];
      }
    }
    assert.ok(found, 'some content survives a shift of at most 2');
    const [dy, dx] = found;
    assert.ok(Math.abs(dy) <= 2 && Math.abs(dx) <= 2, `shift ${dy}, ${dx}`);
    seenShifts.add(`${dy},${dx}`);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 5; x++) {
        for (let c = 0; c < 2; c++) {
          const [sy, sx] = [y + dy, x + dx];
          const want = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? values[(sy * 5 + sx) * 2 + c]! : 0;
          assert.equal(out.x[(y * 5 + x) * 2 + c], want, `shift ${dy},${dx} at ${y},${x},${c}`);
        }
      }
    }
  }
  assert.ok(seenShifts.size > 5, `shifts vary: ${[...seenShifts]}`);
  assert.deepEqual([...e.x], values, 'the input is not modified');
  assert.throws(() => augment.randomCrop({ padding: -1 }), rc.ArgumentError);
  assert.throws(() => augment.randomCrop({ padding: 1 })(ex([1, 2], [2]), rng), rc.ShapeError);
});

test('augment.horizontalFlip: probability 1 mirrors exactly, 0 never, 0.5 sometimes', () => {
  const values = range(3 * 4 * 3);
  const e = ex(values, [3, 4, 3]);
  const rng = new Random(2);
  const flipped = augment.horizontalFlip({ probability: 1 })(e, rng);
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 4; x++)
      for (let c = 0; c < 3; c++)
        assert.equal(flipped.x[(y * 4 + x) * 3 + c], values[(y * 4 + (3 - x)) * 3 + c]);
  const twice = augment.horizontalFlip({ probability: 1 })(flipped, rng);
  assert.deepEqual([...twice.x], values);
  assert.equal(augment.horizontalFlip({ probability: 0 })(e, rng), e);
  const half = augment.horizontalFlip();
  let flips = 0;
  for (let i = 0; i < 200; i++) if (half(e, rng) !== e) flips++;
  assert.ok(flips > 70 && flips < 130, `${flips} flips of 200`);
});

test('augment in a pipeline: Dataset.map with a seed repeats per epoch', async () => {
  const set: ImageSet = {
    images: Uint8Array.from(range(8 * 8 * 3 * 4).map((v) => v % 251)),
    labels: Int32Array.from([0, 1, 2, 3]),
    shape: [8, 8, 3],
    classNames: ['a', 'b', 'c', 'd'],
  };
  const crop = augment.randomCrop({ padding: 2 });
  const flip = augment.horizontalFlip();
  const ds = Dataset.fromImageSet(set).map((e, rng) => flip(crop(e, rng), rng), { seed: 4 });
  const a = (await collect(ds, 0)).map((e) => [...e.x]);
  const b = (await collect(ds, 0)).map((e) => [...e.x]);
  const c = (await collect(ds, 1)).map((e) => [...e.x]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('augment.normalize and channelStats: per-channel (x − mean) / std; constant channels have std 0', () => {
  const norm = augment.normalize({ mean: [0.5, 0, 1], std: [0.5, 2, 1] });
  const out = norm(ex([1, 2, 3, 0, 4, 1], [1, 2, 3]));
  assertClose(out.x, [1, 1, 2, -1, 2, 0]);
  assert.throws(() => norm(ex([1, 2], [1, 1, 2])), /2 channels but mean\/std have 3/);
  assert.throws(() => augment.normalize({ mean: [0], std: [0] }), rc.ArgumentError);
  assert.throws(() => augment.normalize({ mean: [0, 1], std: [1] }), rc.ArgumentError);

  // Two channels: one alternates 0 / 255, the other is constant 128.
  const images = new Uint8Array(2 * 1000);
  for (let i = 0; i < 1000; i++) {
    images[2 * i] = i % 2 ? 255 : 0;
    images[2 * i + 1] = 128;
  }
  const stats = augment.channelStats(images, 2);
  assertClose(stats.mean, [0.5, 128 / 255], { atol: 1e-9 });
  assertClose(stats.std, [0.5, 0], { atol: 1e-6 });
  assert.ok(
    stats.std.every((s) => Number.isFinite(s) && s >= 0),
    `std ${stats.std}`,
  );
  // Normalizing with the computed statistics centres the data.
  const n2 = augment.normalize({ mean: stats.mean, std: [stats.std[0]!, 1] });
  const z = n2(ex([0, 0.5, 1, 0.5], [1, 2, 2]));
  assertClose(z.x, [-1, 0.5 - 128 / 255, 1, 0.5 - 128 / 255], { atol: 1e-6 });
});
