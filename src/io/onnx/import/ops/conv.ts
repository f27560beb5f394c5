/** Conv → Conv2D (groups) or DepthwiseConv2D (one group per input channel), weights OIHW → HWIO; ConvTranspose. */
import { Conv2D, Conv2DTranspose, DepthwiseConv2D } from '../../../../nn/layers/conv.js';
import { registerOp } from '../context.js';
import { permutedFloats } from '../decode.js';
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
  const depthwise = groups > 1 && groups === c && o % c === 0;
  // Output channel ci·m + j of ONNX is receptive's depthwise [kh, kw, ci, j].
  // Permuted when the layer builds, from the file's bytes (nothing of the import kept).
  const kernel = depthwise
    ? () => permutedFloats(w, [c, o / c, kh, kw], [2, 3, 0, 1])
    : () => permutedFloats(w, w.dims, [2, 3, 1, 0]);
  const common = {
    name: cx.weightLayerName(node, 1),
    kernelSize: win.kernel,
    strides: win.strides,
    dilationRate: win.dilations,
    padding: paddingArg(win.pads),
    useBias: b !== undefined,
    kernelInitializer: cx.fromFile(kernel, 'weights W'),
    ...(b ? { biasInitializer: cx.fromFile(floats(b.data), 'bias B') } : {}),
  };
  const layer = depthwise
    ? new DepthwiseConv2D({ ...common, depthMultiplier: o / c })
    : new Conv2D({ ...common, filters: o, groups });
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});

/** ConvTranspose → Conv2DTranspose; weights [in, out, kh, kw] → [kh, kw, out, in]. */
registerOp('ConvTranspose', (node, cx) => {
  const w = cx.constInput(node, 1, 'weights W');
  if (w.dims.length !== 4)
    throw cx.error(
      `its weights have shape [${w.dims.join(', ')}]; only 2-D transposed convolutions are supported.`,
    );
  if (cx.attr<number>(node, 'group', 1) !== 1)
    throw cx.error('a grouped transposed convolution is not supported.');
  const x = cx.toNhwc(cx.tensorInput(node, 0));
  const [ci, co, kh, kw] = w.dims as [number, number, number, number];
  if (x.t.shape[3] !== ci)
    throw cx.error(`its input has ${x.t.shape[3]} channels, its weights expect ${ci}.`);
  const size = spatialSize(cx, x);
  const strides = (cx.attr<number[]>(node, 'strides') ?? [1, 1]) as [number, number];
  const dilations = (cx.attr<number[]>(node, 'dilations') ?? [1, 1]) as [number, number];
  const outputPadding = [...(cx.attr<number[]>(node, 'output_padding') ?? [0, 0])] as [
    number,
    number,
  ];
  const autoPad = cx.attr<string>(node, 'auto_pad', 'NOTSET');
  const outputShape = cx.attr<number[]>(node, 'output_shape');
  const explicit = cx.attr<number[]>(node, 'pads') ?? [0, 0, 0, 0];
  const pads: [[number, number], [number, number]] = [
    [explicit[0]!, explicit[2]!],
    [explicit[1]!, explicit[3]!],
  ];
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape
      ? outputShape.slice(-2)
      : [size[0] * strides[0], size[1] * strides[1]];
    for (const a of [0, 1]) {
      const full =
        strides[a]! * (size[a]! - 1) + outputPadding[a]! + dilations[a]! * ([kh, kw][a]! - 1) + 1;
      const total = full - target[a]!;
      // A shortfall is made up with output padding after the end.
      if (total < 0) {
        outputPadding[a]! -= total;
        continue;
      }
      const half = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
    }
  } else if (autoPad !== 'NOTSET' && autoPad !== '' && autoPad !== 'VALID') {
    throw cx.error(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID.`);
  }
  const b = node.inputs[2] ? cx.constInput(node, 2, 'bias B') : undefined;
  const kernel = () => permutedFloats(w, w.dims, [2, 3, 1, 0]);
  let layer: Conv2DTranspose;
  try {
    layer = new Conv2DTranspose({
      name: cx.weightLayerName(node, 1),
      filters: co,
      kernelSize: [kh, kw],
      strides,
      dilationRate: dilations,
      padding: paddingArg(pads),
      outputPadding,
      useBias: b !== undefined,
      kernelInitializer: cx.fromFile(kernel, 'weights W'),
      ...(b ? { biasInitializer: cx.fromFile(floats(b.data), 'bias B') } : {}),
    });
  } catch (e) {
    throw cx.error((e as Error).message);
  }
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});
