/**
 * torchvision's CNNs, exported by PyTorch's own ONNX exporter at test time
 * (test/golden/export_torchvision.py: random weights, batch-norm statistics that are not the
 * identity, eval mode), import and give PyTorch's logits within 1e-4 (relative to the logits' largest magnitude), on NHWC input
 * and with `inputLayout: 'nchw'`. The files are too large to commit (VGG-16 is 550 MB), so this
 * runs where /usr/bin/python3 has torch and torchvision (Debian: python3-torchvision) and is
 * skipped, saying so, elsewhere.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as rc from '../../../src/index.js';
import { repoRoot, tempDirs } from '../../helpers.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(repoRoot, 'test', 'golden', 'export_torchvision.py');
const MODELS = [
  'resnet18',
  'resnet50',
  'vgg16_bn',
  'densenet121',
  'googlenet',
  'mobilenet_v2',
  'efficientnet_b0',
  'alexnet',
  'inception_v3',
];

/** Why the test cannot run here, or false where it can. */
function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message}); install python3-torchvision`;
  if (r.status !== 0)
    return `${PYTHON} has no torch/torchvision (${r.stderr.trim().split('\n').pop()}); install python3-torchvision`;
  return false;
}

const tempDir = tempDirs('receptive-torchvision-');

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * The largest |got − want| over the largest |want|: relative to the logits' scale, which
 * torchvision's random initialization sets anywhere from 0.1 (GoogLeNet) to 1e9 (Inception-v3).
 */
function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  assert.ok(scale > 0, 'PyTorch gave all-zero logits');
  return worst / scale;
}

describe("torchvision models through PyTorch's ONNX exporter", { skip: torchMissing() }, () => {
  let dir = '';
  const index: Record<string, { input: number[]; output: number[] }> = {};
  before(async () => {
    dir = tempDir();
    // Exported once for all the tests, by two processes (the exporter is mostly one thread):
    // every other model each (VGG-16 and AlexNet, the two slow ones, apart).
    const halves = [MODELS.filter((_, i) => i % 2 === 0), MODELS.filter((_, i) => i % 2 === 1)];
    const runs = halves.map(
      (names) =>
        new Promise<void>((resolve, reject) => {
          execFile(
            PYTHON,
            [SCRIPT, dir, ...names],
            { env: { ...process.env, PYTHONWARNINGS: 'ignore' }, maxBuffer: 1 << 24 },
            (err, stdout, stderr) =>
              err
                ? reject(
                    new Error(
                      `export_torchvision.py ${names.join(' ')} failed:\n${stdout}\n${stderr}`,
                    ),
                  )
                : resolve(),
          );
        }),
    );
    await Promise.all(runs);
    for (const name of MODELS)
      index[name] = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  });

  for (const name of MODELS) {
    test(`${name}: importOnnx gives PyTorch's logits (NHWC and NCHW input, 1e-4 relative)`, async () => {
      const { input, output } = index[name]!;
      const file = join(dir, `${name}.onnx`);
      const x = rc.tensor(readF32(join(dir, `${name}.x.f32`)), input);
      const want = readF32(join(dir, `${name}.y.f32`));

      const m = await rc.importOnnx(file);
      const [n, c, h, w] = input as [number, number, number, number];
      assert.deepEqual(m.inputs[0]!.shape, [null, h, w, c]);
      const y = m.predict(rc.transpose(x, [0, 2, 3, 1]));
      assert.deepEqual(y.shape, output);
      const worst = worstRelative(y.dataSync(), want);
      assert.ok(worst < 1e-4, `${name} (NHWC): differs from PyTorch by ${worst} (relative)`);

      const nchw = await rc.importOnnx(file, { inputLayout: 'nchw' });
      assert.deepEqual(nchw.inputs[0]!.shape, [null, c, h, w]);
      const y2 = nchw.predict(x);
      assert.deepEqual(y2.shape, [n, output[1]]);
      const worst2 = worstRelative(y2.dataSync(), want);
      assert.ok(worst2 < 1e-4, `${name} (NCHW): differs from PyTorch by ${worst2} (relative)`);
    });
  }
});
