// Whole models on the webgpu backend in Chromium (web/e2e/webgpu_models_page.ts): zoo models'
// outputs equal wasm's (1e-4 of the largest), as do their weights after one training step (batch
// norm, dropout, residuals, concatenation), a run checkpointed by BackupAndRestore keeps the
// optimizer state wasm computes, explanations (Grad-CAM, saliency, integrated gradients,
// occlusion) give wasm's maps, and LeNet-5 trains with fit (its loss falls, the test
// accuracy beats chance by far) and evaluates and predicts. `node web/e2e/webgpu_models.mjs`;
// exits 1 on a failure. Needs no build (it bundles the sources).
import { fileURLToPath } from 'node:url';
import { runInChromium } from './webgpu_page.mjs';

const started = Date.now();
const { result } = await runInChromium(
  fileURLToPath(new URL('./webgpu_models_page.ts', import.meta.url)),
  { timeoutMs: 900_000, onLog: (l) => console.log(`  ${l}`) },
);
let failed = 0;
const check = (ok, name, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  if (!ok) failed++;
};
if (result.error) check(false, 'webgpu starts', result.error);
else {
  check(
    result.adapter?.vendor !== undefined,
    'webgpu adapter',
    `${result.adapter.vendor} ${result.adapter.architecture}`,
  );
  for (const z of result.zoo)
    check(
      z.maxDiff <= 1e-4 * z.scale + 1e-5,
      `${z.name}: webgpu's outputs equal wasm's`,
      z.error ?? `max difference ${z.maxDiff.toExponential(2)} of ${z.scale.toFixed(3)}`,
    );
  // Every weight within 1e-4 of the largest; or, where a batch of one or two images leaves batch
  // norm few values to normalize (ResNet-18 and DenseNet's last stages: 2×2 maps), the update as a
  // whole within 3% (L2): there another summation order flips a few ReLUs and pooling choices, and
  // one step moves a handful of weights by a whole gradient term. The native backend's step
  // differs from the js reference's by 1.5% on the same ResNet-18 step; a wrong gradient would
  // differ by its whole size.
  for (const z of result.steps)
    check(
      z.maxDiff <= 1e-4 * z.scale + 1e-5 || z.updateDiff <= 3e-2,
      `${z.name}: one training step on webgpu updates the weights as on wasm`,
      z.error ??
        `max difference ${z.maxDiff.toExponential(2)} of ${z.scale.toFixed(3)}; the update ${(100 * z.updateDiff).toFixed(3)}% apart (L2)`,
    );
  const c = result.checkpoint;
  if (c.error) check(false, 'fit with BackupAndRestore on webgpu', c.error);
  else {
    // Two epochs of three batches apart on two backends: the momentum slots differ by rounding.
    check(
      c.arrays[0] === c.arrays[1] && c.arrays[0] > 0 && c.maxDiff <= 1e-3 * c.scale + 1e-5,
      'fit with BackupAndRestore on webgpu; the optimizer state (getStateAsync) as on wasm',
      `${c.arrays[1]} arrays (wasm ${c.arrays[0]}), max difference ${c.maxDiff.toExponential(2)} of ${c.scale.toFixed(3)}`,
    );
    check(
      /getStateAsync/.test(c.refusal),
      'getState() on webgpu refuses and names getStateAsync',
      c.refusal.slice(0, 200),
    );
  }
  for (const z of result.explanations)
    check(
      z.maxDiff <= 1e-4 * z.scale + 1e-6,
      `${z.name} on webgpu: the map wasm gives`,
      z.error ?? `max difference ${z.maxDiff.toExponential(2)} of ${z.scale.toExponential(3)}`,
    );
  const t = result.training;
  if (t.error) check(false, 'LeNet-5 trains on webgpu', t.error);
  else {
    check(
      t.loss[2] < 0.7 * t.loss[0],
      'LeNet-5 trains on webgpu: its loss falls',
      `${t.loss.map((l) => l.toFixed(3)).join(' → ')} in ${t.seconds.toFixed(1)} s`,
    );
    check(t.test.accuracy >= 0.9, 'and classifies held-out images', `accuracy ${t.test.accuracy}`);
    check(
      t.testTta.accuracy >= 0.9 && t.ttaRows === 96,
      'and with test-time augmentation (evaluate and predict)',
      `accuracy ${t.testTta.accuracy}, ${t.ttaRows} rows predicted`,
    );
  }
}
console.log(
  `${failed === 0 ? 'passed' : `${failed} failed`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failed === 0 ? 0 : 1);
