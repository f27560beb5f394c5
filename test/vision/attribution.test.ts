/**
 * Explanations checked where the answer is known. A small CNN is trained (seeded, about a
 * second on native) on 24×24 images of noise whose class is decided by a shape placed at random:
 * 0 = no shape, 1 = a plus, 2 = a ring; half of all images also hold a filled square, a
 * distractor that decides nothing (so the classes must be told by their own shapes, not by
 * elimination). On the test images with a shape, Grad-CAM, saliency, SmoothGrad and occlusion
 * must put their heat on it: the mean heat inside the shape's box at least twice the mean
 * outside, for at least 90% of the images. Integrated gradients are complete within 1% (of one
 * logit unit where the difference is smaller) for 90% of the images at the default steps and for
 * all at four times as many; activation maximization
 * raises tenfold and more every filter that a flat image turns off, and every other one as far as
 * a much stronger unregularized search finds it can go (within 60%).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as rc from '../../src/index.js';

const S = 24;
const plus = Array.from({ length: 9 }, (_, y) =>
  Array.from({ length: 9 }, (_, x) => (Math.abs(y - 4) <= 1 || Math.abs(x - 4) <= 1 ? 1 : 0)),
);
const ring = Array.from({ length: 8 }, (_, y) =>
  Array.from({ length: 8 }, (_, x) => (y < 2 || y > 5 || x < 2 || x > 5 ? 1 : 0)),
);
const square = Array.from({ length: 6 }, () => new Array(6).fill(1) as number[]);
const SHAPES = [null, plus, ring];

type Box = [number, number, number] | null;

function stamp(x: Float32Array, off: number, m: number[][], oy: number, ox: number): void {
  for (let a = 0; a < m.length; a++)
    for (let b = 0; b < m.length; b++) if (m[a]![b]) x[off + (oy + a) * S + ox + b] = 1;
}

/** n images (class i % 3), their labels and the boxes [top, left, size] of their shapes. */
function shapesData(n: number, seed: number) {
  const rng = new rc.Random(seed);
  const x = new Float32Array(n * S * S);
  const y = new Int32Array(n);
  const boxes: Box[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let p = 0; p < S * S; p++) x[i * S * S + p] = rng.uniform(0, 0.5);
    let box: Box = null;
    const m = SHAPES[c];
    if (m) {
      const oy = rng.int(S - m.length + 1);
      const ox = rng.int(S - m.length + 1);
      stamp(x, i * S * S, m, oy, ox);
      box = [oy, ox, m.length];
    }
    if (rng.next() < 0.5) {
      for (;;) {
        const oy = rng.int(S - 5);
        const ox = rng.int(S - 5);
        if (
          box &&
          oy < box[0] + box[2] &&
          box[0] < oy + 6 &&
          ox < box[1] + box[2] &&
          box[1] < ox + 6
        )
          continue;
        stamp(x, i * S * S, square, oy, ox);
        break;
      }
    }
    boxes.push(box);
  }
  return {
    x: rc.tensor(x, [n, S, S, 1]),
    y: rc.tensor(y, [n], 'int32'),
    labels: Array.from(y),
    boxes,
  };
}

/** Per image with a shape: mean heat inside its box / mean heat outside. */
function insideOverOutside(map: rc.Tensor, boxes: Box[]): number[] {
  const v = map.dataSync();
  const out: number[] = [];
  boxes.forEach((b, i) => {
    if (!b) return;
    const [oy, ox, sz] = b;
    let si = 0;
    let ni = 0;
    let so = 0;
    let no = 0;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const h = v[i * S * S + y * S + x]!;
        if (y >= oy && y < oy + sz && x >= ox && x < ox + sz) {
          si += h;
          ni++;
        } else {
          so += h;
          no++;
        }
      }
    out.push(so > 0 ? si / ni / (so / no) : Number.POSITIVE_INFINITY);
  });
  return out;
}

function assertOnTheShape(name: string, map: rc.Tensor, boxes: Box[]): void {
  const ratios = insideOverOutside(map, boxes);
  const good = ratios.filter((r) => r >= 2).length;
  assert.ok(
    good >= 0.9 * ratios.length,
    `${name}: heat on the shape (inside/outside ≥ 2) for only ${good} of ${ratios.length} images: ${ratios.map((r) => r.toFixed(1)).join(' ')}`,
  );
}

