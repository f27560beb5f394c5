/**
 * Bad arguments that used to crash later, wrap around or pass silently, each now a clear
 * ReceptiveError at the call: huge shapes at creation (not "Invalid typed array length"),
 * unknown dtypes, int32 overflow, Dataset counts and seeds, callback options, random ranges,
 * a model.json of another format version, and image folders (hidden folders, one class, a
 * test class missing from train). Table-driven: each row names the error class and the text
 * the message must contain (the op and the bad value).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../../src/cli/datasets.js';
import * as rc from '../../src/index.js';
import { tempDirs } from '../helpers.js';

type ErrorClass = new (message: string) => rc.ReceptiveError;
interface Row {
  what: string;
  run: () => unknown;
  error: ErrorClass;
  /** Every one of these must appear in the message. */
  says: (string | RegExp)[];
}

const bad = <T = never>(v: unknown): T => v as T;
const gen = () => rc.data.Dataset.fromGenerator(() => [1, 2, 3], 3);
const huge = [100000, 100000];
const hugeSays = ['[100000, 100000]', '10,000,000,000 elements', '2,147,483,647'];

const rows: Row[] = [
  // Huge shapes: the op, the shape and the limit, before any allocation.
  {
    what: 'zeros huge',
    run: () => rc.zeros(huge),
    error: rc.ShapeError,
    says: ['zeros:', ...hugeSays],
  },
  {
    what: 'ones huge',
    run: () => rc.ones(huge),
    error: rc.ShapeError,
    says: ['ones:', ...hugeSays],
  },
  {
    what: 'full huge',
    run: () => rc.full(huge, 3),
    error: rc.ShapeError,
    says: ['full:', ...hugeSays],
  },
  {
    what: 'randn huge',
    run: () => rc.randn(huge),
    error: rc.ShapeError,
    says: ['randn:', ...hugeSays],
  },
  {
    what: 'randomUniform huge',
    run: () => rc.randomUniform(huge),
    error: rc.ShapeError,
    says: ['randomUniform:', ...hugeSays],
  },
  {
    what: 'tensor with a huge shape',
    run: () => rc.tensor(new Float32Array(4), huge),
    error: rc.ShapeError,
    says: ['tensor:', ...hugeSays],
  },
  // Unknown dtypes are refused at creation, listing the two there are.
  ...(['float64', 'bool', 'int8'] as const).flatMap((dt): Row[] => [
    {
      what: `tensor ${dt}`,
      run: () => rc.tensor([1, 0], [2], bad(dt)),
      error: rc.DTypeError,
      says: ['tensor:', `"${dt}"`, "'float32'", "'int32'"],
    },
    {
      what: `zeros ${dt}`,
      run: () => rc.zeros([2], bad(dt)),
      error: rc.DTypeError,
      says: ['zeros:', `"${dt}"`, "'float32'", "'int32'"],
    },
  ]),
  // int32 overflow: no silent wraparound.
  {
    what: 'tensor int32 3e9',
    run: () => rc.tensor([3e9], [1], 'int32'),
    error: rc.DTypeError,
    says: ['tensor:', '3000000000', 'does not fit in int32'],
  },
  {
    what: 'tensor Int32 from a Float64Array',
    run: () => rc.tensor(Float64Array.from([1, -2147483649]), [2], 'int32'),
    error: rc.DTypeError,
    says: ['tensor:', '-2147483649', 'index 1', 'does not fit in int32'],
  },
  {
    what: 'full int32 -3e9',
    run: () => rc.full([2], -3e9, 'int32'),
    error: rc.DTypeError,
    says: ['full:', '-3000000000', 'does not fit in int32'],
  },
  {
    what: 'cast 3e9 to int32',
    run: () => rc.cast(rc.tensor([1, 3e9]), 'int32'),
    error: rc.DTypeError,
    says: ['cast:', '3000000000', 'index 1', 'does not fit in int32'],
  },
  {
    what: 'cast NaN to int32',
    run: () => rc.cast(rc.tensor([Number.NaN]), 'int32'),
    error: rc.DTypeError,
    says: ['cast:', 'NaN', 'does not fit in int32'],
  },
  // Random ranges and seeds.
  {
    what: 'randomUniform min > max',
    run: () => rc.randomUniform([2], { min: 5, max: 1 }),
    error: rc.ArgumentError,
    says: ['randomUniform:', 'min (5)', 'max (1)'],
  },
  {
    what: 'randomUniform max NaN',
    run: () => rc.randomUniform([2], { max: Number.NaN }),
    error: rc.ArgumentError,
    says: ['randomUniform:', 'max', 'NaN'],
  },
  {
    what: 'randn std -1',
    run: () => rc.randn([2], { std: -1 }),
    error: rc.ArgumentError,
    says: ['randn:', 'std', '-1'],
  },
  {
    what: 'randn mean Infinity',
    run: () => rc.randn([2], { mean: Number.POSITIVE_INFINITY }),
    error: rc.ArgumentError,
    says: ['randn:', 'mean', 'Infinity'],
  },
  {
    what: 'randn seed NaN',
    run: () => rc.randn([2], { seed: Number.NaN }),
    error: rc.ArgumentError,
    says: ['randn:', 'seed', 'NaN'],
  },
  {
    what: 'setSeed NaN',
    run: () => rc.setSeed(Number.NaN),
    error: rc.ArgumentError,
    says: ['setSeed:', 'NaN'],
  },
  {
    what: 'new Random(Infinity)',
    run: () => new rc.Random(Number.POSITIVE_INFINITY),
    error: rc.ArgumentError,
    says: ['Random:', 'Infinity'],
  },
  { what: 'range -1', run: () => rc.range(-1), error: rc.ArgumentError, says: ['range:', '-1'] },
  // Dataset counts and seeds.
  {
    what: 'take -1',
    run: () => gen().take(-1),
    error: rc.ArgumentError,
    says: ['Dataset.take', '-1'],
  },
  {
    what: 'take 1.5',
    run: () => gen().take(1.5),
    error: rc.ArgumentError,
    says: ['Dataset.take', '1.5'],
  },
  {
    what: 'take NaN',
    run: () => gen().take(Number.NaN),
    error: rc.ArgumentError,
    says: ['Dataset.take', 'NaN'],
  },
  {
    what: 'skip -2',
    run: () => gen().skip(-2),
    error: rc.ArgumentError,
    says: ['Dataset.skip', '-2'],
  },
  {
    what: 'shuffle NaN',
    run: () => gen().shuffle(Number.NaN),
    error: rc.ArgumentError,
    says: ['Dataset.shuffle', 'seed', 'NaN'],
  },
  {
    what: 'shuffle bufferSize 0.5',
    run: () => gen().shuffle(1, 0.5),
    error: rc.ArgumentError,
    says: ['Dataset.shuffle', 'bufferSize', '0.5'],
  },
  {
    what: 'map seed NaN',
    run: () => gen().map((e) => e, { seed: Number.NaN }),
    error: rc.ArgumentError,
    says: ['Dataset.map', 'NaN'],
  },
  {
    what: 'fromGenerator size -1',
    run: () => rc.data.Dataset.fromGenerator(() => [], -1),
    error: rc.ArgumentError,
    says: ['Dataset.fromGenerator', 'size', '-1'],
  },
  // Callback options, checked in the constructor.
  {
    what: 'EarlyStopping patience -1',
    run: () => new rc.EarlyStopping({ patience: -1 }),
    error: rc.ArgumentError,
    says: ['EarlyStopping', 'patience', '-1'],
  },
  {
    what: 'EarlyStopping patience 2.5',
    run: () => new rc.EarlyStopping({ patience: 2.5 }),
    error: rc.ArgumentError,
    says: ['EarlyStopping', 'patience', '2.5'],
  },
  {
    what: 'EarlyStopping minDelta NaN',
    run: () => new rc.EarlyStopping({ minDelta: Number.NaN }),
    error: rc.ArgumentError,
    says: ['EarlyStopping', 'minDelta', 'NaN'],
  },
  {
    what: "EarlyStopping mode 'up'",
    run: () => new rc.EarlyStopping({ mode: bad('up') }),
    error: rc.ArgumentError,
    says: ['EarlyStopping', 'mode', '"up"'],
  },
  {
    what: 'EarlyStopping monitor 3',
    run: () => new rc.EarlyStopping({ monitor: bad(3) }),
    error: rc.ArgumentError,
    says: ['EarlyStopping', 'monitor', '3'],
  },
  {
    what: "ModelCheckpoint mode 'best'",
    run: () => new rc.ModelCheckpoint({ filepath: 'x', mode: bad('best') }),
    error: rc.ArgumentError,
    says: ['ModelCheckpoint', 'mode', '"best"'],
  },
];

