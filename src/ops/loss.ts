/** Softmax cross-entropy, fused with log-softmax so that large logits stay finite. */
import { oneHot, type Tensor } from '../tensor.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../util/errors.js';
import { logSoftmax } from './activations.js';
import { mul, neg } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { expectTensor } from './util.js';

/**
 * Mean over the batch of −Σ labels · log softmax(logits).
 * logits: [batch, classes]; labels: one-hot (or probabilities) of the same shape, or int32 class ids [batch].
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const op = 'softmaxCrossEntropy';
  expectTensor(logits, op, 'logits', { rank: 2 });
  expectTensor(labels, op, 'labels', { rank: [1, 2] });
  if (logits.dtype !== 'float32')
    throw new DTypeError(`${op}: logits must be float32, got ${logits.dtype}.`);
  const [batch, classes] = logits.shape as [number, number];
  let target = labels;
  if (labels.rank === 1) {
    if (labels.dtype !== 'int32') {
      throw new DTypeError(
        `${op}: labels of shape ${fmtShape(labels.shape)} must be int32 class ids; for one-hot labels give shape [${batch}, ${classes}].`,
      );
    }
    if (labels.shape[0] !== batch) {
      throw new ShapeError(
        `${op}: logits ${fmtShape(logits.shape)} and labels ${fmtShape(labels.shape)} disagree on the batch size.`,
      );
    }
    const ids = labels.dataSync();
    const bad = ids.findIndex((k) => k < 0 || k >= classes);
    if (bad >= 0) {
      throw new ArgumentError(
        `${op}: labels[${bad}] = ${ids[bad]} is not a class id in 0..${classes - 1} (logits ${fmtShape(logits.shape)} have ${classes} classes).`,
      );
    }
    target = oneHot(labels, classes);
  } else if (labels.shape[0] !== batch || labels.shape[1] !== classes) {
    throw new ShapeError(
      `${op}: one-hot labels must have the shape of the logits ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}.`,
    );
  } else if (labels.dtype !== 'float32') {
    throw new DTypeError(`${op}: one-hot labels must be float32, got ${labels.dtype}.`);
  }
  return mean(neg(sum(mul(target, logSoftmax(logits, -1)), -1)));
}
