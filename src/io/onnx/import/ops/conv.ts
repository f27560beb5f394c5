/** Conv → Conv2D (groups) or DepthwiseConv2D (one group per input channel), weights OIHW → HWIO. */
import { Conv2D, DepthwiseConv2D } from '../../../../nn/layers/conv.js';
import { permuteArray, registerOp } from '../context.js';
import { floats, paddingArg, spatialSize, windowOf } from './window.js';

registerOp('Conv', (node, cx) => {
  const w = cx.constInput(node, 1, 'weights W');
  if (w.dims.length !== 4)
    throw cx.error(
      `its weights have shape [${w.dims.join(', ')}]; only 2-D convolutions (weights [out, in/groups, kh, kw]) are supported.`,
    );
  const x = cx.toNhwc(cx.tensorInput(node, 0));
  const [o, ig, kh, kw] = w.dims as [number, number, number, number];
  const groups = cx.attr<number>(node, 'group', 1);
  const c = x.t.shape[3];
  if (c !== ig! * groups)
    throw cx.error(
      `its input has ${c} channels, its weights [${w.dims.join(', ')}] with group ${groups} expect ${ig * groups}.`,
    );
  const ks = cx.attr<number[]>(node, 'kernel_shape');
  if (ks && (ks[0] !== kh || ks[1] !== kw))
    throw cx.error(
      `kernel_shape ${JSON.stringify(ks)} does not match its weights [${w.dims.join(', ')}].`,
    );
  const win = windowOf(cx, node, spatialSize(cx, x), [kh, kw]);
  const b = node.inputs[2] ? cx.constInput(node, 2, 'bias B') : undefined;
  const common = {
    name: cx.layerName(node.name),
    kernelSize: win.kernel,
    strides: win.strides,
    dilationRate: win.dilations,
    padding: paddingArg(win.pads),
    useBias: b !== undefined,
  };
  let layer: Conv2D | DepthwiseConv2D;
  let kernel: Float32Array;
  if (groups > 1 && groups === c && o % c === 0) {
    // Output channel ci·m + j of ONNX is receptive's depthwise [kh, kw, ci, j].
    const m = o / c;
    layer = new DepthwiseConv2D({ ...common, depthMultiplier: m });
    kernel = floats(permuteArray(w.data, [c, m, kh, kw], [2, 3, 0, 1]).data);
  } else {
    layer = new Conv2D({ ...common, filters: o, groups });
    kernel = floats(permuteArray(w.data, w.dims, [2, 3, 1, 0]).data);
  }
  const t = cx.apply(layer, x.t);
  cx.setWeights(layer, b ? [kernel, floats(b.data)] : [kernel]);
  cx.setOutput(node, cx.tensor(t, { kind: 'nhwc' }));
});
