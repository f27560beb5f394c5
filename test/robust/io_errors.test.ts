/**
 * File-system faults said in words: a full disk, a read-only folder, a file where a folder is
 * wanted (and the reverse), a missing parent folder, a missing input file. Each is an IOError
 * naming the user's path (never the hidden temporary name), what went wrong and what to do;
 * a failed write leaves no temporary file behind; the CLI prints one line, no stack trace.
 *
 * The full and read-only disks are real: a small tmpfs mounted for the test (root only; the
 * tests skip, saying why, where mounting is not permitted). The same logic is also reached
 * everywhere through a file system that fails on purpose (fileSystemForTests).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as rc from '../../src/index.js';
import { fileSystemForTests, readFileChecked } from '../../src/io/files.js';
import { repoRoot } from '../helpers.js';

const CLI = join(repoRoot, 'dist', 'cli', 'main.js');
const temps: string[] = [];
const mounts: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'receptive-io-'));
  temps.push(d);
  return d;
}
after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** Mounts a tmpfs of `size` at a new folder; null (with the reason) where that is not allowed. */
function mountTmpfs(size: string): { dir: string } | { reason: string } {
  const dir = tempDir();
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return { reason: `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})` };
  mounts.push(dir);
  return { dir };
}

function remountReadOnly(dir: string): void {
  const r = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Asserts an IOError naming `path` (and no temporary name) whose message matches `what`. */
function isIOError(path: string, what: RegExp, code?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof rc.IOError, `expected an IOError, got ${String(e)}`);
    assert.ok(e instanceof rc.ReceptiveError);
    assert.ok(e.message.includes(`'${path}'`), `the message names ${path}: ${e.message}`);
    assert.doesNotMatch(e.message, /\.tmp-/, 'the temporary name is not shown');
    assert.match(e.message, what);
    if (code) assert.equal(e.code, code);
    return true;
  };
}

const noTemps = (dir: string) =>
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    `temporary files left in ${dir}`,
  );

function smallModel(): rc.Model {
  return new rc.Sequential([new rc.layers.Dense({ units: 3, inputShape: [4] })]);
}

test('a full disk (a 64 KiB tmpfs): IOError naming the file, no temp file left, the old model still loads', async (t) => {
  const m = mountTmpfs('64k');
  if ('reason' in m) return t.skip(m.reason);
  const { dir } = m;
  const big = new Uint8Array(200_000).fill(7);
  await assert.rejects(
    rc.writeFileAtomic(join(dir, 'big.bin'), big),
    isIOError(join(dir, 'big.bin'), /no space is left on the device\. Free some space/, 'ENOSPC'),
  );
  assert.deepEqual(readdirSync(dir), [], 'the temporary file is removed: the space is free again');

  const model = smallModel();
  const modelDir = join(dir, 'model');
  await model.save(modelDir);
  const x = rc.randn([2, 4]);
  const before = model.predict(x).dataSync();
  // Fill the disk, then save new weights: the save fails, and the saved model is untouched.
  try {
    writeFileSync(join(dir, 'filler'), new Uint8Array(1 << 20));
  } catch {
    // ENOSPC: the filler took what was left.
  }
  model.setWeights(model.getWeights().map((w) => w.map((v) => v + 1)));
  await assert.rejects(
    model.save(modelDir),
    (e: unknown) =>
      e instanceof rc.IOError &&
      e.code === 'ENOSPC' &&
      e.message.includes(modelDir) &&
      !/\.tmp-/.test(e.message),
  );
  noTemps(modelDir);
  assert.deepEqual((await rc.loadModel(modelDir)).predict(x).dataSync(), before);
});

test('a read-only disk (a tmpfs remounted read-only): writes and saves are IOErrors saying so', async (t) => {
  const m = mountTmpfs('1m');
  if ('reason' in m) return t.skip(m.reason);
  const { dir } = m;
  mkdirSync(join(dir, 'runs'));
  remountReadOnly(dir);
  await assert.rejects(
    rc.writeFileAtomic(join(dir, 'runs', 'a.json'), '{}'),
    isIOError(
      join(dir, 'runs', 'a.json'),
      /the file system is read-only\. Write to a folder on a writable disk/,
      'EROFS',
    ),
  );
  await assert.rejects(
    smallModel().save(join(dir, 'runs', 'model')),
    isIOError(join(dir, 'runs', 'model'), /cannot create the folder .*read-only/, 'EROFS'),
  );
});