for (const row of rows) {
  test(`bad argument: ${row.what}`, () => {
    assert.throws(row.run, (e: unknown) => {
      assert.ok(e instanceof row.error, `expected ${row.error.name}, got ${String(e)}`);
      for (const s of row.says) {
        if (typeof s === 'string') assert.ok(e.message.includes(s), `'${s}' in: ${e.message}`);
        else assert.match(e.message, s);
      }
      return true;
    });
  });
}

test('good arguments at the edges still work', async () => {
  assert.deepEqual(
    rc.tensor([2147483647, -2147483648], [2], 'int32').dataSync(),
    Int32Array.from([2147483647, -2147483648]),
  );
  assert.deepEqual(rc.cast(rc.tensor([1.7, -2.5]), 'int32').dataSync(), Int32Array.from([1, -2]));
  assert.equal(rc.zeros([0, 5]).size, 0);
  assert.equal(rc.randomUniform([3], { min: 2, max: 2 }).dataSync()[0], 2);
  assert.equal(rc.randn([3], { std: 0, mean: 4 }).dataSync()[2], 4);
  const all: number[] = [];
  for await (const v of gen().take(0)) all.push(v);
  for await (const v of gen().take(Number.POSITIVE_INFINITY).skip(0)) all.push(v);
  assert.deepEqual(all, [1, 2, 3]);
  assert.equal(new rc.EarlyStopping({ patience: 0, minDelta: -0.1 }).minDelta, 0.1);
});

