/**
 * Bad input, table-driven: each row calls an op with something wrong and expects a
 * ReceptiveError subclass whose message names the op and shows the shapes involved,
 * thrown before anything is computed (so no NaN can leak out).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { withBackend } from '../helpers.js';

type ErrorClass = new (message: string) => rc.ReceptiveError;

interface Row {
  name: string;
  run: () => unknown;
  error: ErrorClass;
  /** Every one must occur in the message: the op's name, the shapes, the hint. */
  message: (string | RegExp)[];
}

const z = (...shape: number[]) => rc.zeros(shape);
const ids = (values: number[]) => rc.tensor(values, [values.length], 'int32');
const stats = (c: number) => [z(c), rc.ones([c]), rc.ones([c]), z(c)] as const;

const rows: Row[] = [
  // ---- pad ------------------------------------------------------------------------------------
  {
    name: 'pad: unknown mode',
    run: () =>
      rc.pad(
        z(2, 3),
        [
          [0, 0],
          [1, 1],
        ],
        { mode: 'wrap' as rc.PadMode },
      ),
    error: rc.ArgumentError,
    message: ['pad', /mode/, /'reflect'/, /wrap/],
  },
  {
    name: 'pad: reflection as wide as the axis',
    run: () =>
      rc.pad(
        z(2, 3),
        [
          [0, 0],
          [1, 3],
        ],
        { mode: 'reflect' },
      ),
    error: rc.ShapeError,
    message: ['pad', '[2, 3]', /at most 2/],
  },
  {
    name: 'pad: edge copies of an empty axis',
    run: () =>
      rc.pad(
        z(2, 0),
        [
          [0, 0],
          [1, 0],
        ],
        { mode: 'edge' },
      ),
    error: rc.ShapeError,
    message: ['pad', '[2, 0]', /empty/],
  },
  {
    name: 'pad: a value with mode reflect',
    run: () =>
      rc.pad(
        z(2, 3),
        [
          [0, 0],
          [1, 1],
        ],
        { mode: 'reflect', value: 2 },
      ),
    error: rc.ArgumentError,
    message: ['pad', /value 2/, /'constant'/],
  },
  {
    name: 'pad: NaN value',
    run: () =>
      rc.pad(
        z(2, 3),
        [
          [0, 0],
          [1, 1],
        ],
        Number.NaN,
      ),
    error: rc.ArgumentError,
    message: ['pad', /value/, /null|NaN/],
  },
  // ---- conv2d ---------------------------------------------------------------------------------
  {
    name: 'conv2d: kernel input channels differ from the input',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 2, 4)),
    error: rc.ShapeError,
    message: ['conv2d', '[1, 5, 5, 3]', '[3, 3, 2, 4]'],
  },
  {
    name: 'conv2d: kernel larger than the input',
    run: () => rc.conv2d(z(1, 3, 3, 1), z(5, 5, 1, 1)),
    error: rc.ShapeError,
    message: ['conv2d', '[1, 3, 3, 1]', '[5, 5, 1, 1]', /larger/],
  },
  {
    name: 'conv2d: kernel larger than the padded input',
    run: () => rc.conv2d(z(1, 3, 3, 1), z(6, 6, 1, 1), { padding: 1 }),
    error: rc.ShapeError,
    message: ['conv2d', '[1, 3, 3, 1]', '[6, 6, 1, 1]', /5x5/],
  },
  {
    name: 'conv2d: dilated kernel larger than the input',
    run: () => rc.conv2d(z(1, 4, 4, 1), z(3, 3, 1, 1), { dilationRate: 2 }),
    error: rc.ShapeError,
    message: ['conv2d', '[1, 4, 4, 1]', '[3, 3, 1, 1]', /dilation/],
  },
  {
    name: 'conv2d: groups do not divide the channels',
    run: () => rc.conv2d(z(1, 5, 5, 4), z(3, 3, 2, 4), { groups: 3 }),
    error: rc.ShapeError,
    message: ['conv2d', /groups/, '[1, 5, 5, 4]', '[3, 3, 2, 4]'],
  },
  {
    name: 'conv2d: groups do not divide the filters',
    run: () => rc.conv2d(z(1, 5, 5, 4), z(3, 3, 2, 3), { groups: 2 }),
    error: rc.ShapeError,
    message: ['conv2d', /groups/, '[1, 5, 5, 4]', '[3, 3, 2, 3]'],
  },
  {
    name: 'conv2d: groups 0',
    run: () => rc.conv2d(z(1, 5, 5, 4), z(3, 3, 4, 4), { groups: 0 }),
    error: rc.ArgumentError,
    message: ['conv2d', /groups/],
  },
  {
    name: 'conv2d: rank-3 input (a single image without its batch axis)',
    run: () => rc.conv2d(z(5, 5, 3), z(3, 3, 3, 4)),
    error: rc.ShapeError,
    message: ['conv2d', '[5, 5, 3]', /batch axis/, /expandDims/],
  },
  {
    name: 'conv2d: rank-2 kernel',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3)),
    error: rc.ShapeError,
    message: ['conv2d', 'kernel', '[3, 3]'],
  },
  {
    name: 'conv2d: int32 input',
    run: () => rc.conv2d(rc.zeros([1, 5, 5, 3], 'int32'), z(3, 3, 3, 4)),
    error: rc.DTypeError,
    message: ['conv2d', /int32/, /float32/],
  },
  {
    name: "conv2d: padding 'SAME' (wrong case)",
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { padding: 'SAME' as rc.Padding }),
    error: rc.ArgumentError,
    message: ['conv2d', /padding/, /'same'/, /SAME/],
  },
  {
    name: "conv2d: padding 'full'",
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { padding: 'full' as rc.Padding }),
    error: rc.ArgumentError,
    message: ['conv2d', /padding/, /full/],
  },
  {
    name: 'conv2d: negative padding',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { padding: -1 }),
    error: rc.ArgumentError,
    message: ['conv2d', /padding/],
  },
  {
    name: 'conv2d: malformed explicit padding',
    run: () =>
      rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), {
        padding: [[1, 1]] as unknown as rc.Padding,
      }),
    error: rc.ArgumentError,
    message: ['conv2d', /padding/, /\[\[top, bottom\], \[left, right\]\]/],
  },
  {
    name: 'conv2d: strides 0',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { strides: 0 }),
    error: rc.ArgumentError,
    message: ['conv2d', /strides/, /0/],
  },
  {
    name: 'conv2d: strides 1.5',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { strides: 1.5 }),
    error: rc.ArgumentError,
    message: ['conv2d', /strides/, /1\.5/],
  },
  {
    name: 'conv2d: strides [2, 0]',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { strides: [2, 0] }),
    error: rc.ArgumentError,
    message: ['conv2d', /strides/, /\[2,0\]/],
  },
  {
    name: 'conv2d: dilationRate 0',
    run: () => rc.conv2d(z(1, 5, 5, 3), z(3, 3, 3, 4), { dilationRate: 0 }),
    error: rc.ArgumentError,
    message: ['conv2d', /dilationRate/],
  },

  // ---- depthwiseConv2d, conv2dTranspose ------------------------------------------------------
  {
    name: 'depthwiseConv2d: kernel channels differ from the input',
    run: () => rc.depthwiseConv2d(z(1, 5, 5, 3), z(3, 3, 2, 1)),
    error: rc.ShapeError,
    message: ['depthwiseConv2d', '[1, 5, 5, 3]', '[3, 3, 2, 1]'],
  },
  {
    name: 'depthwiseConv2d: rank-3 input',
    run: () => rc.depthwiseConv2d(z(5, 5, 3), z(3, 3, 3, 1)),
    error: rc.ShapeError,
    message: ['depthwiseConv2d', '[5, 5, 3]', /batch axis/],
  },
  {
    name: 'depthwiseConv2d: strides 1.5',
    run: () => rc.depthwiseConv2d(z(1, 5, 5, 3), z(3, 3, 3, 1), { strides: 1.5 }),
    error: rc.ArgumentError,
    message: ['depthwiseConv2d', /strides/],
  },
  {
    name: 'conv2dTranspose: kernel input channels differ from the input',
    run: () => rc.conv2dTranspose(z(1, 3, 3, 2), z(3, 3, 4, 3)),
    error: rc.ShapeError,
    message: ['conv2dTranspose', '[1, 3, 3, 2]', '[3, 3, 4, 3]'],
  },
  {
    name: 'conv2dTranspose: outputPadding equal to the stride',
    run: () => rc.conv2dTranspose(z(1, 3, 3, 2), z(3, 3, 4, 2), { strides: 2, outputPadding: 2 }),
    error: rc.ArgumentError,
    message: ['conv2dTranspose', /outputPadding/, /stride/],
  },
  {
    name: 'conv2dTranspose: outputPadding with stride 1',
    run: () => rc.conv2dTranspose(z(1, 3, 3, 2), z(3, 3, 4, 2), { outputPadding: [0, 1] }),
    error: rc.ArgumentError,
    message: ['conv2dTranspose', /outputPadding/],
  },
  {
    name: "conv2dTranspose: padding 'causal'",
    run: () =>
      rc.conv2dTranspose(z(1, 3, 3, 2), z(3, 3, 4, 2), { padding: 'causal' as rc.Padding }),
    error: rc.ArgumentError,
    message: ['conv2dTranspose', /padding/, /causal/],
  },
  {
    name: 'conv2dTranspose: strides 0',
    run: () => rc.conv2dTranspose(z(1, 3, 3, 2), z(3, 3, 4, 2), { strides: 0 }),
    error: rc.ArgumentError,
    message: ['conv2dTranspose', /strides/],
  },
  {
    name: 'conv2dTranspose: padding crops away the whole output',
    run: () => rc.conv2dTranspose(z(1, 1, 1, 2), z(1, 1, 4, 2), { padding: 1 }),
    error: rc.ShapeError,
    message: ['conv2dTranspose', '[1, 1, 1, 2]'],
  },

  // ---- pooling ---------------------------------------------------------------------------------
  {
    name: 'maxPool2d: rank-3 input',
    run: () => rc.maxPool2d(z(4, 4, 1)),
    error: rc.ShapeError,
    message: ['maxPool2d', '[4, 4, 1]', /batch axis/],
  },
  {
    name: 'avgPool2d: rank-3 input',
    run: () => rc.avgPool2d(z(4, 4, 1)),
    error: rc.ShapeError,
    message: ['avgPool2d', '[4, 4, 1]', /batch axis/],
  },
  {
    name: 'maxPool2d: window larger than the input',
    run: () => rc.maxPool2d(z(1, 2, 2, 1), { poolSize: 3 }),
    error: rc.ShapeError,
    message: ['maxPool2d', '[1, 2, 2, 1]', /3x3/, /larger/],
  },
  {
    name: 'maxPool2d: explicit padding as large as the window (a window wholly in the padding)',
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { poolSize: 2, strides: 2, padding: 2 }),
    error: rc.ShapeError,
    message: ['maxPool2d', '[1, 4, 4, 1]', /wholly in the padding/],
  },
  {
    name: 'avgPool2d: window larger than the input',
    run: () => rc.avgPool2d(z(1, 4, 2, 1), { poolSize: [2, 3] }),
    error: rc.ShapeError,
    message: ['avgPool2d', '[1, 4, 2, 1]', /2x3/],
  },
  {
    name: "maxPool2d: padding 'full'",
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { padding: 'full' as rc.Padding }),
    error: rc.ArgumentError,
    message: ['maxPool2d', /padding/, /full/],
  },
  {
    name: 'avgPool2d: strides 1.5',
    run: () => rc.avgPool2d(z(1, 4, 4, 1), { strides: 1.5 }),
    error: rc.ArgumentError,
    message: ['avgPool2d', /strides/, /1\.5/],
  },
  {
    name: 'maxPool2d: strides 0',
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { strides: 0 }),
    error: rc.ArgumentError,
    message: ['maxPool2d', /strides/],
  },
  {
    name: 'maxPool2d: dilationRate 0',
    run: () => rc.maxPool2d(z(1, 6, 6, 1), { poolSize: 2, dilationRate: 0 }),
    error: rc.ArgumentError,
    message: ['maxPool2d', /dilationRate/],
  },
  {
    name: 'maxPool2d: dilationRate NaN',
    run: () => rc.maxPool2d(z(1, 6, 6, 1), { poolSize: 2, dilationRate: Number.NaN }),
    error: rc.ArgumentError,
    message: ['maxPool2d', /dilationRate/, /NaN/],
  },
  {
    name: 'maxPool2d: a dilated window wider than the input',
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { poolSize: 3, dilationRate: 2 }),
    error: rc.ShapeError,
    message: ['maxPool2d', '[1, 4, 4, 1]'],
  },
  {
    name: 'maxPool2d: poolSize 0',
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { poolSize: 0 }),
    error: rc.ArgumentError,
    message: ['maxPool2d', /poolSize/],
  },

  // ---- matmul, broadcasting, movement ----------------------------------------------------------
  {
    name: 'matmul: inner dimensions differ',
    run: () => rc.matmul(z(2, 3), z(4, 5)),
    error: rc.ShapeError,
    message: ['matmul', '[2, 3]', '[4, 5]'],
  },
  {
    name: 'matmul: inner dimensions differ after transposeB',
    run: () => rc.matmul(z(2, 3), z(3, 5), false, true),
    error: rc.ShapeError,
    message: ['matmul', '[2, 3]', '[3, 5]'],
  },
  {
    name: 'matmul: batch sizes differ',
    run: () => rc.matmul(z(2, 3, 4), z(3, 4, 5)),
    error: rc.ShapeError,
    message: ['matmul', '[2, 3, 4]', '[3, 4, 5]'],
  },
  {
    name: 'matmul: matrix with a batch of matrices',
    run: () => rc.matmul(z(3, 4), z(2, 4, 5)),
    error: rc.ShapeError,
    message: ['matmul', '[3, 4]', '[2, 4, 5]'],
  },
  {
    name: 'matmul: rank 1',
    run: () => rc.matmul(z(3), z(3, 2)),
    error: rc.ShapeError,
    message: ['matmul', '[3]'],
  },
  {
    name: 'add: shapes that cannot broadcast',
    run: () => rc.add(z(2, 3), z(4)),
    error: rc.ShapeError,
    message: ['add', '[2, 3]', '[4]', /broadcast/],
  },
  {
    name: 'mul: shapes that cannot broadcast',
    run: () => rc.mul(z(2, 3, 4), z(3, 2, 1)),
    error: rc.ShapeError,
    message: ['mul', '[2, 3, 4]', '[3, 2, 1]', /broadcast/],
  },
  {
    name: 'sub: int32 operand',
    run: () => rc.sub(z(2), rc.tensor([1, 2], [2], 'int32')),
    error: rc.DTypeError,
    message: ['sub', /int32/],
  },
  {
    name: 'broadcastTo: a shape it cannot reach',
    run: () => rc.broadcastTo(z(2, 3), [4, 3]),
    error: rc.ShapeError,
    message: ['broadcastTo', '[2, 3]', '[4, 3]'],
  },
  {
    name: 'where: mask of another shape',
    run: () => rc.where(z(2, 2), z(2, 3), z(2, 3)),
    error: rc.ShapeError,
    message: ['where', '[2, 2]', '[2, 3]'],
  },
  {
    name: 'reshape: a different number of values',
    run: () => rc.reshape(z(2, 3), [4, 2]),
    error: rc.ShapeError,
    message: ['reshape', '[2, 3]', '[4, 2]'],
  },
  {
    name: 'reshape: -1 that cannot be inferred',
    run: () => rc.reshape(z(2, 3), [4, -1]),
    error: rc.ShapeError,
    message: ['reshape', '[2, 3]', '[4, -1]'],
  },
  {
    name: 'reshape: two -1',
    run: () => rc.reshape(z(2, 3), [-1, -1]),
    error: rc.ArgumentError,
    message: ['reshape', '[-1, -1]'],
  },
  {
    name: 'concat: shapes differ off the axis',
    run: () => rc.concat([z(2, 3), z(3, 3)], 1),
    error: rc.ShapeError,
    message: ['concat', '[2, 3]', '[3, 3]'],
  },
  {
    name: 'concat: ranks differ',
    run: () => rc.concat([z(2, 3), z(2, 3, 1)], 0),
    error: rc.ShapeError,
    message: ['concat', '[2, 3]', '[2, 3, 1]'],
  },
  {
    name: 'concat: axis out of range',
    run: () => rc.concat([z(2, 3), z(2, 3)], 2),
    error: rc.ArgumentError,
    message: ['concat', /axis 2/],
  },
  {
    name: 'stack: shapes differ',
    run: () => rc.stack([z(2, 3), z(2, 4)]),
    error: rc.ShapeError,
    message: ['stack', '[2, 3]', '[2, 4]'],
  },
  {
    name: 'slice: past the end',
    run: () => rc.slice(z(2, 3), [0, 2], [1, 2]),
    error: rc.ShapeError,
    message: ['slice', '[2, 3]', /axis 1/],
  },
  {
    name: 'slice: negative begin',
    run: () => rc.slice(z(2, 3), [-1, 0], [1, 1]),
    error: rc.ShapeError,
    message: ['slice', '[2, 3]'],
  },
  {
    name: 'slice: begin of the wrong rank',
    run: () => rc.slice(z(2, 3), [0], [1]),
    error: rc.ShapeError,
    message: ['slice', '[2, 3]', '[0]'],
  },
  {
    name: 'pad: a pair per axis is missing',
    run: () => rc.pad(z(2, 3), [[1, 1]]),
    error: rc.ArgumentError,
    message: ['pad', '[2, 3]'],
  },
  {
    name: 'transpose: not a permutation',
    run: () => rc.transpose(z(2, 3, 4), [0, 0, 1]),
    error: rc.ArgumentError,
    message: ['transpose', '[2, 3, 4]'],
  },
  {
    name: 'squeeze: an axis that is not 1',
    run: () => rc.squeeze(z(2, 1, 3), [0]),
    error: rc.ShapeError,
    message: ['squeeze', '[2, 1, 3]'],
  },
  {
    name: 'sum: axis out of range',
    run: () => rc.sum(z(2, 3), 2),
    error: rc.ArgumentError,
    message: ['sum', /axis 2/, /rank 2/],
  },
  {
    name: 'softmax: axis out of range',
    run: () => rc.softmax(z(2, 3), -3),
    error: rc.ArgumentError,
    message: ['softmax', /axis -3/],
  },

  // ---- creating tensors ------------------------------------------------------------------------
  {
    name: 'zeros: a non-integer dimension',
    run: () => rc.zeros([2, 1.5]),
    error: rc.ShapeError,
    message: ['zeros', '[2, 1.5]'],
  },
  {
    name: 'ones: a negative dimension',
    run: () => rc.ones([-1, 2]),
    error: rc.ShapeError,
    message: ['ones', '[-1, 2]'],
  },
  {
    name: 'tensor: a non-integer dimension',
    run: () => rc.tensor([1, 2, 3], [1.5, 2]),
    error: rc.ShapeError,
    message: ['tensor', '[1.5, 2]'],
  },
  {
    name: 'tensor: values that do not fill the shape',
    run: () => rc.tensor([1, 2, 3], [2, 2]),
    error: rc.ShapeError,
    message: ['tensor', '[2, 2]', /3 values/],
  },
  {
    name: 'tensor: ragged rows',
    run: () => rc.tensor([[1, 2], [3]]),
    error: rc.ShapeError,
    message: ['tensor', /ragged/, '[2, 2]'],
  },
  {
    name: 'tensor: a number where a row should be',
    run: () => rc.tensor([[1, 2], 3] as rc.NestedArray),
    error: rc.ShapeError,
    message: ['tensor', /ragged/],
  },
  {
    name: 'tensor: a row where a number should be',
    run: () => rc.tensor([1, [2, 3]] as rc.NestedArray),
    error: rc.ShapeError,
    message: ['tensor', /ragged/, '[2]'],
  },
  {
    name: 'tensor: deeper raggedness',
    run: () =>
      rc.tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    error: rc.ShapeError,
    message: ['tensor', /ragged/, '[2, 2, 1]'],
  },
  {
    name: 'tensor: int32 from fractions',
    run: () => rc.tensor([1, 2.5], [2], 'int32'),
    error: rc.DTypeError,
    message: ['tensor', /int32/, /2\.5/],
  },
  {
    name: 'oneHot: depth 0',
    run: () => rc.oneHot([0, 1], 0),
    error: rc.ArgumentError,
    message: ['oneHot', /depth/],
  },

  // ---- loss, normalization, dropout ------------------------------------------------------------
  {
    name: 'softmaxCrossEntropy: one-hot labels of the wrong shape',
    run: () => rc.softmaxCrossEntropy(z(4, 5), z(4, 3)),
    error: rc.ShapeError,
    message: ['softmaxCrossEntropy', '[4, 5]', '[4, 3]'],
  },
  {
    name: 'softmaxCrossEntropy: class ids for another batch size',
    run: () => rc.softmaxCrossEntropy(z(4, 5), ids([0, 1, 2])),
    error: rc.ShapeError,
    message: ['softmaxCrossEntropy', '[4, 5]', '[3]'],
  },
  {
    name: 'softmaxCrossEntropy: float labels of rank 1',
    run: () => rc.softmaxCrossEntropy(z(4, 5), z(4)),
    error: rc.DTypeError,
    message: ['softmaxCrossEntropy', '[4]', /int32/, '[4, 5]'],
  },
  {
    name: 'softmaxCrossEntropy: int32 one-hot labels',
    run: () => rc.softmaxCrossEntropy(z(2, 2), rc.tensor([1, 0, 0, 1], [2, 2], 'int32')),
    error: rc.DTypeError,
    message: ['softmaxCrossEntropy', /float32/],
  },
  {
    name: 'softmaxCrossEntropy: a class id ≥ the number of classes',
    run: () => rc.softmaxCrossEntropy(z(4, 5), ids([0, 5, 1, 2])),
    error: rc.ArgumentError,
    message: ['softmaxCrossEntropy', /5/, /0\.\.4/, '[4, 5]'],
  },
  {
    name: 'softmaxCrossEntropy: a negative class id',
    run: () => rc.softmaxCrossEntropy(z(4, 5), ids([0, -1, 1, 2])),
    error: rc.ArgumentError,
    message: ['softmaxCrossEntropy', /-1/, /0\.\.4/],
  },
  {
    name: 'softmaxCrossEntropy: rank-3 logits',
    run: () => rc.softmaxCrossEntropy(z(2, 4, 5), ids([0, 1])),
    error: rc.ShapeError,
    message: ['softmaxCrossEntropy', '[2, 4, 5]'],
  },
  {
    name: 'batchNorm: mean with the wrong number of channels',
    run: () => rc.batchNorm(z(2, 4, 4, 3), z(4), rc.ones([3]), rc.ones([3]), z(3)),
    error: rc.ShapeError,
    message: ['batchNorm', 'mean', '[2, 4, 4, 3]', '[4]'],
  },
  {
    name: 'batchNorm: variance of rank 2',
    run: () => rc.batchNorm(z(2, 4, 4, 3), z(3), rc.ones([1, 3]), rc.ones([3]), z(3)),
    error: rc.ShapeError,
    message: ['batchNorm', 'variance', '[2, 4, 4, 3]', '[1, 3]'],
  },
  {
    name: 'batchNorm: gamma for another layer',
    run: () => rc.batchNorm(z(2, 3), z(3), rc.ones([3]), rc.ones([2]), z(3)),
    error: rc.ShapeError,
    message: ['batchNorm', 'gamma', '[2, 3]', '[2]'],
  },
  {
    name: 'batchNorm: epsilon NaN',
    run: () => rc.batchNorm(z(2, 3), ...stats(3), Number.NaN),
    error: rc.NonFiniteError,
    message: ['batchNorm', /epsilon/, /NaN/],
  },
  {
    // Without the check, a constant channel (variance 0) would give 0 / 0 = NaN.
    name: 'batchNorm: epsilon 0 with a constant channel',
    run: () => rc.batchNorm(z(2, 3), z(3), z(3), rc.ones([3]), z(3), 0),
    error: rc.ArgumentError,
    message: ['batchNorm', /epsilon/, /positive/],
  },
  {
    name: 'localResponseNorm: alpha Infinity',
    run: () => rc.localResponseNorm(z(1, 2, 2, 3), { alpha: Number.POSITIVE_INFINITY }),
    error: rc.NonFiniteError,
    message: ['localResponseNorm', /alpha/, /Infinity/],
  },
  {
    name: 'localResponseNorm: bias NaN',
    run: () => rc.localResponseNorm(z(1, 2, 2, 3), { bias: Number.NaN }),
    error: rc.NonFiniteError,
    message: ['localResponseNorm', /bias/],
  },
  {
    name: 'localResponseNorm: negative depthRadius',
    run: () => rc.localResponseNorm(z(1, 2, 2, 3), { depthRadius: -1 }),
    error: rc.ArgumentError,
    message: ['localResponseNorm', /depthRadius/],
  },
  {
    name: 'localResponseNorm: rank-3 input',
    run: () => rc.localResponseNorm(z(2, 2, 3)),
    error: rc.ShapeError,
    message: ['localResponseNorm', '[2, 2, 3]', /batch axis/],
  },
  {
    name: 'dropout: rate 1',
    run: () => rc.dropout(z(2, 3), 1),
    error: rc.ArgumentError,
    message: ['dropout', /rate/],
  },
  {
    name: 'dropout: rate NaN',
    run: () => rc.dropout(z(2, 3), Number.NaN),
    error: rc.ArgumentError,
    message: ['dropout', /rate/, /NaN/],
  },

  // ---- not a tensor, or a tensor of another backend ---------------------------------------------
  {
    name: 'relu: a plain array instead of a tensor',
    run: () => rc.relu([1, 2] as unknown as rc.Tensor),
    error: rc.ArgumentError,
    message: ['relu', /Tensor/],
  },
  {
    name: 'conv2d: null kernel',
    run: () => rc.conv2d(z(1, 3, 3, 1), null as unknown as rc.Tensor),
    error: rc.ArgumentError,
    message: ['conv2d', /kernel/, /null/],
  },
  // ---- resize ---------------------------------------------------------------------------------
  {
    name: 'resize: rank-3 input',
    run: () => rc.resize(z(4, 4, 1), [8, 8]),
    error: rc.ShapeError,
    message: ['resize', '[4, 4, 1]', /batch axis/],
  },
  {
    name: 'resize: a size that is not two positive integers',
    run: () => rc.resize(z(1, 4, 4, 1), [8, 0]),
    error: rc.ArgumentError,
    message: ['resize', '[height, width]', '[8,0]'],
  },
  {
    name: 'resize: an absurd size',
    run: () => rc.resize(z(1, 4, 4, 1), [1e9, 8]),
    error: rc.ArgumentError,
    message: ['resize', '65536'],
  },
  {
    name: 'resize: an unknown method',
    run: () => rc.resize(z(1, 4, 4, 1), [8, 8], { method: 'bicubic' as 'bilinear' }),
    error: rc.ArgumentError,
    message: ['resize', "'bilinear', 'nearest'", 'bicubic'],
  },
  {
    name: 'resize: a misspelled option',
    run: () => rc.resize(z(1, 4, 4, 1), [8, 8], { coordinate: 'asymmetric' } as rc.ResizeOptions),
    error: rc.ArgumentError,
    message: ['resize', 'coordinate', 'coordinates'],
  },
  {
    name: 'resize: an image with no pixels',
    run: () => rc.resize(z(1, 0, 4, 1), [8, 8]),
    error: rc.ArgumentError,
    message: ['resize', '[1, 0, 4, 1]', 'no pixels'],
  },
  {
    name: 'avgPool2d: a dilated window',
    run: () => rc.avgPool2d(z(1, 6, 6, 1), { poolSize: 2, dilationRate: 2 }),
    error: rc.ArgumentError,
    message: ['avgPool2d', 'dilationRate', /only max pooling/],
  },
  {
    name: 'maxPool2d: dilated taps that all fall in the padding',
    run: () =>
      rc.maxPool2d(z(1, 1, 4, 1), {
        poolSize: [2, 1],
        padding: [
          [1, 2],
          [0, 0],
        ],
        dilationRate: [2, 1],
      }),
    error: rc.ShapeError,
    message: ['maxPool2d', '[1, 1, 4, 1]', /all fall in the padding/],
  },
  {
    name: 'maxPool2d: a dilated window larger than the input',
    run: () => rc.maxPool2d(z(1, 4, 4, 1), { poolSize: 3, dilationRate: 2 }),
    error: rc.ShapeError,
    message: ['maxPool2d', /dilation 2x2/, /spans 5x5/],
  },
  {
    name: 'resize: a factor of 0',
    run: () => rc.resize(z(1, 4, 4, 1), [8, 8], { scale: [2, 0] }),
    error: rc.ArgumentError,
    message: ['resize', 'scale', '[2,0]'],
  },
  {
    name: 'pad: a misspelled option',
    run: () =>
      rc.pad(
        z(2, 3),
        [
          [0, 0],
          [1, 1],
        ],
        { mdoe: 'edge' } as rc.PadOptions,
      ),
    error: rc.ArgumentError,
    message: ['pad', 'mdoe', 'mode'],
  },
];

