/** ONNX for GoogLeNet's InceptionModule: four branches of Conv (+ BN) + activation, concatenated. */
import { InceptionModule } from '../../../nn/layers/inception.js';
import { type ExportContext, registerOnnxExporter } from '../context.js';
import { attr, type Value } from '../graph.js';
import { windowAttrs } from './conv.js';

type Unit = InceptionModule['branch1x1'];

function exportInception(l: InceptionModule, [x]: Value[], ctx: ExportContext): Value {
  const g = ctx.graph;
  const v = g.toNCHW(x!);
  const run = (u: Unit, input: Value): Value => {
    const y = ctx.layer(u.conv, [input]);
    // Without batch norm the convolution applies the activation itself.
    return u.bn ? ctx.activation(ctx.layer(u.bn, [y]), l.activation, `${u.bn.name}_act`) : y;
  };
  const poolAttrs = windowAttrs(v.shape, [3, 3], [1, 1], [1, 1], 'same');
  const pooled: Value = { ...v, name: g.node('MaxPool', [v.name], poolAttrs, `${l.name}/pool`) };
  const branches = [
    run(l.branch1x1, v),
    run(l.branch3x3, run(l.branch3x3Reduce, v)),
    run(l.branch5x5, run(l.branch5x5Reduce, v)),
    run(l.branchPoolProj, pooled),
  ].map((b) => g.toNCHW(b));
  const out = g.node(
    'Concat',
    branches.map((b) => b.name),
    { axis: attr.int(1) },
    l.name,
  );
  return { name: out, shape: ctx.outShape(l, [x!]), nchw: true };
}

registerOnnxExporter(InceptionModule.className, exportInception);
