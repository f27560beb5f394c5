/**
 * Activations: Relu, LeakyRelu, PRelu, Elu, Sigmoid, Tanh, HardSigmoid, HardSwish, Softplus,
 * Clip, Softmax, LogSoftmax. They keep their input's layout.
 */
import type { Layer } from '../../../../nn/layer.js';
import {
  Clip,
  ELU,
  HardSigmoid,
  HardSwish,
  LogSoftmax,
  PReLU,
  Softmax,
  Softplus,
} from '../../../../nn/layers/activations.js';
import { Activation, ReLU, Reshape } from '../../../../nn/layers/core.js';
import { type ImportContext, registerOp } from '../context.js';
import type { OnnxNode } from '../decode.js';
import { constantFor } from './elementwise.js';

/** Applies a layer that keeps the shape and the layout. */
function elementwise(node: OnnxNode, cx: ImportContext, make: (name: string) => Layer): void {
  const x = cx.tensorInput(node, 0);
  const t = cx.apply(make(cx.layerName(node.name)), x.t);
  cx.setOutput(node, cx.tensor(t, x.layout));
}

registerOp('Relu', (node, cx) => elementwise(node, cx, (name) => new ReLU({ name })));
registerOp(['Sigmoid', 'Tanh'], (node, cx) =>
  elementwise(
    node,
    cx,
    (name) => new Activation({ name, activation: node.opType === 'Sigmoid' ? 'sigmoid' : 'tanh' }),
  ),
);
registerOp('LeakyRelu', (node, cx) => {
  const alpha = cx.attr<number>(node, 'alpha', 0.01);
  if (!(alpha >= 0)) throw cx.error(`alpha ${alpha}: a negative slope is not supported.`);
  elementwise(node, cx, (name) => new ReLU({ name, negativeSlope: alpha }));
});
registerOp('Elu', (node, cx) => {
  const alpha = cx.attr<number>(node, 'alpha', 1);
  elementwise(node, cx, (name) =>
    alpha === 1 ? new Activation({ name, activation: 'elu' }) : new ELU({ name, alpha }),
  );
});

/** A scalar bound of Clip: an attribute before opset 11, an optional input after. */
function bound(
  node: OnnxNode,
  cx: ImportContext,
  i: number,
  key: 'min' | 'max',
): number | undefined {
  if (cx.opset < 11) return cx.attr<number>(node, key);
  if (!node.inputs[i]) return undefined;
  const t = cx.constInput(node, i, key);
  if (t.data.length !== 1)
    throw cx.error(`its ${key} must be a scalar, got shape [${t.dims.join(', ')}].`);
  return t.data[0]!;
}

registerOp('Clip', (node, cx) => {
  const lo = bound(node, cx, 1, 'min');
  const hi = bound(node, cx, 2, 'max');
  const min = lo === undefined || lo === -Infinity || lo <= -3.4e38 ? undefined : lo;
  const max = hi === undefined || hi === Infinity || hi >= 3.4e38 ? undefined : hi;
  elementwise(node, cx, (name) =>
    // ReLU / ReLU6 as ReLU layers, which the inference fusions know.
    min === 0
      ? new ReLU({ name, ...(max !== undefined ? { maxValue: max } : {}) })
      : new Clip({
          name,
          ...(min !== undefined ? { min } : {}),
          ...(max !== undefined ? { max } : {}),
        }),
  );
});

registerOp(['Softmax', 'LogSoftmax'], (node, cx) => {
  const x = cx.tensorInput(node, 0);
  const rank = cx.rank(x);
  const log = node.opType === 'LogSoftmax';
  // Before opset 13 the axis (default 1) splits the input into [outer, inner] and the softmax
  // runs over all of inner; from 13 on it runs over that one axis (default -1).
  const old = cx.opset < 13;
  const axis0 = cx.attr<number>(node, 'axis', old ? 1 : -1);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  if (axis === 0 || axis < 0 || axis >= rank)
    throw cx.error(
      `axis ${axis0} on a value of rank ${rank}: a softmax over the batch axis is not supported.`,
    );
  const name = cx.layerName(node.name);
  if (!old || axis === rank - 1) {
    const held = cx.heldAxis(x, axis);
    const last = held === x.t.shape.length - 1;
    const layer =
      !log && last
        ? new Activation({ name, activation: 'softmax' })
        : new (log ? LogSoftmax : Softmax)({ name, axis: held });
    cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), x.layout));
    return;
  }
  // The old form over several axes: flatten them, softmax over the last, shape back.
  const p = cx.toPlain(x);
  const shape = cx.onnxShape(p);
  const inner = shape.slice(axis);
  if (inner.some((d) => d === null))
    throw cx.error('the axes it normalizes over must have fixed sizes.');
  const n = inner.reduce<number>((a, d) => a * (d as number), 1);
  const flat = cx.apply(
    new Reshape({
      name: cx.layerName(`${name}_flat`),
      targetShape: [...(shape.slice(1, axis) as number[]), n],
    }),
    p.t,
  );
  const s = cx.apply(new (log ? LogSoftmax : Softmax)({ name, axis: -1 }), flat);
  const back = cx.apply(
    new Reshape({ name: cx.layerName(`${name}_unflat`), targetShape: shape.slice(1) as number[] }),
    s,
  );
  cx.setOutput(node, cx.tensor(back));
});

registerOp('HardSigmoid', (node, cx) => {
  const alpha = cx.attr<number>(node, 'alpha', 0.2);
  const beta = cx.attr<number>(node, 'beta', 0.5);
  elementwise(node, cx, (name) => new HardSigmoid({ name, alpha, beta }));
});
registerOp('HardSwish', (node, cx) => elementwise(node, cx, (name) => new HardSwish({ name })));
registerOp('Softplus', (node, cx) => elementwise(node, cx, (name) => new Softplus({ name })));

registerOp('PRelu', (node, cx) => {
  let slope = cx.constInput(node, 1, 'slope');
  const x = cx.tensorInput(node, 0);
  const rank = cx.rank(x);
  // Before opset 7 a slope vector of one value per channel applies to axis 1, not the last.
  if (cx.opset < 7 && slope.dims.length === 1 && slope.dims[0] === cx.onnxShape(x)[1] && rank > 2)
    slope = { ...slope, dims: [slope.dims[0]!, ...new Array(rank - 2).fill(1)] };
  const k = constantFor(cx, x, slope);
  const layer = new PReLU({ name: cx.layerName(node.name), alphaShape: k.dims });
  const t = cx.apply(layer, k.x.t);
  cx.setWeights(layer, [k.data]);
  cx.setOutput(node, cx.tensor(t, k.x.layout));
});
