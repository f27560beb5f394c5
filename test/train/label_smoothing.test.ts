/**
 * labelSmoothing in the cross-entropy losses, against PyTorch. The golden values are
 * torch 1.13's, in float64:
 *   F.cross_entropy(logits, ids, label_smoothing=ε) and its gradient for the logits below;
 *   F.cross_entropy(logits, soft, label_smoothing=0.2) for soft targets;
 *   F.binary_cross_entropy_with_logits(x, y·(1 − 0.2) + 0.2 / 2) (Keras's binary rule).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { losses } = rc;

const LOGITS = [
  [2.0, -1.0, 0.5, 0.0],
  [0.1, 0.2, -3.0, 1.5],
  [-2.0, 4.0, 1.0, -0.5],
];
const IDS = [0, 3, 1];

const TORCH: { eps: number; loss: number; grad: number[] }[] = [
  {
    eps: 0,
    loss: 0.2764067801577896,
    grad: [
      -0.0966333590379419, 0.01178459780291629, 0.05281490317165991, 0.032033858063365735,
      0.05371648150216084, 0.05936589317753663, 0.0024198846470606474, -0.11550225932675813,
      0.0007770079865368281, -0.01986593879056142, 0.015606622603197166, 0.0034823082008274887,
    ],
  },
  {
    eps: 0.1,
    loss: 0.5030734468244562,
    grad: [
      -0.07163335903794185, 0.00345126446958296, 0.044481569838326594, 0.023700524730032414,
      0.04538314816882751, 0.0510325598442033, -0.005913448686272685, -0.09050225932675812,
      -0.007556325346796505, 0.005134061209438651, 0.0072732892698638375, -0.004851025132505843,
    ],
  },
  {
    eps: 0.3,
    loss: 0.9564067801577896,
    grad: [
      -0.021633359037941845, -0.013215402197083706, 0.02781490317165992, 0.007033858063365743,
      0.02871648150216084, 0.034365893177536626, -0.02258011535293935, -0.04050225932675812,
      -0.02422299201346317, 0.055134061209438645, -0.00939337739680283, -0.021517691799172508,
    ],
  },
];

/** The loss and the gradient for the logits of `loss(labels, f(logits))`. */
function lossAndGrad(
  loss: rc.losses.LossFn,
  labels: rc.Tensor,
  f: (z: rc.Tensor) => rc.Tensor,
): [number, number[]] {
  const z = rc.tensor(LOGITS);
  z.requiresGrad = true;
  const l = loss(labels, f(z));
  l.backward();
  return [l.item(), Array.from(z.grad!.dataSync())];
}

test('labelSmoothing gives PyTorch cross_entropy(label_smoothing) and its gradient, sparse and one-hot, logits and softmax', () => {
  const ids = rc.tensor(IDS, [3], 'int32');
  const hot = rc.oneHot(ids, 4);
  for (const { eps, loss, grad } of TORCH) {
    const cases: [string, rc.losses.LossFn, rc.Tensor, (z: rc.Tensor) => rc.Tensor][] = [
      [
        'sparse, logits',
        losses.sparseCategoricalCrossentropy({ fromLogits: true, labelSmoothing: eps }),
        ids,
        (z) => z,
      ],
      [
        'sparse, softmax',
        losses.sparseCategoricalCrossentropy({ labelSmoothing: eps }),
        ids,
        rc.softmax,
      ],
      [
        'one-hot, logits',
        losses.categoricalCrossentropy({ fromLogits: true, labelSmoothing: eps }),
        hot,
        (z) => z,
      ],
      [
        'one-hot, softmax',
        losses.categoricalCrossentropy({ labelSmoothing: eps }),
        hot,
        rc.softmax,
      ],
    ];
    for (const [what, fn, labels, f] of cases) {
      const [l, g] = lossAndGrad(fn, labels, f);
      assertClose([l], [loss], { rtol: 1e-5, atol: 1e-6, msg: `${what}, ε ${eps}` });
      assertClose(g, grad, { rtol: 1e-4, atol: 1e-6, msg: `${what} gradient, ε ${eps}` });
    }
  }
});

test('labelSmoothing of soft targets and of binary labels is PyTorch’s / Keras’s', () => {
  const soft = rc.tensor([
    [0.7, 0.1, 0.1, 0.1],
    [0, 0, 0.5, 0.5],
    [0.25, 0.25, 0.25, 0.25],
  ]);
  const [l] = lossAndGrad(
    losses.categoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.2 }),
    soft,
    (z) => z,
  );
  assertClose([l], [2.403073446824456], { rtol: 1e-5 });
  const x = rc.tensor([[1.5], [-0.3], [0.0]]);
  const y = rc.tensor([[1], [0], [1]]);
  const bce = losses.binaryCrossentropy({ fromLogits: true, labelSmoothing: 0.2 })(y, x).item();
  assertClose([bce], [0.5429719010037416], { rtol: 1e-5 });
  // From probabilities, the same up to the clipping at 1e-7.
  const p = rc.sigmoid(x);
  const fromP = losses.binaryCrossentropy({ labelSmoothing: 0.2 })(y, p).item();
  assertClose([fromP], [0.5429719010037416], { rtol: 1e-5 });
});

test('labelSmoothing outside [0, 1), not a number, or an unknown option key is an ArgumentError naming the loss', () => {
  const makers = [
    losses.categoricalCrossentropy,
    losses.sparseCategoricalCrossentropy,
    losses.binaryCrossentropy,
  ];
  for (const make of makers) {
    for (const bad of [-0.1, 1, 1.5, Number.NaN, '0.1', null]) {
      assert.throws(
        () => make({ labelSmoothing: bad as number }),
        (e: Error) =>
          e instanceof rc.ArgumentError &&
          /labelSmoothing must be a number in \[0, 1\)/.test(e.message),
        `${make.name} labelSmoothing ${String(bad)}`,
      );
    }
    assert.throws(
      () => make({ label_smoothing: 0.1 } as never),
      (e: Error) => e instanceof rc.ArgumentError && /labelSmoothing/.test(e.message),
    );
    assert.throws(
      () => make({ fromLogits: 'yes' } as never),
      (e: Error) =>
        e instanceof rc.ArgumentError && /fromLogits must be true or false/.test(e.message),
    );
  }
});

test('fit with a label-smoothed loss trains (a compiled loss object, not a name)', async () => {
  rc.setSeed(3);
  const model = new rc.Sequential([
    new rc.layers.Dense({ units: 3, inputShape: [2], activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: new rc.SGD({ learningRate: 0.5 }),
    loss: losses.sparseCategoricalCrossentropy({ labelSmoothing: 0.1 }),
  });
  const x = rc.tensor([
    [1, 0],
    [0, 1],
    [-1, -1],
  ]);
  const y = rc.tensor([0, 1, 2], [3], 'int32');
  const before = (await model.evaluate(x, y)).loss!;
  await model.fit(x, y, { epochs: 30, batchSize: 3, verbose: 0 });
  const after = (await model.evaluate(x, y)).loss!;
  assert.ok(after < before, `loss ${before} → ${after}`);
  // With smoothing ε the loss cannot go below the entropy floor of the smoothed target.
  const eps = 0.1;
  const floor = -(
    (1 - eps + eps / 3) * Math.log(1 - eps + eps / 3) +
    2 * (eps / 3) * Math.log(eps / 3)
  );
  assert.ok(after >= floor - 1e-5, `loss ${after} under the floor ${floor}`);
});
