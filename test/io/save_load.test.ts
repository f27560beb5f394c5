/** model.save(dir) / rc.loadModel(dir): identical predictions, atomic files, clear errors; safetensors. */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as rc from '../../src/index.js';

const { layers } = rc;

const tmp = mkdtempSync(join(tmpdir(), 'receptive-io-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (name: string) => join(tmp, `${name}-${dirCount++}`);

const bits = (t: rc.Tensor) => t.dataSync() as Float32Array;

function lenet5(): rc.Sequential {
  return new rc.Sequential([
    new layers.Conv2D({ filters: 6, kernelSize: 5, activation: 'tanh', inputShape: [28, 28, 1] }),
    new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
    new layers.Conv2D({ filters: 16, kernelSize: 5, activation: 'tanh' }),
    new layers.AveragePooling2D({ poolSize: 2, strides: 2 }),
    new layers.Flatten(),
    new layers.Dense({ units: 120, activation: 'tanh' }),
    new layers.Dense({ units: 84, activation: 'tanh' }),
    new layers.Dense({ units: 10, activation: 'softmax' }),
  ]);
}

function residualNet(): rc.Model {
  const input = rc.Input([8, 8, 3]);
  const x0 = new layers.Conv2D({ filters: 4, kernelSize: 1, activation: 'relu' }).apply(input);
  const h = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x0);
  const sum = new layers.Add().apply([h, x0]);
  const pooled = new layers.GlobalAveragePooling2D().apply(sum);
  const out = new layers.Dense({ units: 3, activation: 'softmax' }).apply(pooled);
  return new rc.Model({ inputs: input, outputs: out, name: 'resnet_tiny' });
}

/** Saves, loads, and checks that predictions are the same to the bit. */
async function roundTrip(model: rc.Model, x: rc.Tensor): Promise<rc.Model> {
  const dir = freshDir(model.name);
  await model.save(dir);
  const loaded = await rc.loadModel(dir);
  assert.equal(loaded.className, model.className);
  assert.equal(loaded.name, model.name);
  assert.deepEqual(
    loaded.layers.map((l) => l.name),
    model.layers.map((l) => l.name),
  );
  assert.equal(loaded.countParams(), model.countParams());
  assert.deepEqual(bits(loaded.predict(x)), bits(model.predict(x)));
  return loaded;
}

test('a Sequential LeNet-5: save → loadModel gives bit-identical predictions', async () => {
  rc.setSeed(1);
  const model = lenet5();
  const loaded = await roundTrip(model, rc.randn([4, 28, 28, 1]));
  assert.ok(loaded instanceof rc.Sequential);
  // A loaded model trains like any other.
  loaded.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  loaded.trainOnBatch(rc.randn([2, 28, 28, 1]), rc.tensor([3, 7], [2], 'int32'));
});

test('a functional residual model: save → loadModel gives bit-identical predictions', async () => {
  rc.setSeed(2);
  const model = residualNet();
  const loaded = await roundTrip(model, rc.randn([3, 8, 8, 3]));
  assert.ok(loaded instanceof rc.Model && !(loaded instanceof rc.Sequential));
  // The path of model.json itself also loads.
  const dir = freshDir('by-file');
  await model.save(dir);
  const again = await rc.loadModel(join(dir, 'model.json'));
  assert.equal(again.countParams(), model.countParams());
});

test('BatchNormalization moving statistics survive save and load', async () => {
  rc.setSeed(3);
  const model = new rc.Sequential([
    new layers.Conv2D({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2] }),
    new layers.BatchNormalization({ momentum: 0.5 }),
    new layers.ReLU(),
    new layers.Flatten(),
    new layers.Dense({ units: 2 }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const x = rc.add(rc.mul(rc.randn([16, 6, 6, 2]), 3), 2);
  await model.fit(x, rc.randn([16, 2]), { epochs: 2, batchSize: 8, verbose: 0 });
  const bn = model.layers[1] as rc.layers.BatchNormalization;
  assert.ok(
    bn.movingMean.dataSync().some((v) => v !== 0),
    'the moving mean moved',
  );
  const loaded = await roundTrip(model, x);
  const lbn = loaded.layers[1] as rc.layers.BatchNormalization;
  assert.deepEqual(bits(lbn.movingMean), bits(bn.movingMean));
  assert.deepEqual(bits(lbn.movingVariance), bits(bn.movingVariance));
  assert.equal(lbn.momentum, 0.5);
  assert.equal(loaded.trainableWeights.length, model.trainableWeights.length);
});

test('saving twice to one directory leaves one weights file and no temporary files', async () => {
  rc.setSeed(4);
  const model = residualNet();
  const dir = freshDir('twice');
  await model.save(dir);
  const first = readdirSync(dir).sort();
  assert.equal(first.length, 2);
  assert.ok(first.includes('model.json'));
  await model.save(dir); // same weights, same file name
  assert.deepEqual(readdirSync(dir).sort(), first);
  // New weights: a new file replaces the old one.
  model.setWeights(model.getWeights().map((w) => w.map((v) => v + 1)));
  await model.save(dir);
  const files = readdirSync(dir).sort();
  assert.equal(files.filter((f) => /^weights-[0-9a-f]+\.safetensors$/.test(f)).length, 1);
  assert.equal(files.filter((f) => f.includes('.tmp-')).length, 0);
  assert.equal(files.length, 2);
  assert.notDeepEqual(files, first);
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as rc.ModelFile;
  assert.ok(files.includes(doc.weights.file));
  assert.equal(doc.format, 'receptive-model');
  const x = rc.randn([1, 8, 8, 3]);
  assert.deepEqual(bits((await rc.loadModel(dir)).predict(x)), bits(model.predict(x)));
  // Leftovers from a crash mid-save are cleaned up by the next save.
  writeFileSync(join(dir, 'model.json.tmp-123-abc'), 'partial');
  writeFileSync(join(dir, 'weights-0123abcd.safetensors'), 'stale');
  await model.save(dir);
  assert.deepEqual(readdirSync(dir).sort(), files);
});

/** Saves a small model and returns its directory and the paths of its two files. */
async function savedModel(): Promise<{ dir: string; json: string; weights: string }> {
  const model = new rc.Sequential([
    new layers.Dense({ units: 3, activation: 'relu', inputShape: [4] }),
    new layers.Dense({ units: 2 }),
  ]);
  const dir = freshDir('broken');
  await model.save(dir);
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as rc.ModelFile;
  return { dir, json: join(dir, 'model.json'), weights: join(dir, doc.weights.file) };
}

/** Asserts that loading fails with a ModelFileError whose message matches every pattern. */
async function assertLoadFails(dir: string, ...patterns: (string | RegExp)[]): Promise<void> {
  await assert.rejects(rc.loadModel(dir), (e: Error) => {
    assert.ok(e instanceof rc.ModelFileError, `${e.name}: ${e.message}`);
    assert.ok(e instanceof rc.ReceptiveError);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `'${p}' in: ${e.message}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

const editJson = (json: string, edit: (doc: rc.ModelFile) => void) => {
  const doc = JSON.parse(readFileSync(json, 'utf8')) as rc.ModelFile;
  edit(doc);
  writeFileSync(json, JSON.stringify(doc));
};

test('a truncated, bit-flipped or missing weights file gives a ModelFileError naming it', async () => {
  {
    const { dir, weights } = await savedModel();
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 10));
    await assertLoadFails(dir, weights, /checksum/, /corrupt/);
  }
  {
    const { dir, weights } = await savedModel();
    const bytes = readFileSync(weights);
    bytes[bytes.length - 3]! ^= 0x10; // one bit of one weight
    writeFileSync(weights, bytes);
    await assertLoadFails(dir, weights, /fails its checksum/);
  }
  {
    const { dir, weights } = await savedModel();
    unlinkSync(weights);
    await assertLoadFails(dir, weights, /is missing/, 'model.json');
  }
  {
    // A file that passes the checksum (model.json updated to match) but is not safetensors.
    const { dir, json, weights } = await savedModel();
    const junk = new Uint8Array(64).fill(0xff);
    writeFileSync(weights, junk);
    const { createHash } = await import('node:crypto');
    editJson(json, (d) => {
      d.weights.sha256 = createHash('sha256').update(junk).digest('hex');
    });
    await assertLoadFails(dir, weights, /truncated or not safetensors/);
  }
});

test('a broken model.json gives a ModelFileError naming it', async () => {
  {
    const { dir, json } = await savedModel();
    writeFileSync(json, '{"format": "receptive-model", "model": ');
    await assertLoadFails(dir, json, /not valid JSON/);
  }
  for (const text of ['null', '[]', '42', '{"format": "receptive-model"}']) {
    const { dir, json } = await savedModel();
    writeFileSync(json, text);
    await assertLoadFails(dir, json, /not a receptive model file/);
  }
  {
    const { dir, json } = await savedModel();
    editJson(json, (d) => {
      (d.model.config.layers as { className: string }[])[1]!.className = 'Dense3000';
    });
    await assertLoadFails(dir, json, /Unknown layer class 'Dense3000'/, /registerLayer/);
  }
  {
    // A layer missing from a Sequential: the weights no longer fit, and both files are named.
    const { dir, json, weights } = await savedModel();
    editJson(json, (d) => {
      (d.model.config.layers as unknown[]).pop();
    });
    await assertLoadFails(dir, json, weights, /has 2 weights but the weights file .* holds 4/);
  }
  {
    // A layer of another size: the shapes disagree.
    const { dir, json, weights } = await savedModel();
    editJson(json, (d) => {
      (d.model.config.layers as { config: { units: number } }[])[1]!.config.units = 5;
    });
    await assertLoadFails(dir, json, weights, /\[3, 5\].*\[3, 2\]/);
  }
  {
    // A layer missing from a functional graph: the graph cannot be rebuilt.
    rc.setSeed(5);
    const dir = freshDir('functional-broken');
    await residualNet().save(dir);
    const json = join(dir, 'model.json');
    editJson(json, (d) => {
      const ls = d.model.config.layers as { className: string }[];
      ls.splice(
        ls.findIndex((l) => l.className === 'Add'),
        1,
      );
    });
    await assertLoadFails(dir, json, /cannot be rebuilt/);
  }
  {
    const { dir, json } = await savedModel();
    editJson(json, (d) => {
      d.model.config.layers = 'oops';
    });
    await assertLoadFails(dir, json, /cannot be rebuilt/);
  }
});

test('a directory that does not exist (or is not a model) says what to give', async () => {
  const missing = join(tmp, 'no-such-dir');
  await assertLoadFails(missing, `no model.json in '${missing}'`, /Give the directory/);
  assert.ok(!existsSync(missing), 'loading creates nothing');
  await assert.rejects(rc.loadModel(''), rc.ArgumentError);
  const model = new rc.Sequential([new layers.Dense({ units: 1, inputShape: [1] })]);
  await assert.rejects(model.save(''), (e: Error) => e instanceof rc.ArgumentError);
});

const enc = new TextEncoder();

/** Bytes of a safetensors file made by hand from the spec (no padding unless given). */
function handMade(header: object, data: Uint8Array, pad = ''): Uint8Array {
  const h = enc.encode(JSON.stringify(header) + pad);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test('safetensors: encode → decode round trip with float32, int32, scalars and metadata', () => {
  const arrays: rc.NamedArray[] = [
    { name: 'conv/kernel', shape: [2, 3], data: Float32Array.from([1.5, -2, 0, 3e-39, -0, 7]) },
    { name: 'ids', shape: [3], data: Int32Array.from([-1, 2 ** 31 - 1, -(2 ** 31)]) },
    { name: 'scalar', shape: [], data: Float32Array.from([Math.PI]) },
    { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    { name: 'gewichte/ä', shape: [1], data: Float32Array.from([Number.NEGATIVE_INFINITY]) },
  ];
  const bytes = rc.encodeSafetensors(arrays, { format: 'pt', note: 'x' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(
    (8 + headerLength) % 8,
    0,
    'the data starts 8-byte aligned, even with non-ASCII names',
  );
  const { arrays: back, metadata } = rc.decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: 'pt', note: 'x' });
  assert.equal(back.length, arrays.length);
  for (const [i, a] of arrays.entries()) {
    const b = back[i]!;
    assert.equal(b.name, a.name);
    assert.deepEqual(b.shape, a.shape);
    assert.equal(b.data.constructor, a.data.constructor, a.name);
    assert.deepEqual(b.data, a.data, a.name);
  }
  assert.throws(
    () => rc.encodeSafetensors([arrays[0]!, arrays[0]!]),
    /the name 'conv\/kernel' appears twice/,
  );
});

test('safetensors: a hand-made file with an odd-length header and unaligned data decodes', () => {
  const f = Float32Array.from([1, 2.5, -3]);
  const i = Int32Array.from([7, -8]);
  const data = new Uint8Array(20);
  data.set(new Uint8Array(f.buffer), 0);
  data.set(new Uint8Array(i.buffer), 12);
  const header = {
    b: { dtype: 'I32', shape: [2], data_offsets: [12, 20] },
    a: { dtype: 'F32', shape: [3, 1], data_offsets: [0, 12] },
  };
  // Four paddings: header lengths of both parities, the data at every alignment mod 4.
  for (const pad of ['', ' ', '  ', '   ']) {
    const bytes = handMade(header, data, pad);
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(length, JSON.stringify(header).length + pad.length);
    const { arrays, metadata } = rc.decodeSafetensors(bytes);
    assert.deepEqual(metadata, {});
    const byName = new Map(arrays.map((a) => [a.name, a]));
    assert.deepEqual(byName.get('a')!.data, f);
    assert.deepEqual(byName.get('a')!.shape, [3, 1]);
    assert.deepEqual(byName.get('b')!.data, i);
  }
  // Decoding from a view into a larger buffer at an odd offset works too.
  const bytes = handMade(header, data, ' ');
  const big = new Uint8Array(bytes.length + 3);
  big.set(bytes, 3);
  assert.deepEqual(rc.decodeSafetensors(big.subarray(3)).arrays.length, 2);
});

test('safetensors: corrupt files give a FormatError, never a crash', () => {
  const ok = rc.encodeSafetensors([{ name: 'w', shape: [4], data: new Float32Array(4) }]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', ok.subarray(0, 5), /too short/],
    ['truncated data', ok.subarray(0, ok.length - 4), /truncated or corrupt/],
    ['truncated header', ok.subarray(0, 20), /header claims/],
    ['header not JSON', handMade({}, new Uint8Array(0), '{'), /not valid JSON/],
    ['header not an object', handMade([1, 2], new Uint8Array(0)), /not a JSON object/],
    [
      'unknown dtype',
      handMade({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /dtype F16/,
    ],
    [
      'dtype from the prototype',
      handMade({ w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /dtype toString/,
    ],
    [
      'missing data_offsets',
      handMade({ w: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)),
      /malformed/,
    ],
    ['entry not an object', handMade({ w: 5 }, new Uint8Array(4)), /malformed/],
    [
      'offsets backwards',
      handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)),
      /malformed/,
    ],
    [
      'negative offset into the header',
      handMade({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, new Uint8Array(4)),
      /malformed/,
    ],
    [
      'size does not match the shape',
      handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /needs 8 bytes/,
    ],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => rc.decodeSafetensors(bytes, 'w.safetensors'),
      (e: Error) =>
        e instanceof rc.FormatError &&
        e.message.startsWith('w.safetensors:') &&
        pattern.test(e.message),
      what,
    );
  }
});
