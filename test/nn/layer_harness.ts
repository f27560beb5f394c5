/**
 * One generic layer test, Keras's run_layer_test idea: given a way to make a layer, its input
 * shape(s) and its parameter count worked out by hand, check that
 *
 * 1. a real call's output shape equals computeOutputShape (batch axis null) and the shape of a
 *    symbolic application to rc.Input;
 * 2. countParams equals the hand count;
 * 3. getConfig → JSON → layerFromConfig gives the same class and config, and with the
 *    original's weights the same outputs, bit for bit (inference mode);
 * 4. gradients with respect to the input(s) and every trainable weight match central finite
 *    differences in float64 (gradcheckLayer);
 * 5. one step of plain SGD on a mean-squared loss toward a fixed random target lowers the loss.
 */
import assert from 'node:assert/strict';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { f64 } from '../gradcheck.js';
import { withBackend } from '../helpers.js';

export interface LayerCase {
  /** Row label: the layer and what the configuration exercises. */
  name: string;
  /** Makes a fresh, unbuilt layer (called several times per row). */
  make: () => rc.Layer;
  /** Input shape with the batch axis, or a list of them for layers that take a list. */
  input: number[] | number[][];
  /** The parameter count, computed by hand. */
  params: number;
  /** Also gradient-check in training mode (batch normalization, dropout). */
  gradTraining?: boolean;
  /** Scale of the random inputs (default 1). */
  inputScale?: number;
  /** Added to the random inputs (default 0): a positive base for Power, a divisor away from 0. */
  inputShift?: number;
  /** Learning rate of the SGD step (default 0.05). */
  lr?: number;
  /** Entries checked per input or weight in the gradient check (default 40; all when fewer). */
  maxChecks?: number;
}

type Shapes = { list: boolean; shapes: number[][] };