describe(`explanations of a CNN trained on shapes in noise (${rc.getBackend()})`, () => {
  let model: rc.Sequential;
  const test_ = shapesData(30, 2);
  const classes = test_.labels;

  before(async () => {
    rc.setSeed(1);
    model = new rc.Sequential([
      new rc.layers.Conv2D({
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        inputShape: [S, S, 1],
      }),
      new rc.layers.MaxPooling2D({ poolSize: 2 }),
      new rc.layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new rc.layers.MaxPooling2D({ poolSize: 2 }),
      new rc.layers.Conv2D({
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'last_conv',
      }),
      new rc.layers.GlobalAveragePooling2D(),
      new rc.layers.Dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({
      optimizer: new rc.Adam({ learningRate: 0.005 }),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const train = shapesData(1500, 1);
    await model.fit(train.x, train.y, { epochs: 8, batchSize: 32, verbose: 0, seed: 1 });
    const { accuracy } = await model.evaluate(test_.x, test_.y);
    // Explanations of a model that has not learnt the task would test nothing.
    assert.ok(accuracy! >= 0.95, `the shapes model reached only ${accuracy} accuracy`);
  });

  test('Grad-CAM (and Grad-CAM++) put the heat on the shape', async () => {
    const r = await rc.vision.gradCam(model, test_.x, { classIndex: classes });
    assert.equal(r.layer, 'last_conv');
    assert.deepEqual(r.heatmap.shape, [30, S, S]);
    const v = r.heatmap.dataSync();
    assert.ok(v.every((h) => h >= 0 && h <= 1));
    assertOnTheShape('gradCam', r.heatmap, test_.boxes);
    const pp = await rc.vision.gradCam(model, test_.x, {
      classIndex: classes,
      method: 'gradcam++',
    });
    assertOnTheShape('gradCam++', pp.heatmap, test_.boxes);
    // The predicted class is the default: this model predicts every test image right.
    assert.deepEqual((await rc.vision.gradCam(model, test_.x)).classIndex, classes);
  });

  test('saliency and SmoothGrad put the heat on the shape', async () => {
    const r = await rc.vision.saliency(model, test_.x, { classIndex: classes });
    assert.deepEqual(r.map.shape, [30, S, S]);
    assertOnTheShape('saliency', r.map, test_.boxes);
    const sg = await rc.vision.saliency(model, test_.x, {
      classIndex: classes,
      smoothGrad: { samples: 8, noise: 0.1 },
    });
    assertOnTheShape('smoothGrad', sg.map, test_.boxes);
  });

  test('occlusion: hiding the shape costs the most probability', async () => {
    const r = await rc.vision.occlusion(model, test_.x, {
      patch: 4,
      stride: 2,
      classIndex: classes,
    });
    assert.deepEqual(r.map.shape, [30, S, S]);
    assert.ok(r.probability.every((p) => p > 0.5));
    assertOnTheShape('occlusion', r.map, test_.boxes);
  });

  test('integrated gradients are complete: within 1% for most images at the default steps, and converging', async () => {
    const out = model.predict(test_.x).logits!.dataSync();
    const base = model.predict(rc.zeros([30, S, S, 1])).logits!.dataSync();
    // The error of the sum of attributions against the model's own logits (not what IG
    // reports), in units of 1% of the difference, or of one logit unit where the difference is
    // smaller (a ReLU network's gradient jumps along the path, so the error of the trapezoidal
    // rule does not shrink with the difference, only with the steps).
    const errors = async (steps?: number) => {
      const r = await rc.vision.integratedGradients(model, test_.x, steps ? { steps } : {});
      assert.deepEqual(r.attributions.shape, test_.x.shape);
      const a = r.attributions.dataSync();
      return r.classIndex.map((c, i) => {
        let total = 0;
        for (let j = i * S * S; j < (i + 1) * S * S; j++) total += a[j]!;
        const diff = out[i * 3 + c]! - base[i * 3 + c]!;
        assert.ok(Math.abs(diff - r.scoreDifference[i]!) < 1e-3 * (1 + Math.abs(diff)));
        assert.ok(Math.abs(r.convergenceDelta[i]! - (total - diff)) < 1e-3 * (1 + Math.abs(diff)));
        return Math.abs(total - diff) / (0.01 * Math.max(1, Math.abs(diff)));
      });
    };
    const byDefault = await errors();
    const within = byDefault.filter((e) => e <= 1).length;
    assert.ok(
      within >= 0.9 * byDefault.length && Math.max(...byDefault) <= 5,
      `default steps: ${within} of ${byDefault.length} images within 1%, worst ${Math.max(...byDefault).toFixed(2)}%`,
    );
    // Four times the steps: every image within 1%, and the worst error smaller.
    const fine = await errors(256);
    assert.ok(
      Math.max(...fine) <= 1 && Math.max(...fine) <= Math.max(...byDefault),
      `256 steps: worst ${Math.max(...fine).toFixed(2)}% (default: ${Math.max(...byDefault).toFixed(2)}%)`,
    );
  });

  test('activation maximization raises tenfold every filter whose ceiling allows it; dead ones are skipped', async () => {
    const r = await rc.vision.maximizeActivation(model, { layer: 'last_conv', filter: 'all' });
    assert.deepEqual(r.images.shape, [16, S, S, 1]);
    assert.deepEqual(
      r.targets,
      Array.from({ length: 16 }, (_, i) => i),
    );
    const v = r.images.dataSync();
    assert.ok(
      v.every((p) => p >= 0 && p <= 1),
      'the images stay in the range',
    );
    // Dead filters (0 at every start, so no gradient) are reported, left at 0, and skipped.
    const dead = r.targets.filter((_, i) => r.start[i] === 0);
    assert.deepEqual(r.skipped, dead);
    for (const f of dead) assert.equal(r.end[f], 0);
    const live = r.start.map((s, i) => [s, r.end[i]!] as const).filter(([s]) => s > 0);
    assert.ok(live.length >= 10, `only ${live.length} of 16 filters respond at all`);
    const ratios = live.map(([s, e]) => e / s);
    assert.ok(
      ratios.every((q) => q >= 2),
      `a filter did not double: ${ratios.map((q) => q.toFixed(1)).join(' ')}`,
    );
    // Every filter that some flat image (black to white) nearly turns off rises tenfold and
    // more. The others fire above 1 on every flat tone through their bias (1.1 to 1.7 even on
    // black, which gradient descent does not get below). A filter is let off tenfold only where
    // a much stronger search from the same start (no jitter, no blur, 1,000 small steps, three
    // seeds) does not reach tenfold either, and then the default must come within 60% of that
    // search's best: the ceiling, not the method, is what stops it.
    const tones = [0, 0.25, 0.5, 0.75, 1];
    const flat = rc.tensor(
      Float32Array.from(
        { length: tones.length * S * S },
        (_, i) => tones[Math.floor(i / (S * S))]!,
      ),
      [tones.length, S, S, 1],
    );
    const acts = rc.vision.layerOutput(model, 'last_conv', flat).dataSync();
    const cells = (S / 4) * (S / 4);
    const floor = r.targets.map((f) =>
      Math.min(
        ...tones.map((_, t) => {
          let sum = 0;
          for (let p = 0; p < cells; p++) sum += acts[(t * cells + p) * 16 + f]!;
          return sum / cells;
        }),
      ),
    );
    const must = r.targets.filter((f) => !r.skipped.includes(f) && floor[f]! < 1);
    assert.ok(must.length >= 8, `only ${must.length} filters can be turned off by a flat image`);
    for (const f of must)
      assert.ok(
        r.end[f]! >= 10 * r.start[f]!,
        `filter ${f} rose from ${r.start[f]} only to ${r.end[f]} (less than tenfold)`,
      );
    const short = r.targets.filter((f) => !r.skipped.includes(f) && r.end[f]! < 10 * r.start[f]!);
    assert.ok(short.length <= 4, `${short.length} filters short of tenfold: ${short.join(' ')}`);
    if (short.length > 0) {
      const best = short.map(() => 0);
      for (const seed of [0, 1, 2]) {
        const strong = await rc.vision.maximizeActivation(model, {
          layer: 'last_conv',
          filter: short,
          jitter: 0,
          blurEvery: 0,
          learningRate: 0.05,
          steps: 1000,
          seed,
        });
        strong.end.forEach((e, i) => {
          best[i] = Math.max(best[i]!, e);
        });
      }
      short.forEach((f, i) => {
        assert.ok(
          best[i]! < 10 * r.start[f]!,
          `filter ${f}: the strong search reached ${best[i]} from ${r.start[f]}, the default only ${r.end[f]}`,
        );
        assert.ok(
          r.end[f]! >= 0.6 * best[i]!,
          `filter ${f}: the default reached ${r.end[f]}, the strong search ${best[i]}`,
        );
      });
    }
    // objective 'centre': each filter's unit at the centre of its 6×6 map (row 3, column 3),
    // as the layer gives it for the final images; it rises for every live filter too. Tenfold is
    // not asked of it: the four filters that fire through their bias on every flat image reach
    // only about 3 to 6 times their start with it too.
    const m = await rc.vision.maximizeActivation(model, {
      layer: 'last_conv',
      filter: 'all',
      objective: 'centre',
    });
    assert.deepEqual(m.skipped, r.skipped);
    const at = rc.vision.layerOutput(model, 'last_conv', m.images).dataSync();
    m.targets.forEach((f, i) => {
      const unit = at[((i * 6 + 3) * 6 + 3) * 16 + f]!;
      assert.ok(
        Math.abs(m.end[i]! - unit) <= 1e-4 * (1 + unit),
        `filter ${f}: end ${m.end[i]} is not the centre unit ${unit}`,
      );
      if (!m.skipped.includes(f))
        assert.ok(
          m.end[i]! >= 2 * m.start[i]!,
          `centre of filter ${f}: ${m.start[i]} -> ${m.end[i]}`,
        );
    });
    // The grid: 16 cells of 24 px scaled by 3, 4 per row, 2 px gutters.
    assert.deepEqual(
      [r.picture.width, r.picture.height, r.picture.channels],
      [4 * 72 + 5 * 2, 4 * 72 + 5 * 2, 1],
    );
    // A class: its logit rises (the ring's, from below zero at grey).
    const c = await rc.vision.maximizeActivation(model, { classIndex: 2, steps: 64 });
    assert.ok(c.end[0]! > c.start[0]! + 10, `class 2 logit ${c.start[0]} -> ${c.end[0]}`);
    for (const w of model.weights) assert.equal(w.grad, null);
  });
});
