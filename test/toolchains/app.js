// The fixture app of scripts/test-toolchains.mjs: what a web page that uses receptive does,
// bundled by Vite, esbuild and webpack with no configuration for receptive. It builds a small
// CNN, predicts, trains one step (trainOnBatch) and one epoch (fit) on random images, and puts
// the figures on the page (body's data-result) for the test to check, or the error (data-error).
import * as rc from 'receptive';

async function run() {
  rc.setSeed(1);
  const { layers } = rc;
  const model = new rc.Sequential([
    new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Flatten(),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const x = rc.randomUniform([8, 12, 12, 1]);
  const y = rc.tensor(Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]), [8], 'int32');
  const probabilities = model.predict(x);
  const rowSums = rc.sum(probabilities, -1).toArray();
  const before = Array.from(model.getWeights()[0]);
  const step = model.trainOnBatch(x, y);
  const history = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
  const after = model.getWeights()[0];
  return {
    backend: rc.getBackend(),
    threads: rc.getThreads(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    predictionShape: probabilities.shape,
    rowSums,
    stepLoss: step.loss,
    epochLoss: history.history.loss[0],
    weightsChanged: before.some((w, i) => w !== after[i]),
    // What the Node entry alone has: its presence here would mean the bundler took the wrong entry.
    nodeOnly: 'nativeBackendStatus' in rc || 'loadMnist' in rc.data,
  };
}

run().then(
  (result) => {
    document.body.dataset.result = JSON.stringify(result);
    document.querySelector('#out').textContent = JSON.stringify(result, null, 2);
  },
  (e) => {
    document.body.dataset.error = String(e?.stack ?? e);
    document.querySelector('#out').textContent = String(e?.stack ?? e);
  },
);
