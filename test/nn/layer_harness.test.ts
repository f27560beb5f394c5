/**
 * The harness must fail on broken layers, or its passing rows prove nothing: a wrong
 * computeOutputShape, a config that forgets an argument, a wrong gradient rule, a weight cut
 * off from the tape, a wrong parameter count, and a step that climbs instead of descending.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from '../../src/autograd.js';
import * as rc from '../../src/index.js';
import {
  checkConfigRoundTrip,
  checkShapesAndParams,
  checkTrainingStep,
  gradcheckLayer,
  type LayerCase,
} from './layer_harness.js';

/** Output shape claims one channel too many. */
class ShapeLiar extends rc.Layer {
  static override className = 'TestShapeLiar';
  call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
    return rc.relu(x as rc.Tensor);
  }
  computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
    const shape = s as rc.Shape;
    return [...shape.slice(0, -1), (shape[shape.length - 1] as number) + 1];
  }
}

/** Multiplies by `factor` but leaves it out of its config. */
class Forgetful extends rc.Layer {
  static override className = 'TestForgetful';
  readonly factor: number;
  constructor(args: rc.LayerArgs & { factor?: number } = {}) {
    super(args);
    this.factor = args.factor ?? 1;
  }
  call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
    return rc.mul(x as rc.Tensor, this.factor);
  }
  computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
    return s as rc.Shape;
  }
}

/** y = x · scale per feature, with a chosen gradient rule for the scale. */
class Scale extends rc.Layer {
  static override className = 'TestScale';
  scale!: rc.Tensor;
  constructor(
    args: rc.LayerArgs = {},
    private readonly rule: 'right' | 'doubled' | 'negated' | 'detached' = 'right',
  ) {
    super(args);
  }
  override build(s: rc.Shape | rc.Shape[]): void {
    const shape = s as rc.Shape;
    this.scale = this.addWeight('scale', [shape[shape.length - 1] as number], 'ones');
  }
  call(x: rc.Tensor | rc.Tensor[]): rc.Tensor {
    const xt = x as rc.Tensor;
    if (this.rule === 'detached') return rc.mul(xt, this.scale.detach());
    const k = { right: 1, doubled: 2, negated: -1 }[this.rule];
    const out = rc.noGrad(() => rc.mul(xt, this.scale));
    return record('testScale', out, [xt, this.scale], (dy) => [
      rc.mul(dy, this.scale),
      rc.mul(rc.sum(rc.mul(dy, xt), 0), k),
    ]);
  }
  computeOutputShape(s: rc.Shape | rc.Shape[]): rc.Shape {
    return s as rc.Shape;
  }
}

for (const cls of [ShapeLiar, Forgetful, Scale]) rc.registerLayer(cls);

const row = (make: () => rc.Layer, params = 0): LayerCase => ({
  name: 'broken',
  make,
  input: [3, 4],
  params,
});

test('harness catches a computeOutputShape that disagrees with the call', () => {
  assert.throws(() => checkShapesAndParams(row(() => new ShapeLiar())), /computeOutputShape/);
});

test('harness catches a wrong hand parameter count', () => {
  assert.throws(
    () => checkShapesAndParams(row(() => new rc.layers.Dense({ units: 2 }), 9)),
    /countParams/,
  );
});

test('harness catches a config that forgets an argument', () => {
  assert.throws(
    () => checkConfigRoundTrip(row(() => new Forgetful({ factor: 3 }))),
    /clone outputs/,
  );
});

test('harness catches a wrong gradient rule and a weight cut off from the tape', () => {
  gradcheckLayer(row(() => new Scale({}, 'right'), 4)); // the right rule passes
  assert.throws(() => gradcheckLayer(row(() => new Scale({}, 'doubled'), 4)), /analytic/);
  assert.throws(() => gradcheckLayer(row(() => new Scale({}, 'detached'), 4)), /got no gradient/);
});

test('harness catches a training step that raises the loss', () => {
  checkTrainingStep(row(() => new Scale({}, 'right'), 4));
  assert.throws(() => checkTrainingStep(row(() => new Scale({}, 'negated'), 4)), /lower the loss/);
});