/** Rows that mix tensors of two backends: made under 'js-f64', used under 'js'. */
function crossBackendRows(): Row[] {
  const [a, img, k] = withBackend('js-f64', () => [z(2, 3), z(1, 4, 4, 1), z(3, 3, 1, 1)]);
  const others = withBackend('js', () => [z(2, 3), z(1, 4, 4, 1), z(3, 3, 1, 1)]);
  const message = (op: string) => [op, /js-f64/, /'js'/];
  return [
    {
      name: 'add: a js-f64 tensor under js',
      run: () => rc.add(others[0]!, a!),
      error: rc.BackendError,
      message: message('add'),
    },
    {
      name: 'conv2d: a js-f64 input under js',
      run: () => rc.conv2d(img!, others[2]!),
      error: rc.BackendError,
      message: message('conv2d'),
    },
    {
      name: 'conv2d: a js-f64 kernel under js',
      run: () => rc.conv2d(others[1]!, k!),
      error: rc.BackendError,
      message: message('conv2d'),
    },
    {
      name: 'reshape: a js-f64 tensor under js',
      run: () => rc.reshape(a!, [3, 2]),
      error: rc.BackendError,
      message: message('reshape'),
    },
    {
      name: 'maxPool2d: a js-f64 tensor under js',
      run: () => rc.maxPool2d(img!),
      error: rc.BackendError,
      message: message('maxPool2d'),
    },
  ];
}