const tempDir = tempDirs('receptive-args-');

test('a model.json of another format version says which, which this reads, and to upgrade', async () => {
  const dir = tempDir();
  await new rc.Sequential([new rc.layers.Dense({ units: 2, inputShape: [3] })]).save(dir);
  const json = join(dir, 'model.json');
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  for (const [version, says] of [
    [2, /format version 2, but this receptive reads version 1\. .*upgrade receptive/],
    ['1', /format version "1", but this receptive reads version 1\. .*not written by receptive/],
    [undefined, /format version \(none\)/],
  ] as const) {
    writeFileSync(json, JSON.stringify({ ...doc, version }));
    await assert.rejects(rc.loadModel(dir), (e: unknown) => {
      assert.ok(e instanceof rc.ModelFileError, String(e));
      assert.match(e.message, /^loadModel: /);
      assert.ok(e.message.includes(json));
      assert.match(e.message, says);
      return true;
    });
  }
});

/** A w×h grey PNG at root/rel. */
function png(root: string, rel: string, value = 0): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    rc.data.encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4).fill(value) }),
  );
}

test('image folders: hidden folders are not classes; one class is refused', async () => {
  const root = tempDir();
  png(root, 'cat/0.png', 1);
  png(root, 'dog/0.png', 2);
  png(root, '.ipynb_checkpoints/0.png', 3);
  png(root, '.git/x.png');
  const set = await rc.data.loadImageFolder(root);
  assert.deepEqual(set.classNames, ['cat', 'dog']);
  assert.equal(set.labels.length, 2);

  const single = tempDir();
  png(single, 'only/0.png');
  png(single, 'only/1.png');
  png(single, '.ipynb_checkpoints/0.png');
  await assert.rejects(rc.data.loadImageFolder(single), (e: unknown) => {
    assert.ok(e instanceof rc.data.DataError, String(e));
    assert.match(e.message, /single class \('only'\); a classifier needs at least two/);
    assert.ok(e.message.includes(single));
    return true;
  });
});

test('receptive train --dataset DIR: one class, or a test class missing from train, is an error naming it', async () => {
  const log = () => {};
  const one = tempDir();
  png(one, 'train/only/0.png');
  png(one, 'test/only/0.png');
  await assert.rejects(loadDataset({ dataset: one, log }), /single class \('only'\)/);

  const root = tempDir();
  for (const split of ['train', 'test']) {
    png(root, `${split}/cat/0.png`);
    png(root, `${split}/dog/0.png`);
  }
  png(root, 'test/bird/0.png');
  png(root, 'test/.ipynb_checkpoints/0.png');
  await assert.rejects(loadDataset({ dataset: root, log }), (e: unknown) => {
    assert.ok(e instanceof rc.data.DataError, String(e));
    assert.match(
      e.message,
      /the test split has a class that train\/ lacks: 'bird' \(train\/ has cat, dog\)/,
    );
    assert.ok(e.message.includes(join(root, 'train', 'bird')));
    return true;
  });
  rmSync(join(root, 'test', 'bird'), { recursive: true });
  const d = await loadDataset({ dataset: root, log });
  assert.deepEqual(d.test.classNames, ['cat', 'dog']);
  assert.equal(d.test.labels.length, 2);
});