function shapesOf(c: LayerCase): Shapes {
  const list = Array.isArray(c.input[0]);
  return { list, shapes: list ? (c.input as number[][]) : [c.input as number[]] };
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Seeded normal values for each input shape. */
function inputValues({ shapes }: Shapes, seed: number, scale = 1, shift = 0): Float64Array[] {
  const rng = new Random(seed);
  return shapes.map((s) =>
    Float64Array.from({ length: size(s) }, () => shift + scale * rng.normal()),
  );
}

/** Tensors on the current backend. */
function toTensors({ shapes }: Shapes, values: Float64Array[]): rc.Tensor[] {
  return values.map((v, i) => rc.tensor(v, shapes[i]));
}

function callLayer(layer: rc.Layer, { list }: Shapes, xs: rc.Tensor[], training: boolean) {
  return layer.apply(list ? xs : xs[0]!, { training });
}

/** Builds a layer for concrete input shapes without calling it (so no state such as a dropout counter moves). */
function buildFor(layer: rc.Layer, { list, shapes }: Shapes): void {
  if (!layer.built) {
    layer.build(list ? shapes : shapes[0]!);
    layer.built = true;
  }
}

/** JSON round trip, as a config goes through a save file. */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** (1) + (2): real and symbolic output shapes agree with computeOutputShape; the hand parameter count. */
export function checkShapesAndParams(c: LayerCase): void {
  const sh = shapesOf(c);
  const layer = c.make();
  const y = callLayer(
    layer,
    sh,
    toTensors(sh, inputValues(sh, 1, c.inputScale, c.inputShift)),
    false,
  );
  const nullBatch = sh.shapes.map((s) => [null, ...s.slice(1)]);
  const expected = layer.computeOutputShape(sh.list ? nullBatch : nullBatch[0]!);
  assert.equal(expected[0], null, `${c.name}: computeOutputShape keeps the batch axis unknown`);
  assert.deepEqual(
    [null, ...y.shape.slice(1)],
    expected,
    `${c.name}: output shape of a real call vs computeOutputShape`,
  );
  assert.equal(y.shape[0], sh.shapes[0]![0], `${c.name}: batch size`);
  assert.equal(layer.countParams(), c.params, `${c.name}: countParams after a real call`);

  // A fresh layer built by a symbolic application (batch null) gets the same shape and count.
  const sym = c.make();
  const inputs = sh.shapes.map((s) => rc.Input(s.slice(1)));
  const out = sym.apply(sh.list ? inputs : inputs[0]!);
  assert.deepEqual(out.shape, expected, `${c.name}: symbolic output shape`);
  assert.equal(sym.countParams(), c.params, `${c.name}: countParams after a symbolic build`);
}

/** (3): config through JSON and back gives an equal layer computing the same outputs. */
export function checkConfigRoundTrip(c: LayerCase): void {
  const sh = shapesOf(c);
  const xs = toTensors(sh, inputValues(sh, 2, c.inputScale, c.inputShift));
  const layer = c.make();
  const y = callLayer(layer, sh, xs, false);
  const config = viaJson(layer.getConfig());
  const clone = rc.layerFromConfig({ className: layer.className, config: viaJson(config) });
  assert.equal(clone.constructor, layer.constructor, `${c.name}: fromConfig class`);
  assert.deepEqual(viaJson(clone.getConfig()), config, `${c.name}: config after the round trip`);
  callLayer(clone, sh, xs, false);
  clone.setWeights(layer.getWeights());
  assert.deepEqual(
    clone.weights.map((w) => [w.name, w.shape]),
    layer.weights.map((w) => [w.name, w.shape]),
    `${c.name}: weight names and shapes of the clone`,
  );
  const y2 = callLayer(clone, sh, xs, false);
  assert.deepEqual(y2.shape, y.shape, `${c.name}: clone output shape`);
  assert.deepEqual(y2.dataSync(), y.dataSync(), `${c.name}: clone outputs`);
}

export interface GradcheckLayerOptions {
  training?: boolean;
  seed?: number;
  eps?: number;
  atol?: number;
  rtol?: number;
  maxChecks?: number;
  inputScale?: number;
}

/**
 * (4): the gradient of L = Σ layer(x) ⊙ R (R fixed random) with respect to each input and each
 * trainable weight, autograd against central differences, all in float64 on 'js-f64'.
 * Every evaluation uses a fresh layer from `make`, built for the input shapes and given the
 * exact float64 weight values (storages replaced, so nothing is rounded to float32); a
 * stateful layer (a seeded Dropout's mask counter) therefore computes the same function each
 * time, and the weights are perturbed directly. Weights that are not trainable (moving
 * statistics) must get no gradient.
 */
export function gradcheckLayer(c: LayerCase, options: GradcheckLayerOptions = {}): void {
  const { training = false, seed = 11, eps = 1e-6, atol = 1e-6, rtol = 1e-5 } = options;
  const maxChecks = options.maxChecks ?? c.maxChecks ?? 40;
  const sh = shapesOf(c);
  const mode = training ? 'training' : 'inference';
  withBackend('js-f64', () => {
    const rng = new Random(seed);
    const xVals = inputValues(sh, seed + 1, options.inputScale ?? c.inputScale, c.inputShift);
    const ref = c.make();
    buildFor(ref, sh);
    const trainable = ref.weights.map((w) => ref.trainableWeights.includes(w));
    // Initial values plus noise on the trainable weights: zero biases would put a ReLU's input
    // exactly on its kink wherever the input is zero (after an earlier ReLU), where no
    // finite difference agrees with either one-sided derivative.
    const wVals = ref.weights.map((w, k) => {
      const v = f64(w);
      if (trainable[k]) for (let i = 0; i < v.length; i++) v[i]! += 0.1 * rng.normal();
      return v;
    });

    const evaluate = (xv: Float64Array[], wv: Float64Array[], grad: boolean) => {
      const layer = c.make();
      buildFor(layer, sh);
      const ws = layer.weights;
      assert.equal(ws.length, wv.length, `${c.name}: weight count of a fresh layer`);
      ws.forEach((w, i) => {
        w.storage = rc.tensor(wv[i]!, w.shape).storage;
      });
      const xs = toTensors(sh, xv);
      for (const x of xs) x.requiresGrad = grad;
      return { layer, xs, out: callLayer(layer, sh, xs, training) };
    };

    const first = evaluate(xVals, wVals, true);
    const r = rc.tensor(
      Float64Array.from({ length: first.out.size }, () => rng.normal()),
      first.out.shape,
    );
    const loss = (o: rc.Tensor) => rc.sum(rc.mul(o, r));
    loss(first.out).backward();

    const lossAt = (xv: Float64Array[], wv: Float64Array[]) =>
      rc.noGrad(() => f64(loss(evaluate(xv, wv, false).out))[0]!);

    type Param = {
      label: string;
      values: Float64Array;
      grad: rc.Tensor | null;
      at: (v: Float64Array) => number;
    };
    const params: Param[] = [
      ...xVals.map((values, k) => ({
        label: `input ${k}`,
        values,
        grad: first.xs[k]!.grad,
        at: (v: Float64Array) =>
          lossAt(
            xVals.map((x, j) => (j === k ? v : x)),
            wVals,
          ),
      })),
      ...first.layer.weights.flatMap((w, k) =>
        trainable[k]
          ? [
              {
                label: `weight ${w.name}`,
                values: wVals[k]!,
                grad: w.grad,
                at: (v: Float64Array) =>
                  lossAt(
                    xVals,
                    wVals.map((x, j) => (j === k ? v : x)),
                  ),
              },
            ]
          : [],
      ),
    ];
    first.layer.weights.forEach((w, k) => {
      if (!trainable[k])
        assert.equal(w.grad, null, `${c.name}: non-trainable ${w.name} got a gradient`);
    });

    for (const p of params) {
      assert.ok(p.grad, `${c.name} (${mode}): ${p.label} got no gradient`);
      const analytic = f64(p.grad);
      const n = p.values.length;
      const idx =
        n <= maxChecks
          ? Array.from({ length: n }, (_, i) => i)
          : Array.from({ length: maxChecks }, () => rng.int(n));
      const v = Float64Array.from(p.values);
      for (const i of idx) {
        const orig = v[i]!;
        v[i] = orig + eps;
        const up = p.at(v);
        v[i] = orig - eps;
        const down = p.at(v);
        v[i] = orig;
        const numeric = (up - down) / (2 * eps);
        const a = analytic[i]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          assert.fail(
            `${c.name} (${mode}): d/d(${p.label})[${i}] analytic ${a} vs numeric ${numeric}`,
          );
        }
      }
    }
  });
}

