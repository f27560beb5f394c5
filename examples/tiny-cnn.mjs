// Trains a tiny CNN on a synthetic task: is the bar in a 12x12 image vertical, horizontal,
// or diagonal? A few seconds on one core; it shows the whole loop from tensors to accuracy.
// Run: npm run example   (it builds first; or `node examples/tiny-cnn.mjs` after `npm run build`)
import * as rc from '../dist/index.js';

const { layers } = rc;
rc.setSeed(1);
const rng = new rc.Random(2);

/** n images [n, 12, 12, 1] with a random bar of class 0 (|), 1 (-), 2 (\), plus noise. */
function makeBars(n) {
  const size = 12;
  const x = new Float32Array(n * size * size);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = rng.int(3);
    y[i] = cls;
    const at = 2 + rng.int(size - 4);
    for (let t = 0; t < size; t++) {
      const [r, c] = cls === 0 ? [t, at] : cls === 1 ? [at, t] : [t, t];
      x[i * size * size + r * size + c] = 1;
    }
    for (let p = 0; p < size * size; p++) x[i * size * size + p] += 0.3 * rng.normal();
  }
  return [rc.tensor(x, [n, size, size, 1]), rc.tensor(y, [n], 'int32')];
}

const [xTrain, yTrain] = makeBars(600);
const [xTest, yTest] = makeBars(200);

const model = new rc.Sequential([
  new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
  new layers.MaxPooling2D({ poolSize: 2 }),
  new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu' }),
  new layers.Flatten(),
  new layers.Dense({ units: 3, activation: 'softmax' }),
]);
model.summary();
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
await model.fit(xTrain, yTrain, {
  epochs: 15,
  batchSize: 32,
  validationData: [xTest, yTest],
  seed: 3,
});
const { loss, accuracy } = await model.evaluate(xTest, yTest);
console.log(`test loss ${loss.toFixed(4)}, test accuracy ${(accuracy * 100).toFixed(1)}%`);
