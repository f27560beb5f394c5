/**
 * `receptive train cifar-speedrun`: a line per epoch, the test accuracy with test-time
 * augmentation and the wall time, on a tiny folder of 32×32 PNGs; flags of the zoo training
 * that the recipe does not take are refused before any data is read.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodePng } from '../../src/data/image_codec.js';
import { runCli } from '../cli_runner.js';
import { tempDirs } from '../helpers.js';

const tempDir = tempDirs('receptive-speedrun-');

/** train/ and test/ folders of two classes of 32×32 RGB images, dark and bright. */
function folder(): string {
  const root = tempDir();
  for (const [split, n] of [
    ['train', 24],
    ['test', 6],
  ] as const)
    for (const [k, name] of ['dark', 'bright'].entries()) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < n; i++) {
        const data = new Uint8Array(32 * 32 * 3).map((_, j) => (k ? 160 : 60) + ((i * 7 + j) % 50));
        writeFileSync(
          join(root, split, name, `${i}.png`),
          encodePng({ width: 32, height: 32, channels: 3, data }),
        );
      }
    }
  return root;
}

test('train cifar-speedrun: epochs, TTA accuracy and time on a folder of images', {
  timeout: 120_000,
}, async () => {
  const root = folder();
  const out = join(tempDir(), 'model');
  const r = await runCli(
    [
      'train',
      'cifar-speedrun',
      '--dataset',
      root,
      '--epochs',
      '2',
      '--batch-size',
      '16',
      '--threads',
      '1',
      '--out',
      out,
    ],
    { cwd: tempDir() },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /48 training and 12 test images/);
  assert.match(r.stdout, /cifar-speedrun: 2 epochs of batch 16/);
  assert.match(r.stdout, /epoch 1: loss \d+\.\d+, train accuracy \d+\.\d+%, 3 steps/);
  assert.match(r.stdout, /epoch 2: .*6 steps/);
  assert.match(
    r.stdout,
    /Test accuracy \(tta flipTranslate\): \d+\.\d+% on 12 images; .* s in all \(data loading included\)/,
  );
  assert.ok(existsSync(join(out, 'model.json')));
});

test('train cifar-speedrun refuses the zoo training flags before reading data', async () => {
  for (const flag of [
    ['--lr', '0.1'],
    ['--optimizer', 'sgd'],
    ['--augment'],
    ['--resume', 'x'],
    ['--schedule', 'cosine'],
    ['--momentum', '0.9'],
  ]) {
    const r = await runCli(
      ['train', 'cifar-speedrun', '--dataset', join(tempDir(), 'none'), ...flag],
      {
        cwd: tempDir(),
      },
    );
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /airbench94's recipe as it is: --/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const r = await runCli(['train', 'cifar-speedrun', '--dataset', join(tempDir(), 'none')], {
    cwd: tempDir(),
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /train\/ and test\/ image folders/);
});
