/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014) with batch-normalized convolutions (as
 * torchvision) and the paper's 5×5 branches: nine inception modules, global average pooling,
 * dropout 0.4. The two auxiliary classifiers (after 4a and 4d) exist in training only:
 * fit() adds 0.3 × each of their losses, and inference never computes them.
 */

import { Model } from '../model/model.js';
import { Input } from '../nn/functional.js';
import { layers } from '../nn/index.js';
import type { SymbolicTensor } from '../nn/layer.js';
import { ArgumentError } from '../util/errors.js';
import { convBN } from './blocks.js';
import { checkZooOptions, type ZooOptions } from './lenet.js';

/** Options of {@link googlenet} (inputShape defaults to [224, 224, 3], numClasses to 1000). */
export interface GoogLeNetOptions extends ZooOptions {
  /** Build the auxiliary classifiers (default true). */
  auxClassifiers?: boolean;
}

/** [1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection] per module, from the paper's Table 1. */
const MODULES: Record<string, [number, number, number, number, number, number]> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

function inception(x: SymbolicTensor, id: string): SymbolicTensor {
  const [a, b, c, d, e, f] = MODULES[id]!;
  return new layers.InceptionModule({
    filters1x1: a,
    filters3x3Reduce: b,
    filters3x3: c,
    filters5x5Reduce: d,
    filters5x5: e,
    poolProjection: f,
    batchNorm: true,
    name: `inception_${id}`,
  }).apply(x);
}

/** Auxiliary head: 5×5/3 average pooling (to 4×4 on 14×14), 1×1 conv 128, dense 1024, dropout 0.7, classes. */
function auxHead(x: SymbolicTensor, numClasses: number, name: string): SymbolicTensor {
  const s = x.shape[1] as number;
  if (s < 4)
    throw new ArgumentError(
      `googlenet: the auxiliary classifiers need an input of at least 64×64 (their feature map is ${s}×${s}); give auxClassifiers: false for smaller inputs.`,
    );
  // The paper's 5×5/3 pooling maps 14×14 to 4×4; other sizes get the window that also gives 4×4.
  const stride = Math.floor(s / 4);
  let y = new layers.AveragePooling2D({
    poolSize: s - 3 * stride,
    strides: stride,
    name: `${name}_pool`,
  }).apply(x);
  y = convBN(y, { filters: 128, kernelSize: 1, padding: 0, epsilon: 1e-3, name: `${name}_conv` });
  y = new layers.Flatten({ name: `${name}_flatten` }).apply(y);
  y = new layers.Dense({ units: 1024, activation: 'relu', name: `${name}_fc1` }).apply(y);
  y = new layers.Dropout({ rate: 0.7, name: `${name}_dropout` }).apply(y);
  return new layers.Dense({ units: numClasses, activation: 'softmax', name: `${name}_fc2` }).apply(
    y,
  );
}

/** GoogLeNet (Inception v1) with batch-normalized convolutions; see the module comment. */
export function googlenet(options: GoogLeNetOptions = {}): Model {
  checkZooOptions('googlenet', options, ['auxClassifiers']);
  const { numClasses = 1000, inputShape = [224, 224, 3], auxClassifiers = true } = options;
  const input = Input(inputShape, { name: 'input' });
  const pool = (name: string, k = 3) =>
    new layers.MaxPooling2D({ poolSize: k, strides: 2, padding: 'same', name });
  let x = convBN(input, {
    filters: 64,
    kernelSize: 7,
    strides: 2,
    padding: 3,
    epsilon: 1e-3,
    name: 'conv1',
  });
  x = pool('pool1').apply(x);
  x = convBN(x, { filters: 64, kernelSize: 1, padding: 0, epsilon: 1e-3, name: 'conv2' });
  x = convBN(x, { filters: 192, kernelSize: 3, padding: 1, epsilon: 1e-3, name: 'conv3' });
  x = pool('pool2').apply(x);
  x = inception(x, '3a');
  x = inception(x, '3b');
  x = pool('pool3').apply(x);
  x = inception(x, '4a');
  const aux1 = auxClassifiers ? auxHead(x, numClasses, 'aux1') : null;
  x = inception(x, '4b');
  x = inception(x, '4c');
  x = inception(x, '4d');
  const aux2 = auxClassifiers ? auxHead(x, numClasses, 'aux2') : null;
  x = inception(x, '4e');
  x = pool('pool4', 2).apply(x);
  x = inception(x, '5a');
  x = inception(x, '5b');
  x = new layers.GlobalAveragePooling2D({ name: 'avg_pool' }).apply(x);
  x = new layers.Dropout({ rate: 0.4, name: 'dropout' }).apply(x);
  const out = new layers.Dense({ units: numClasses, activation: 'softmax', name: 'fc' }).apply(x);
  return new Model({
    inputs: input,
    outputs: out,
    ...(aux1 && aux2 ? { trainingOutputs: [aux1, aux2], lossWeights: [1, 0.3, 0.3] } : {}),
    name: 'googlenet',
  });
}
