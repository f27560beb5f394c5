/**
 * ONNX for the layers imported graphs are made of: Permute, Slice, ConstantArithmetic,
 * Subtract, and the activation layers (Softmax / LogSoftmax on an axis, ELU, Clip, PReLU,
 * HardSigmoid, HardSwish, Softplus), so an imported model can be exported again.
 * The layers that depend on axes work channels last (NHWC), as receptive computes them.
 */
import {
  Clip,
  ELU,
  HardSigmoid,
  HardSwish,
  LogSoftmax,
  PReLU,
  Softmax,
  Softplus,
} from '../../../nn/layers/activations.js';
import { Subtract } from '../../../nn/layers/merge.js';
import { ConstantArithmetic, Permute, Slice } from '../../../nn/layers/tensor_ops.js';
import { normalizeAxis } from '../../../util/shape.js';
import { registerOnnxExporter } from '../context.js';
import { attr } from '../graph.js';

registerOnnxExporter(Permute.className, (l: Permute, [x], ctx) => {
  const v = ctx.graph.toNHWC(x!);
  const out = ctx.graph.node('Transpose', [v.name], { perm: attr.ints([0, ...l.dims]) }, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: false };
});

registerOnnxExporter(Slice.className, (l: Slice, [x], ctx) => {
  const g = ctx.graph;
  const v = g.toNHWC(x!);
  const axes = l.begin.map((_, i) => i + 1);
  const ends = l.begin.map((b, i) => (l.size[i] === -1 ? 2 ** 31 - 1 : b + l.size[i]!));
  const out = g.node(
    'Slice',
    [
      v.name,
      g.int64s(`${l.name}_starts`, l.begin),
      g.int64s(`${l.name}_ends`, ends),
      g.int64s(`${l.name}_axes`, axes),
    ],
    {},
    l.name,
  );
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: false };
});

const ARITHMETIC_OPS = {
  add: 'Add',
  subtract: 'Sub',
  multiply: 'Mul',
  divide: 'Div',
  maximum: 'Max',
  minimum: 'Min',
  power: 'Pow',
} as const;

registerOnnxExporter(ConstantArithmetic.className, (l: ConstantArithmetic, [x], ctx) => {
  const g = ctx.graph;
  const v = g.toNHWC(x!);
  const c = g.weight(
    l.constant.name ?? `${l.name}_constant`,
    l.constant.shape,
    l.constant.dataSync() as Float32Array,
  );
  const ins = l.constantFirst ? [c, v.name] : [v.name, c];
  const out = g.node(ARITHMETIC_OPS[l.op], ins, {}, l.name);
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: false };
});

registerOnnxExporter(Subtract.className, (l: Subtract, inputs, ctx) => {
  const images = inputs.every((v) => v.shape.length === 4);
  const [a, b] = inputs.map((v) => (images ? ctx.graph.toNCHW(v) : ctx.graph.toNHWC(v)));
  const out = ctx.graph.node('Sub', [a!.name, b!.name], {}, l.name);
  return { name: out, shape: ctx.outShape(l, inputs, true), nchw: a!.nchw };
});

for (const cls of [Softmax, LogSoftmax]) {
  registerOnnxExporter(cls.className, (l: Softmax, [x], ctx) => {
    const v = ctx.graph.toNHWC(x!);
    const axis = normalizeAxis(l.axis, v.shape.length, l.label);
    const out = ctx.graph.node(l.className, [v.name], { axis: attr.int(axis) }, l.name);
    return { name: out, shape: v.shape, nchw: false };
  });
}

registerOnnxExporter(PReLU.className, (l: PReLU, [x], ctx) => {
  const g = ctx.graph;
  const v = g.toNHWC(x!);
  const slope = g.weight(
    l.alpha.name ?? `${l.name}_alpha`,
    l.alpha.shape,
    l.alpha.dataSync() as Float32Array,
  );
  return { name: g.node('PRelu', [v.name, slope], {}, l.name), shape: v.shape, nchw: false };
});

// Elementwise, any layout.
registerOnnxExporter(ELU.className, (l: ELU, [x], ctx) =>
  ctx.unary('Elu', x!, l.name, { alpha: attr.float(l.alpha) }),
);
registerOnnxExporter(HardSigmoid.className, (l: HardSigmoid, [x], ctx) =>
  ctx.unary('HardSigmoid', x!, l.name, { alpha: attr.float(l.alpha), beta: attr.float(l.beta) }),
);
registerOnnxExporter(HardSwish.className, (l: HardSwish, [x], ctx) =>
  ctx.unary('HardSwish', x!, l.name),
);
registerOnnxExporter(Softplus.className, (l: Softplus, [x], ctx) =>
  ctx.unary('Softplus', x!, l.name),
);
registerOnnxExporter(Clip.className, (l: Clip, [x], ctx) => {
  const g = ctx.graph;
  const bounds = [
    l.min === undefined ? '' : g.scalar(l.min),
    l.max === undefined ? '' : g.scalar(l.max),
  ];
  while (bounds.length && bounds[bounds.length - 1] === '') bounds.pop();
  return { ...x!, name: g.node('Clip', [x!.name, ...bounds], {}, l.name) };
});
