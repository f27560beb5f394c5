/**
 * What only the native backend (the C++ addon over oneDNN) has: the registry's preference for
 * it, its oneDNN implementation choices (Winograd, the hand-written few-channel input gradient,
 * the fused residual declined where windows lie wholly in padding), its pool of freed arrays,
 * its thread setting, its behaviour under a sampling profiler's signals, and what happens
 * without the addon. Its kernels' values are checked against the reference by the shared
 * conformance suite (conformance*.test.ts).
 *
 * Skipped, saying why, where the addon is not built (no compiler, no oneDNN, another OS).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backendByName, backendNames } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { repoRoot } from '../helpers.js';
import { convCases } from './kernel_cases.js';

const js = backendByName('js');
const load = loadNativeAddon();
const skip = load.addon ? false : `the native addon is not available: ${load.reason}`;

describe('native backend', { skip }, () => {
  test('the registry offers native, and it is the default where the addon loads', () => {
    assert.ok(backendNames().includes('native'));
    assert.equal(backendByName('native').name, 'native');
    if (!process.env.RECEPTIVE_BACKEND) {
      // This file never calls setBackend outside withBackend, which restores the default.
      assert.equal(rc.getBackend(), 'native');
    }
    assert.deepEqual(rc.nativeBackendStatus(), { available: true });
    const info = (backendByName('native') as NativeBackend).info();
    assert.match(info.onednn, /^\d+\.\d+\.\d+$/);
  });

  describe('oneDNN implementations', () => {
    const be = new NativeBackend(load.addon!);
    for (const threads of [1, 2]) {
      // Threads are the process's (OpenMP's): set them before each test of this group.
      const run = (name: string, fn: () => void) =>
        test(`${name} (${threads} thread${threads > 1 ? 's' : ''})`, () => {
          const before = be.threads;
          be.setThreads(threads);
          try {
            fn();
          } finally {
            be.setThreads(before);
          }
        });
      run('big 3x3 convolutions take Winograd where oneDNN has it (AVX-512), others direct', () => {
        const wino = convCases.find(([n]) => n.startsWith("Winograd's range (3x3"))![1];
        const impl = be.convImplementations(wino);
        const lenet = be.convImplementations(
          convCases.find(([n]) => n.startsWith('one input'))![1],
        );
        if (be.info().isa.startsWith('avx512')) {
          assert.match(impl.forward, /wino/);
          assert.match(impl.backwardData, /wino/);
          assert.match(impl.backwardWeights, /wino/);
          // Inference with a residual too: the residual is reordered into Winograd's blocked
          // output, which the convolution adds to (conformance_conv checks the values).
          assert.match(impl.fusedResidual, /wino/);
        }
        assert.doesNotMatch(lenet.forward, /wino|ref/);
      });

      run(
        'a residual whose windows lie wholly in padding is added apart (oneDNN 2.6 crashed)',
        () => {
          const padded = convCases.find(([n]) => n.includes('stride 3 in columns, padded'))![1];
          assert.equal(be.convImplementations(padded).fusedResidual, 'none');
          const same3x3 = convCases.find(([n]) => n === '3x3 same')![1];
          assert.notEqual(be.convImplementations(same3x3).fusedResidual, 'none');
        },
      );

      run(
        'conv2dFused with a residual: the same values from an addon that takes it only in the output (an older build)',
        () => {
          // An addon built before info().residualArray reads the residual from the output array:
          // the backend must put it there rather than pass the array.
          const older = { ...load.addon! };
          older.info = () => {
            const { residualArray: _, ...rest } = load.addon!.info();
            return rest;
          };
          const oldBe = new NativeBackend(older);
          for (const name of ["Winograd's range (3x3", '3x3 same']) {
            const c = convCases.find(([n]) => n.startsWith(name))![1];
            const rnd = (n: number) =>
              Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7));
            const ySize = c.batch * c.outH * c.outW * c.outC;
            const out = (b: NativeBackend) => {
              const w = (a: Float32Array) => b.write(a, 'float32');
              const y = b.conv2dFused(
                w(rnd(c.batch * c.inH * c.inW * c.inC)),
                w(rnd(c.kh * c.kw * c.inC * c.outC)),
                c,
                { bias: w(rnd(c.outC)), residual: w(rnd(ySize).map((v) => v * 3)), relu: true },
              );
              assert.ok(y, name);
              return b.read(y);
            };
            assert.deepEqual(out(oldBe), out(be), name);
          }
        },
      );

      run('input gradients with few input channels take the hand-written kernel (AVX-512)', () => {
        const few = convCases.filter(
          ([n]) => n.startsWith('few channels') || n.startsWith('LeNet'),
        );
        assert.equal(few.length, 3);
        for (const [name, c] of few) {
          const impl = be.convImplementations(c).backwardData;
          if (be.info().isa.startsWith('avx512')) assert.equal(impl, 'direct:few-channels', name);
        }
        // Not for 16 channels and up, dilated columns or groups: oneDNN's there.
        for (const name of ['1x1 groups 4', 'dilation 2', "Winograd's range (3x3"]) {
          const c = convCases.find(([n]) => n.startsWith(name))![1];
          assert.doesNotMatch(be.convImplementations(c).backwardData, /direct/, name);
        }
      });
    }
  });

  describe('step scopes: freed arrays are reused, freed tensors refuse to be read', () => {
    const be = new NativeBackend(load.addon!);
    const f = (n: number, v: number) => be.write(new Float32Array(n).fill(v), 'float32');

    test('a tensor freed by its scope throws; what the scope kept stays readable', () => {
      be.beginScope();
      const a = f(5000, 1);
      const b = be.unary('neg', a);
      const kept = be.endScope(new Set([b]));
      assert.deepEqual(kept, [b]);
      assert.equal(be.read(b)[0], -1);
      assert.throws(() => be.read(a), /freed at the end of the training step/);
      assert.throws(() => be.unary('neg', a), /freed at the end of the training step/);
      assert.ok(be.pooledMemory() >= 5000 * 4, 'the freed array went to the pool');
    });

    test('the pool keeps freed arrays up to poolMaxBytes, no more; a bad limit is refused', () => {
      const small = new NativeBackend(load.addon!, { poolMaxBytes: 5000 * 4 });
      const g = (n: number) => small.write(new Float32Array(n).fill(1), 'float32');
      small.beginScope();
      g(5000);
      g(5000);
      small.endScope(new Set());
      assert.equal(small.pooledMemory(), 5000 * 4, 'one of the two fits');
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
        assert.throws(() => new NativeBackend(load.addon!, { poolMaxBytes: bad }), /poolMaxBytes/);
      // The registered backend may pool a quarter of the machine's memory, at least 1 GiB.
      const registered = backendByName('native') as unknown as { poolMaxBytes: number };
      assert.ok(registered.poolMaxBytes >= 2 ** 30);
    });

    test("free() frees storages now; other backends' storages are ignored", () => {
      const a = f(3000, 2);
      be.free([a, js.write([1, 2], 'float32')]);
      assert.throws(() => be.read(a), /freed/);
    });
  });

  test('setThreads validates its argument, and getThreads reports it', () => {
    const be = backendByName('native') as NativeBackend;
    assert.throws(() => be.setThreads(0), /whole number/);
    assert.throws(() => be.setThreads(1.5), /whole number/);
    const before = be.threads;
    be.setThreads(1);
    assert.equal(be.threads, 1);
    be.setThreads(before);
  });
});

describe('native backend under signals', { skip }, () => {
  test('a profiler sampling the thread mid-GEMM corrupts nothing (oneDNN 2.6 sgemm did)', () => {
    // node --cpu-prof interrupts the main thread with SIGPROF about every millisecond; before
    // the addon held signals off during sgemm, this run ended in "corrupted size vs. prev_size".
    const script = [
      `const { loadNativeAddon } = await import(${JSON.stringify(join(repoRoot, 'build', 'src', 'backend', 'native', 'native_addon.js'))});`,
      'const a = loadNativeAddon().addon;',
      'const [m, n, k] = [128, 120, 256];',
      'const A = new Float32Array(m * k).fill(0.5), B = new Float32Array(k * n).fill(0.25);',
      'const C = new Float32Array(m * n);',
      'for (let i = 0; i < 20000; i++) a.matmul(A, B, C, 1, m, n, k, false, false);',
      'console.log(C[0]);',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'receptive-prof-'));
    try {
      const r = spawnSync(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', dir, '--input-type=module', '-e', script],
        { cwd: repoRoot, encoding: 'utf8' },
      );
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), String(0.5 * 0.25 * 256));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs a script (ES module lines) in a fresh Node, with the addon path pointing nowhere. */
function withoutAddon(lines: string[]) {
  const script = [
    `const rc = await import(${JSON.stringify(join(repoRoot, 'build', 'src', 'index.js'))});`,
    ...lines,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      RECEPTIVE_BACKEND: '',
      RECEPTIVE_NATIVE_ADDON: '/nonexistent/receptive_native.node',
    },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

describe('native backend unavailable', () => {
  test("asking for 'native' without the addon says why once on stderr and runs on wasm", () => {
    const r = withoutAddon([
      "rc.setBackend('native');",
      "rc.setBackend('native');",
      'const y = rc.conv2d(rc.ones([1, 4, 4, 1]), rc.ones([3, 3, 1, 1]));',
      'console.log(JSON.stringify({ backend: rc.getBackend(), y: Array.from(y.dataSync()), status: rc.nativeBackendStatus() }));',
    ]);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.backend, 'wasm');
    assert.deepEqual(out.y, [9, 9, 9, 9]);
    assert.equal(out.status.available, false);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /'native' backend is unavailable.*Using 'wasm'/);
  });

  test('without the addon the default is wasm, silently', () => {
    const r = withoutAddon(['rc.ones([2]).dataSync();', 'console.log(rc.getBackend());']);
    assert.equal(r.stdout.trim(), 'wasm');
    assert.equal(r.stderr, '');
  });
});