function hasNaN(result: unknown): boolean {
  const ts = Array.isArray(result) ? result : [result];
  return ts.some((t) => t instanceof rc.Tensor && Array.from(t.dataSync()).some(Number.isNaN));
}

function checkRow(row: Row): void {
  let result: unknown;
  let error: unknown;
  try {
    result = row.run();
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    assert.fail(
      `${row.name}: no error was thrown; it returned ${hasNaN(result) ? 'NaN values' : String(result)}`,
    );
  }
  assert.ok(
    error instanceof row.error,
    `${row.name}: expected ${row.error.name}, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
  );
  assert.ok(error instanceof rc.ReceptiveError);
  const msg = (error as Error).message;
  for (const part of row.message) {
    const found = typeof part === 'string' ? msg.includes(part) : part.test(msg);
    assert.ok(found, `${row.name}: message lacks ${String(part)}:\n  ${msg}`);
  }
}

for (const row of rows) {
  test(row.name, () => withBackend('js', () => checkRow(row)));
}

test('tensors of another backend are refused, naming the op and both backends', () => {
  withBackend('js', () => {
    for (const row of crossBackendRows()) checkRow(row);
  });
});

test('each error message starts with the op that threw it', () => {
  for (const row of rows) {
    try {
      row.run();
    } catch (e) {
      const op = row.message[0] as string;
      assert.ok((e as Error).message.startsWith(`${op}:`), `${row.name}: ${(e as Error).message}`);
    }
  }
});

test('error classes are ReceptiveErrors with their own names', () => {
  for (const E of [
    rc.ShapeError,
    rc.ArgumentError,
    rc.DTypeError,
    rc.NonFiniteError,
    rc.BackendError,
    rc.GradientError,
  ]) {
    const e = new E('x');
    assert.ok(e instanceof rc.ReceptiveError && e instanceof Error);
    assert.equal(e.name, E.name);
  }
});
