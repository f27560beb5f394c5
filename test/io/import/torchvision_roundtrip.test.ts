/**
 * torchvision → ONNX → receptive → fine-tune → PyTorch weights → torchvision. PyTorch (Debian's
 * /usr/bin/python3 with torchvision) exports resnet18 at test time (torchvision_roundtrip.py);
 * receptive imports it, puts a 4-class head in place of the 10-class one, fine-tunes the head
 * and the last block (its batch norm in training mode, so moving statistics change), and writes
 * the weights with exportTorchWeights. torchvision's own resnet18(num_classes=4) loads them with
 * load_state_dict(strict=True) and gives receptive's logits. Skipped (saying why) without torch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as rc from '../../../src/index.js';
import { repoRoot, tempDirs } from '../../helpers.js';

const tempDir = tempDirs('receptive-tv-');
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'io', 'import', 'torchvision_roundtrip.py');

function python(args: string[]): string {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `python ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

const why = (() => {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `${PYTHON} has no torch/torchvision (apt install python3-torch python3-torchvision)`;
})();

test("torchvision resnet18: imported, head replaced, fine-tuned; exportTorchWeights loads into torchvision (strict) with receptive's logits", {
  skip: why ?? false,
}, async () => {
  const dir = tempDir();
  const onnx = join(dir, 'resnet18.onnx');
  python(['export', onnx]);
  const net = await rc.importOnnx(onnx);
  // Layers carry PyTorch's module paths, so the weight names are torchvision's own.
  const names = rc.torchWeightNames(net).map((t) => t.name);
  for (const n of [
    'conv1.weight',
    'bn1.running_var',
    'layer1.0.conv1.weight',
    'layer2.0.downsample.0.weight',
    'layer2.0.downsample.1.num_batches_tracked',
    'fc.weight',
    'fc.bias',
  ])
    assert.ok(names.includes(n), `${n} among ${names.slice(0, 12).join(', ')} ...`);

  const tuned = net.replaceHead(4);
  tuned.freeze({ except: ['fc', 'layer4.1.conv2', 'layer4.1.bn2'] });
  const x = rc.randn([8, 64, 64, 3], { seed: 5 });
  const y = rc.tensor([0, 1, 2, 3, 0, 1, 2, 3], [8], 'int32');
  const stats = tuned.getLayer('layer4.1.bn2').getWeights();
  tuned.compile({
    optimizer: new rc.SGD({ learningRate: 0.01 }),
    loss: rc.losses.sparseCategoricalCrossentropy({ fromLogits: true }),
  });
  await tuned.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
  const after = tuned.getLayer('layer4.1.bn2').getWeights();
  assert.ok(
    after[2]!.some((v, i) => v !== stats[2]![i]),
    'the trainable batch norm updated its moving mean',
  );

  const weights = join(dir, 'tuned.safetensors');
  writeFileSync(weights, rc.exportTorchWeights(tuned));
  const probe = rc.randn([2, 64, 64, 3], { seed: 6 });
  const mine = tuned.predict(probe).dataSync();
  const xfile = join(dir, 'x.bin');
  writeFileSync(xfile, rc.transpose(probe, [0, 3, 1, 2]).dataSync() as Float32Array);
  const theirs = JSON.parse(python(['check', weights, xfile, '2', '4'])) as number[];
  assert.equal(theirs.length, mine.length);
  let worst = 0;
  for (let i = 0; i < mine.length; i++)
    worst = Math.max(worst, Math.abs(mine[i]! - theirs[i]!) / (1 + Math.abs(theirs[i]!)));
  assert.ok(worst < 1e-4, `torchvision's logits differ from receptive's by ${worst} (relative)`);
});
