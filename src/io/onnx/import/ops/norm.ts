/** BatchNormalization (inference form: the running statistics) on the channel axis, and LRN. */
import {
  BatchNormalization,
  LocalResponseNormalization,
} from '../../../../nn/layers/normalization.js';
import { registerOp } from '../context.js';
import { floats } from './window.js';

registerOp('BatchNormalization', (node, cx) => {
  if (
    cx.attr<number>(node, 'training_mode', 0) === 1 ||
    node.outputs.slice(1).some((o) => o && cx.readers.get(o))
  )
    throw cx.error(
      'it is in training mode (its batch statistics are outputs); importOnnx reads inference-mode BatchNormalization (export the model in eval mode).',
    );
  const v = cx.tensorInput(node, 0);
  const rank = cx.rank(v);
  if (rank !== 4 && rank !== 2)
    throw cx.error(
      `its input has rank ${rank}; BatchNormalization is imported for images (rank 4) and features (rank 2).`,
    );
  const x = rank === 4 ? cx.toNhwc(v) : cx.toPlain(v);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
    cx.constInput(node, i, ['scale', 'B', 'mean', 'var'][i - 1]!),
  );
  const epsilon = cx.attr<number>(node, 'epsilon', 1e-5);
  const momentum = cx.attr<number>(node, 'momentum', 0.9);
  const layer = new BatchNormalization({ name: cx.weightLayerName(node, 1), epsilon, momentum });
  const t = cx.apply(layer, x.t);
  cx.setWeights(
    layer,
    [scale!, bias!, mean!, variance!].map((c) => floats(c.data)),
  );
  cx.setOutput(node, cx.tensor(t, x.layout));
});

// ONNX's LRN sums over `size` channels around each one and scales alpha by 1/size; receptive's
// (TensorFlow's) sums over 2·depthRadius + 1 with alpha as it is. An even size has no centre.
registerOp('LRN', (node, cx) => {
  const size = cx.attr<number>(node, 'size');
  if (size === undefined || size % 2 !== 1)
    throw cx.error(`size ${size}: only an odd window (centred on each channel) is supported.`);
  const x = cx.toNhwc(cx.tensorInput(node, 0));
  const layer = new LocalResponseNormalization({
    name: cx.layerName(node.name),
    depthRadius: (size - 1) / 2,
    alpha: cx.attr<number>(node, 'alpha', 1e-4) / size,
    beta: cx.attr<number>(node, 'beta', 0.75),
    bias: cx.attr<number>(node, 'bias', 1),
  });
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
});
