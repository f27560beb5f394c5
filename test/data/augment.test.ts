/** Airbench's augmentations: alternatingFlip across epochs, randomTranslate against PyTorch's reflect padding. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as augment from '../../src/data/augment.js';
import { Dataset, type Example } from '../../src/data/dataset.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function collect<T>(ds: Dataset<T>, epoch: number): Promise<T[]> {
  const out: T[] = [];
  for await (const e of ds.iterate(epoch)) out.push(e);
  return out;
}

/** Image i of n: [2, 3, 1] values that say which image it is and no two mirror images alike. */
function images(n: number): Dataset<Example> {
  const x = rc.tensor(
    range(n * 6).map((v) => v + 1),
    [n, 2, 3, 1],
  );
  return Dataset.fromArrays(x, rc.tensor(range(n), [n], 'int32'));
}

const mirrored = (e: Example) => e.x[0]! > e.x[2]!;

test('alternatingFlip: every image flips on alternate epochs, from a per-image phase; half each epoch; shuffle after it keeps that', async () => {
  const n = 64;
  const ds = images(n)
    .map(augment.alternatingFlip({ seed: 3 }))
    .shuffle(9);
  const byEpoch: boolean[][] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    const state = new Array<boolean>(n);
    for (const e of await collect(ds, epoch)) {
      const i = e.y as number;
      const original = range(6).map((v) => v + 1 + 6 * i);
      const mirror = [3, 2, 1, 6, 5, 4].map((v) => v + 6 * i);
      const flipped = mirrored(e);
      assert.deepEqual([...e.x], flipped ? mirror : original, `image ${i}, epoch ${epoch}`);
      state[i] = flipped;
    }
    byEpoch.push(state);
    const count = state.filter(Boolean).length;
    assert.ok(count > n * 0.3 && count < n * 0.7, `epoch ${epoch}: ${count} of ${n} mirrored`);
  }
  for (let epoch = 1; epoch < 4; epoch++)
    for (let i = 0; i < n; i++)
      assert.equal(
        byEpoch[epoch]![i],
        !byEpoch[epoch - 1]![i],
        `image ${i} alternates at epoch ${epoch}`,
      );
  // The same seed repeats; another seed gives other phases.
  const again = await collect(images(n).map(augment.alternatingFlip({ seed: 3 })), 0);
  assert.deepEqual(
    again.map(mirrored),
    range(n).map((i) => byEpoch[0]![i]),
  );
  const other = await collect(images(n).map(augment.alternatingFlip({ seed: 4 })), 0);
  assert.notDeepEqual(other.map(mirrored), again.map(mirrored));
});

test('alternatingFlip outside Dataset.map, or with a bad seed, is an ArgumentError', () => {
  const e: Example = { x: Float32Array.from([1, 2]), shape: [1, 2, 1], y: 0 };
  assert.throws(
    () => augment.alternatingFlip()(e, new Random(1)),
    (err: Error) => err instanceof rc.ArgumentError && /through Dataset.map/.test(err.message),
  );
  for (const seed of [1.5, Number.NaN, '1'])
    assert.throws(
      () => augment.alternatingFlip({ seed: seed as number }),
      (err: Error) =>
        err instanceof rc.ArgumentError && /seed must be an integer/.test(err.message),
    );
  assert.throws(() => augment.alternatingFlip({ phase: 1 } as never), rc.ArgumentError);
  assert.throws(
    () =>
      augment.alternatingFlip()({ x: Float32Array.from([1, 2]), shape: [2], y: 0 }, new Random(1), {
        epoch: 0,
        index: 0,
      }),
    rc.ShapeError,
  );
});

// torch.nn.functional.pad(torch.arange(20.).reshape(1, 1, 4, 5), (2, 2, 2, 2), mode='reflect').
const TORCH_REFLECT_PADDED = [
  [12, 11, 10, 11, 12, 13, 14, 13, 12],
  [7, 6, 5, 6, 7, 8, 9, 8, 7],
  [2, 1, 0, 1, 2, 3, 4, 3, 2],
  [7, 6, 5, 6, 7, 8, 9, 8, 7],
  [12, 11, 10, 11, 12, 13, 14, 13, 12],
  [17, 16, 15, 16, 17, 18, 19, 18, 17],
  [12, 11, 10, 11, 12, 13, 14, 13, 12],
  [7, 6, 5, 6, 7, 8, 9, 8, 7],
];

/** The 4×5 window of the padded image at (oy, ox), i.e. airbench's crop of its reflect-padded image. */
function window(padded: number[][], oy: number, ox: number): number[] {
  return range(20).map((i) => padded[oy + Math.floor(i / 5)]![ox + (i % 5)]!);
}

