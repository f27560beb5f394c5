/**
 * MaxPool (dilations) / AveragePool (pads, ceil_mode, count_include_pad), GlobalAveragePool,
 * GlobalMaxPool.
 */
import {
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  MaxPooling2D,
  ZeroPadding2D,
} from '../../../../nn/layers/pooling.js';
import { registerOp } from '../context.js';
import { paddingArg, spatialSize, windowOf } from './window.js';

registerOp(['MaxPool', 'AveragePool'], (node, cx) => {
  const ks = cx.attr<number[]>(node, 'kernel_shape');
  if (ks?.length !== 2)
    throw cx.error(
      `kernel_shape ${JSON.stringify(ks)}: only 2-D pooling (two kernel sizes) is supported.`,
    );
  if (node.outputs[1] && cx.readers.get(node.outputs[1]))
    throw cx.error(
      'its second output (the argmax indices) is read by the graph; importOnnx has no layer for it.',
    );
  let x = cx.toNhwc(cx.tensorInput(node, 0));
  const win = windowOf(cx, node, spatialSize(cx, x), [ks[0]!, ks[1]!]);
  const dilated = win.dilations.some((d) => d !== 1);
  if (dilated && node.opType === 'AveragePool')
    throw cx.error(
      `dilations ${JSON.stringify(win.dilations)}: dilated average pooling is not supported.`,
    );
  const name = cx.layerName(node.name);
  let pads = win.pads;
  if (node.opType === 'AveragePool' && cx.attr<number>(node, 'count_include_pad', 0) === 1) {
    // The padding counts in the mean: pad with zeros first; only ceil_mode's extra pixels
    // (beyond the padded input) stay out of it, as in PyTorch and ONNX Runtime.
    const explicit = cx.attr<number[]>(node, 'pads');
    const autoPad = cx.attr<string>(node, 'auto_pad', 'NOTSET');
    const counted = autoPad === 'NOTSET' || autoPad === '' ? explicit : undefined;
    const zp: [[number, number], [number, number]] = counted
      ? [
          [counted[0]!, counted[2]!],
          [counted[1]!, counted[3]!],
        ]
      : [
          [pads[0][0], pads[0][1]],
          [pads[1][0], pads[1][1]],
        ];
    if (zp.flat().some((p) => p > 0)) {
      const zl = new ZeroPadding2D({ name: cx.layerName(`${node.name}_pad`), padding: zp });
      x = cx.tensor(cx.apply(zl, x.t), { kind: 'nhwc' });
      pads = [
        [0, pads[0][1] - zp[0][1]],
        [0, pads[1][1] - zp[1][1]],
      ];
    }
  }
  const args = { name, poolSize: win.kernel, strides: win.strides, padding: paddingArg(pads) };
  const layer =
    node.opType === 'MaxPool'
      ? new MaxPooling2D({
          ...args,
          ...(dilated ? { dilationRate: win.dilations as [number, number] } : {}),
        })
      : new AveragePooling2D(args);
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});

registerOp(['GlobalAveragePool', 'GlobalMaxPool'], (node, cx) => {
  const x = cx.toNhwc(cx.tensorInput(node, 0));
  const args = { name: cx.layerName(node.name), keepDims: true };
  const layer =
    node.opType === 'GlobalAveragePool'
      ? new GlobalAveragePooling2D(args)
      : new GlobalMaxPooling2D(args);
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});

// ReduceMean / ReduceMax over height and width (tf2onnx writes global pooling so).
registerOp(['ReduceMean', 'ReduceMax'], (node, cx) => {
  const v = cx.tensorInput(node, 0);
  const axesIn =
    cx.opset < 18 || !node.inputs[1]
      ? cx.attr<number[]>(node, 'axes')
      : [...cx.constInput(node, 1, 'axes').data];
  const rank = cx.rank(v);
  const axes = (axesIn ?? []).map((a) => (a < 0 ? a + rank : a)).sort();
  if (rank !== 4 || axes.join() !== '2,3')
    throw cx.error(
      `axes ${JSON.stringify(axesIn)} on rank ${rank}: only the mean or max over height and width of an image (axes [2, 3]) is supported.`,
    );
  const keepDims = cx.attr<number>(node, 'keepdims', 1) === 1;
  const x = cx.toNhwc(v);
  const args = { name: cx.layerName(node.name), keepDims };
  const layer =
    node.opType === 'ReduceMean' ? new GlobalAveragePooling2D(args) : new GlobalMaxPooling2D(args);
  cx.setOutput(
    node,
    cx.tensor(cx.apply(layer, x.t), keepDims ? { kind: 'nhwc' } : { kind: 'plain' }),
  );
});