test('through a failing file system: open, write, sync and rename faults each remove the temp file', async () => {
  const dir = tempDir();
  const target = join(dir, 'out.bin');
  const fault = (code: string, syscall: string) =>
    Object.assign(new Error(`${code}: simulated, ${syscall} '${target}.tmp-1-x'`), {
      code,
      syscall,
    });
  const cases: { step: string; code: string; what: RegExp }[] = [
    { step: 'open', code: 'EACCES', what: /permission denied\. Choose a folder you may write to/ },
    { step: 'writeFile', code: 'ENOSPC', what: /no space is left on the device/ },
    { step: 'sync', code: 'EIO', what: /input\/output error/ },
    { step: 'rename', code: 'EDQUOT', what: /disk quota is exceeded/ },
  ];
  try {
    for (const c of cases) {
      fileSystemForTests.fs = {
        ...fsp,
        open: async (...args: Parameters<typeof fsp.open>) => {
          const h = await fsp.open(...args);
          if (c.step === 'open') {
            await h.close();
            throw fault(c.code, 'open');
          }
          return new Proxy(h, {
            get(target, prop) {
              if (prop === c.step) return async () => Promise.reject(fault(c.code, c.step));
              const v = Reflect.get(target, prop);
              return typeof v === 'function' ? v.bind(target) : v;
            },
          });
        },
        rename: async (a: string, b: string) => {
          if (c.step === 'rename') throw fault(c.code, 'rename');
          return fsp.rename(a, b);
        },
      } as typeof fsp;
      await assert.rejects(
        rc.writeFileAtomic(target, new Uint8Array(10)),
        isIOError(target, c.what, c.code),
      );
      assert.deepEqual(readdirSync(dir), [], `after a ${c.step} fault nothing is left`);
    }
  } finally {
    fileSystemForTests.fs = null;
  }
  await rc.writeFileAtomic(target, 'ok');
  assert.deepEqual(readdirSync(dir), ['out.bin']);
});

test('a file where a folder is wanted, a folder where a file is wanted, a missing parent folder', async () => {
  const dir = tempDir();
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  await assert.rejects(
    smallModel().save(file),
    isIOError(file, /a file of that name is in the way \(a folder is needed\)\. Remove or rename/),
  );
  await assert.rejects(
    smallModel().save(join(file, 'model')),
    isIOError(join(file, 'model'), /a part of the path is a file, not a folder/, 'ENOTDIR'),
  );
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  await assert.rejects(
    rc.writeFileAtomic(folder, 'x'),
    isIOError(folder, /it is a folder, not a file/),
  );
  noTemps(dir);
  const orphan = join(dir, 'missing', 'deeper', 'x.png');
  await assert.rejects(
    rc.writeFileAtomic(orphan, 'x'),
    isIOError(orphan, /its folder '.*deeper' does not exist\. Create the folder first/, 'ENOENT'),
  );
  await assert.rejects(
    readFileChecked(join(dir, 'nope.png'), 'predict'),
    isIOError(join(dir, 'nope.png'), /^predict: cannot read .*: it does not exist\./, 'ENOENT'),
  );
  await assert.rejects(
    rc.loadTorchWeights(smallModel(), join(dir, 'nope.safetensors')),
    isIOError(join(dir, 'nope.safetensors'), /loadTorchWeights: cannot read .* it does not exist/),
  );
});

/** Runs the built CLI; stderr must be one line, no stack trace. */
function cli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  assert.ok(
    existsSync(CLI),
    `${CLI} is missing: run \`npm run build\` first (the CLI is tested as built).`,
  );
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, RECEPTIVE_CACHE: join(cwd, 'cache'), NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, pattern);
}

test('CLI: a missing image, an unwritable --out, a file as --out: one line each, no stack trace', async () => {
  const dir = tempDir();
  const modelDir = join(dir, 'model');
  await new rc.Sequential([
    new rc.layers.Flatten({ inputShape: [4, 4, 1] }),
    new rc.layers.Dense({ units: 2 }),
  ]).save(modelDir);
  const png = join(dir, 'in.png');
  writeFileSync(
    png,
    rc.data.encodePng({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }),
  );

  assertOneLine(
    cli(['predict', modelDir, join(dir, 'missing.png')], dir),
    /^receptive: predict: cannot read '.*missing\.png': it does not exist\./,
  );
  assertOneLine(
    cli(['convolve', png, '--kernel', 'sobel-x', '-o', join(dir, 'no', 'such', 'out.png')], dir),
    /cannot write '.*out\.png': its folder '.*such' does not exist/,
  );
  // The output folder is checked before any data is read: here the dataset does not exist
  // either, and the error is about --out.
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  assertOneLine(
    cli(['train', 'lenet5', '--dataset', join(dir, 'nowhere'), '--out', file], dir),
    /^receptive: train --out: cannot create the folder '.*a-file': a file of that name is in the way/,
  );
  assertOneLine(
    cli(
      [
        'train',
        'lenet5',
        '--dataset',
        join(dir, 'nowhere'),
        '--out',
        join(dir, 'r'),
        '--report',
        dir,
      ],
      dir,
    ),
    /^receptive: train --report: cannot write '.*': it is a folder, not a file/,
  );
  assert.ok(!existsSync(join(dir, 'r')), 'no empty run folder is left');
  // A dataset that fails to load leaves no empty run folder behind.
  const out = join(dir, 'runs', 'new');
  assertOneLine(
    cli(['train', 'lenet5', '--dataset', join(dir, 'nowhere'), '--out', out], dir),
    /expected 'mnist', 'cifar10', or a folder holding train\/ and test\//,
  );
  assert.ok(!existsSync(out) && !existsSync(join(dir, 'runs')), 'no empty run folder is left');
});

test('CLI: train on a read-only disk stops before reading data', async (t) => {
  const m = mountTmpfs('1m');
  if ('reason' in m) return t.skip(m.reason);
  remountReadOnly(m.dir);
  const dir = tempDir();
  assertOneLine(
    cli(['train', 'lenet5', '--dataset', join(dir, 'nowhere'), '--out', join(m.dir, 'run')], dir),
    /^receptive: train --out: cannot create the folder '.*run': the file system is read-only/,
  );
});