test('randomTranslate: each output is a window of the image reflect-padded as PyTorch pads it; all 25 shifts occur', () => {
  const e: Example = { x: Float32Array.from(range(20)), shape: [4, 5, 1], y: 7 };
  const t = augment.randomTranslate({ padding: 2 });
  const rng = new Random(5);
  const windows = new Map<string, string>();
  for (let oy = 0; oy <= 4; oy++)
    for (let ox = 0; ox <= 4; ox++)
      windows.set(window(TORCH_REFLECT_PADDED, oy, ox).join(), `${oy},${ox}`);
  const seen = new Set<string>();
  for (let trial = 0; trial < 300; trial++) {
    const out = t(e, rng);
    assert.equal(out.y, 7);
    assert.deepEqual(out.shape, [4, 5, 1]);
    const at = windows.get([...out.x].join());
    assert.ok(at, `output ${[...out.x]} is no window of the padded image`);
    seen.add(at);
  }
  assert.equal(seen.size, 25);
  assert.deepEqual([...e.x], range(20), 'the input is not modified');
});

test('randomTranslate keeps the content (only moved), per channel; fill zeros is randomCrop', () => {
  const values = range(6 * 6 * 3).map((v) => v + 1);
  const e: Example = { x: Float32Array.from(values), shape: [6, 6, 3], y: 0 };
  const a = new Random(11);
  const b = new Random(11);
  const zeros = augment.randomTranslate({ padding: 3, fill: 'zeros' });
  const crop = augment.randomCrop({ padding: 3 });
  for (let trial = 0; trial < 30; trial++) assert.deepEqual([...zeros(e, a).x], [...crop(e, b).x]);
  // Reflect: the interior pixels that stay inside are the image's own, moved by one (dy, dx).
  const rng = new Random(2);
  const t = augment.randomTranslate({ padding: 1 });
  for (let trial = 0; trial < 30; trial++) {
    const out = t(e, rng);
    const first = out.x[(1 * 6 + 1) * 3]! - 1; // the source of pixel (1, 1), channel 0
    const [dy, dx] = [Math.floor(first / 18) - 1, Math.floor((first % 18) / 3) - 1];
    for (let y = 1; y < 5; y++)
      for (let x = 1; x < 5; x++)
        for (let c = 0; c < 3; c++)
          assert.equal(out.x[(y * 6 + x) * 3 + c], values[((y + dy) * 6 + x + dx) * 3 + c]);
  }
});

test('randomTranslate: bad padding or fill, or a reflect padding as large as the image, are ArgumentErrors', () => {
  for (const padding of [-1, 1.5, Number.NaN, '2', undefined])
    assert.throws(
      () => augment.randomTranslate({ padding: padding as number }),
      (err: Error) =>
        err instanceof rc.ArgumentError &&
        /padding must be a non-negative integer/.test(err.message),
    );
  assert.throws(
    () => augment.randomTranslate({ padding: 1, fill: 'edge' as never }),
    (err: Error) =>
      err instanceof rc.ArgumentError && /fill must be 'reflect' or 'zeros'/.test(err.message),
  );
  const small: Example = { x: new Float32Array(4), shape: [2, 2, 1], y: 0 };
  assert.throws(
    () => augment.randomTranslate({ padding: 2 })(small, new Random(1)),
    (err: Error) => err instanceof rc.ArgumentError && /fill: 'zeros'/.test(err.message),
  );
  assert.equal(
    augment.randomTranslate({ padding: 2, fill: 'zeros' })(small, new Random(1)).x.length,
    4,
  );
  assert.throws(() => augment.horizontalFlip({ probability: 2 }), rc.ArgumentError);
});

test('fit passes each epoch to Dataset.map, with the element’s index in it', async () => {
  const seen: string[] = [];
  const ds = images(4)
    .map((e, _rng, place) => {
      seen.push(`${place.epoch}:${place.index}`);
      return { ...e, y: e.y };
    })
    .batch(2);
  const model = new rc.Sequential([
    new rc.layers.Flatten({ inputShape: [2, 3, 1] }),
    new rc.layers.Dense({ units: 4 }),
  ]);
  model.compile({
    optimizer: 'sgd',
    loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
  });
  await model.fit(ds, { epochs: 3, verbose: 0 });
  assert.deepEqual(
    seen,
    [0, 1, 2].flatMap((epoch) => range(4).map((i) => `${epoch}:${i}`)),
  );
});