/** (5): one plain SGD step (w ← w − lr·∂L/∂w, L the mean squared error to a fixed target) lowers L. */
export function checkTrainingStep(c: LayerCase): void {
  const sh = shapesOf(c);
  const xs = toTensors(sh, inputValues(sh, 3, c.inputScale, c.inputShift));
  const layer = c.make();
  const y0 = callLayer(layer, sh, xs, false);
  const trainable = layer.trainableWeights;
  if (trainable.length === 0) {
    assert.equal(
      layer.weights.every((w) => !w.requiresGrad),
      true,
      `${c.name}: a layer without trainable weights has no weight that asks for gradients`,
    );
    return;
  }
  const target = rc.randn(y0.shape, { seed: 4 });
  const lossOf = () => rc.mean(rc.square(rc.sub(callLayer(layer, sh, xs, true), target)));
  const before = lossOf();
  before.backward();
  const lr = c.lr ?? 0.05;
  rc.noGrad(() => {
    for (const w of trainable) {
      assert.ok(w.grad, `${c.name}: trainable weight ${w.name} got no gradient`);
      w.storage = rc.sub(w, rc.mul(lr, w.grad)).storage;
    }
  });
  const after = rc.noGrad(lossOf);
  assert.ok(
    after.item() < before.item(),
    `${c.name}: one SGD step (lr ${lr}) should lower the loss, got ${before.item()} → ${after.item()}`,
  );
}

/** All five checks for one row of the table. */
export function runLayerTest(c: LayerCase): void {
  checkShapesAndParams(c);
  checkConfigRoundTrip(c);
  gradcheckLayer(c, { training: false });
  if (c.gradTraining) gradcheckLayer(c, { training: true });
  checkTrainingStep(c);
}
