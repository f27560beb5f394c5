/**
 * `receptive export DIR --format onnx|torch [-o FILE]`, run as a child process (the CLI compiled
 * with the tests, build/src/cli/main.js, so it is always the current code).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as rc from '../../../src/index.js';
import { maxAbsDiff, runOnnx } from './helpers.js';

const CLI = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'src',
  'cli',
  'main.js',
);
const tmp = mkdtempSync(join(tmpdir(), 'receptive-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const receptive = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('receptive export DIR --format onnx writes a file ONNX Runtime runs; --format torch writes PyTorch weights', async () => {
  const dir = join(tmp, 'lenet');
  const m = rc.models.lenet5();
  await m.save(dir);
  const out = join(tmp, 'lenet.onnx');
  const r = receptive('export', dir, '--format', 'onnx', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*lenet\.onnx .*opset 17.*NHWC \[batch, 28, 28, 1\]/);
  const x = rc.randn([2, 28, 28, 1], { seed: 1 });
  const [y] = await runOnnx(new Uint8Array(readFileSync(out)), [x]);
  assert.ok(maxAbsDiff(y!, m.predict(x).dataSync()) < 1e-5);
  // Defaults: ONNX into DIR/model.onnx.
  assert.equal(receptive('export', dir).status, 0);
  assert.ok(existsSync(join(dir, 'model.onnx')));
  const t = receptive('export', dir, '--format', 'torch');
  assert.equal(t.status, 0, t.stderr);
  const back = rc.models.lenet5();
  await rc.loadTorchWeights(back, join(dir, 'model.torch.safetensors'));
  assert.deepEqual(back.getWeights(), m.getWeights());
});

test('receptive export: a wrong format or a missing model is a one-line error', () => {
  const bad = receptive('export', tmp, '--format', 'tflite');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /tflite.*Allowed choices are onnx, torch/);
  const missing = receptive('export', join(tmp, 'nothing'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^receptive: loadModel: no model\.json/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});
