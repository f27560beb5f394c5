#!/usr/bin/env node
// `npm run bench -- --only speedrun`: rc.recipes.cifarSpeedrun (airbench94's recipe) and its
// PyTorch twin (bench/speedrun_torch.py) on the same decoded images, a shortened schedule:
// time per epoch and test accuracy (test-time augmentation) for each. Each runs in its own process.
//   node bench/speedrun.mjs [--dataset DIR|cifar10] [--train 5000] [--test 1000] [--epochs 1]
//                           [--batch-size 1024] [--engines native,torch]
// DIR is a folder with train/ and test/ image folders (the CIFAR-10 JPEG copy unpacked);
// default: $RECEPTIVE_CIFAR_DIR, else 'cifar10' (the binary batches, downloaded or cached).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};

if (args[0] === '--worker') {
  // One engine's run: node speedrun.mjs --worker DIR BACKEND EPOCHS BATCH
  const [, dir, backend, epochs, batch] = args;
  const rc = await import('../dist/index.js');
  rc.setBackend(backend);
  const read = (split) => {
    // A copy: a small file's Buffer is a view into a shared pool, at any offset.
    const labels = new Int32Array(
      Uint8Array.from(readFileSync(join(dir, `${split}_labels.i32`))).buffer,
    );
    const images = new Uint8Array(readFileSync(join(dir, `${split}_images.u8`)));
    const classNames = Array.from({ length: 10 }, (_, i) => String(i));
    return { images, labels, shape: [32, 32, 3], classNames };
  };
  const start = performance.now();
  const train = read('train');
  const test = read('test');
  const run = rc.recipes.cifarSpeedrun({ epochs: Number(epochs), batchSize: Number(batch) });
  let last = 0;
  const epochSeconds = [];
  const result = await run.train(train, {
    onEpoch: (e) => {
      epochSeconds.push(e.seconds - last);
      last = e.seconds;
      console.log(JSON.stringify({ engine: backend, ...e, epochSeconds: epochSeconds.at(-1) }));
    },
  });
  const ev = await run.evaluate(test);
  // writeSync: console.log to a pipe may not have written when the process exits.
  writeSync(
    1,
    `${JSON.stringify({
      engine: backend,
      steps: result.steps,
      epochSeconds,
      trainSeconds: (performance.now() - start) / 1000 - ev.seconds,
      evalSeconds: ev.seconds,
      accuracy: ev.accuracy,
    })}\n`,
  );
  process.exit(0);
}

const rc = await import('../dist/index.js');
const { loadDataset } = await import('../dist/cli/datasets.js');
const dataset = arg('--dataset', process.env.RECEPTIVE_CIFAR_DIR ?? 'cifar10');
const nTrain = Number(arg('--train', '5000'));
const nTest = Number(arg('--test', '1000'));
const epochs = arg('--epochs', '1');
const batch = arg('--batch-size', '1024');
const engines = arg('--engines', 'native,torch').split(',');
const data = await loadDataset({ dataset, log: () => {} });
const train = rc.data.spread(data.train, nTrain);
const test = rc.data.spread(data.test, nTest);
const dir = mkdtempSync(join(tmpdir(), 'speedrun-'));
for (const [split, set] of [
  ['train', train],
  ['test', test],
]) {
  writeFileSync(join(dir, `${split}_images.u8`), set.images);
  writeFileSync(
    join(dir, `${split}_labels.i32`),
    new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength),
  );
}
console.log(
  `speedrun: airbench94's recipe, ${epochs} epoch(s) of batch ${batch} on ${train.labels.length} training images of ${data.source}, tested (tta flipTranslate) on ${test.labels.length}`,
);
const results = [];
for (const engine of engines) {
  const cmd =
    engine === 'torch'
      ? [
          '/usr/bin/python3',
          [join(here, 'speedrun_torch.py'), dir, '--epochs', epochs, '--batch-size', batch],
        ]
      : [process.execPath, [join(here, 'speedrun.mjs'), '--worker', dir, engine, epochs, batch]];
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(cmd[0], cmd[1], { cwd: here, env, encoding: 'utf8', timeout: 3_600_000 });
  const lines = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  const last = lines.length ? JSON.parse(lines.pop()) : null;
  if (!last || !Array.isArray(last.epochSeconds) || last.evalSeconds === undefined) {
    console.log(
      // Node ends its error output with its version: say the error itself.
      `  ${engine.padEnd(8)} n/a (${(r.stderr || r.error?.message || 'no output')
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('Node.js v'))
        .slice(-6)
        .join(' | ')})`,
    );
    continue;
  }
  for (const l of lines) console.log(`    ${l}`);
  results.push({ id: engine, ...last });
  const per = last.epochSeconds.map((s) => s.toFixed(1)).join(', ');
  console.log(
    `  ${engine.padEnd(8)} ${last.steps} steps; seconds per epoch ${per}; test accuracy ${(100 * last.accuracy).toFixed(2)}%; evaluation ${last.evalSeconds.toFixed(1)} s`,
  );
}
rmSync(dir, { recursive: true, force: true });
writeFileSync(
  join(here, 'results-speedrun.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      epochs,
      batch,
      train: train.labels.length,
      test: test.labels.length,
      results,
    },
    null,
    1,
  ),
);
