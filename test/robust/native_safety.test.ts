/**
 * Issue #17, item 2: nothing a user can pass to a convolution, a pool or setThreads may end or
 * hang the process, on any backend.
 *
 * - A kernel with a zero dimension is a ShapeError at the op (conv2d, conv2dBias, conv2dFused,
 *   grouped, depthwise, transposed) on every backend; before, the native addon aborted the
 *   process (dnnl::error escaping into std::terminate) and js/wasm made up a shape of zeros.
 * - An empty batch gives an empty result of the right shape, forward and backward.
 * - The addon itself turns a C++ exception into a JS error (BackendError on the TS side) when a
 *   bad geometry reaches it past the ops' checks.
 * - setThreads refuses absurd counts (100000 crashed native and hung wasm), naming the cores.
 * - The wasm worker threads start when the program is an ES module run with
 *   --input-type=module (they died with "require is not defined", ending the process).
 *
 * Reproductions that could crash or hang run in a child process with a timeout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import type { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { conv2dBias, conv2dFused } from '../../src/ops/conv.js';
import { withBackend } from '../helpers.js';
import { describeChild, runChild } from './child.js';

const nativeLoad = loadNativeAddon();
const hasNative = nativeLoad.addon !== null;
const backends = ['js', 'wasm', ...(hasNative ? ['native'] : [])];

const zeroKernelCases: [string, () => unknown, RegExp][] = [
  [
    'conv2d [0,3,1,2]',
    () => rc.conv2d(rc.randn([1, 5, 5, 1]), rc.zeros([0, 3, 1, 2])),
    /conv2d: the kernel \[0, 3, 1, 2\].*kh = 0/,
  ],
  [
    'conv2d no filters',
    () => rc.conv2d(rc.randn([1, 5, 5, 1]), rc.zeros([3, 3, 1, 0])),
    /filters = 0/,
  ],
  [
    'conv2d no input channels',
    () => rc.conv2d(rc.randn([1, 5, 5, 0]), rc.zeros([3, 3, 0, 2])),
    /inChannels\/groups = 0.*no channels/,
  ],
  [
    'depthwise [0,3,2,1]',
    () => rc.depthwiseConv2d(rc.randn([1, 5, 5, 2]), rc.zeros([0, 3, 2, 1])),
    /depthwiseConv2d: the kernel \[0, 3, 2, 1\].*kh = 0/,
  ],
  [
    'depthwise multiplier 0',
    () => rc.depthwiseConv2d(rc.randn([1, 5, 5, 2]), rc.zeros([3, 3, 2, 0])),
    /depthMultiplier = 0/,
  ],
  [
    'grouped',
    () => rc.conv2d(rc.randn([1, 5, 5, 4]), rc.zeros([3, 0, 2, 4]), { groups: 2 }),
    /kw = 0/,
  ],
  [
    'conv2dTranspose',
    () => rc.conv2dTranspose(rc.randn([1, 5, 5, 1]), rc.zeros([3, 0, 2, 1])),
    /conv2dTranspose: the kernel \[3, 0, 2, 1\].*kw = 0/,
  ],
  [
    'conv2dBias',
    () => conv2dBias(rc.randn([1, 5, 5, 1]), rc.zeros([0, 3, 1, 2]), rc.zeros([2])),
    /conv2dBias: .*kh = 0/,
  ],
  [
    'conv2dFused',
    () =>
      conv2dFused(rc.randn([1, 5, 5, 1]), rc.zeros([3, 0, 1, 2]), {
        bias: rc.zeros([2]),
        relu: true,
      }),
    /conv2dFused: .*kw = 0/,
  ],
];

describe('kernels and windows with a zero dimension', () => {
  for (const b of backends) {
    for (const [name, f, message] of zeroKernelCases) {
      test(`${b}: ${name} is a ShapeError`, () => {
        withBackend(b, () =>
          assert.throws(f, (e: Error) => e instanceof rc.ShapeError && message.test(e.message)),
        );
      });
    }
    test(`${b}: a pool window with a zero side is refused`, () => {
      withBackend(b, () => {
        for (const pool of [rc.maxPool2d, rc.avgPool2d]) {
          assert.throws(
            () => pool(rc.randn([1, 4, 4, 3]), { poolSize: [0, 2] }),
            /poolSize must be a positive integer/,
          );
          assert.throws(
            () => pool(rc.randn([1, 4, 4, 3]), { poolSize: 2, strides: [2, 0] }),
            /strides must be a positive integer/,
          );
        }
      });
    });
  }

  test('native: the reproduction from the issue does not end the process', {
    skip: !hasNative,
  }, () => {
    const r = runChild(
      `rc.setBackend('native');
       for (const f of [() => rc.conv2d(rc.randn([1,5,5,1]), rc.zeros([0,3,1,2])),
                        () => rc.depthwiseConv2d(rc.randn([1,5,5,2]), rc.zeros([0,3,2,1]))]) {
         try { f(); console.log('no error'); } catch (e) { console.log(e.constructor.name); }
       }`,
    );
    assert.equal(r.status, 0, describeChild(r));
    assert.equal(r.stdout.trim(), 'ShapeError\nShapeError', describeChild(r));
  });
});

describe('an empty batch', () => {
  for (const b of backends) {
    test(`${b}: convolutions and pools give empty results of the right shape, with gradients`, () => {
      withBackend(b, () => {
        const cases: [
          string,
          (x: rc.Tensor, k: rc.Tensor) => rc.Tensor,
          number[],
          number[],
          number[],
        ][] = [
          [
            'conv2d',
            (x, k) => rc.conv2d(x, k, { padding: 'same', strides: 2 }),
            [0, 7, 7, 3],
            [3, 3, 3, 4],
            [0, 4, 4, 4],
          ],
          [
            'depthwise',
            (x, k) => rc.depthwiseConv2d(x, k),
            [0, 5, 5, 2],
            [3, 3, 2, 2],
            [0, 3, 3, 4],
          ],
          [
            'conv2dTranspose',
            (x, k) => rc.conv2dTranspose(x, k, { strides: 2, padding: 'same' }),
            [0, 5, 5, 1],
            [3, 3, 2, 1],
            [0, 10, 10, 2],
          ],
          [
            'conv2dBias',
            (x, k) => conv2dBias(x, k, rc.zeros([4])),
            [0, 5, 5, 3],
            [3, 3, 3, 4],
            [0, 3, 3, 4],
          ],
          ['maxPool2d', (x) => rc.maxPool2d(x), [0, 4, 4, 3], [1], [0, 2, 2, 3]],
          [
            'avgPool2d',
            (x) => rc.avgPool2d(x, { padding: 'same', poolSize: 3 }),
            [0, 4, 4, 3],
            [1],
            [0, 2, 2, 3],
          ],
        ];
        for (const [name, f, xShape, kShape, yShape] of cases) {
          const x = rc.zeros(xShape);
          const k = rc.randn(kShape);
          x.requiresGrad = true;
          k.requiresGrad = true;
          const y = f(x, k);
          assert.deepEqual(y.shape, yShape, name);
          assert.equal(y.dataSync().length, 0, name);
          rc.sum(y).backward();
          assert.deepEqual(x.grad!.shape, xShape, `${name}: dx`);
          if (k.grad) {
            assert.deepEqual(k.grad.shape, kShape, `${name}: dk`);
            assert.ok(
              k.grad.dataSync().every((v) => v === 0),
              `${name}: dk of an empty batch is zeros`,
            );
          }
        }
      });
    });
  }
});

describe('the native addon catches its own exceptions', { skip: !hasNative }, () => {
  test('a bad geometry past the ops is a BackendError naming the op, and the process goes on', () => {
    const be = backendByName('native') as NativeBackend;
    const store = (n: number, shape: number[]) => rc.tensor(new Float32Array(n), shape).storage;
    const info: rc.ConvInfo = {
      batch: 1,
      inH: 5,
      inW: 5,
      inC: 1,
      outH: 6,
      outW: 3,
      outC: 2,
      kh: 0,
      kw: 3,
      strideH: 1,
      strideW: 1,
      dilationH: 1,
      dilationW: 1,
      padTop: 0,
      padBottom: 0,
      padLeft: 0,
      padRight: 0,
      groups: 1,
    };
    withBackend('native', () => {
      assert.throws(
        () => be.conv2d(store(25, [1, 5, 5, 1]), store(6, [1, 3, 1, 2]), info),
        (e: Error) =>
          e instanceof rc.BackendError &&
          /conv2d \(native backend\).*invalid conv geometry/.test(e.message),
      );
      // Still alive and right.
      assert.deepEqual(
        Array.from(rc.matmul(rc.ones([2, 2]), rc.ones([2, 2])).dataSync()),
        [2, 2, 2, 2],
      );
    });
  });

  test('a oneDNN error inside the addon becomes a JS error, not an abort', () => {
    // Straight to the addon (no TS checks): a geometry whose sizes disagree. Before, a
    // dnnl::error here ended the process ("terminate called after throwing ...").
    const r = runChild(
      `const { loadNativeAddon } = await import(${JSON.stringify(new URL('../../src/backend/native/native_addon.js', import.meta.url).href)});
       const a = loadNativeAddon().addon;
       const geo = Int32Array.from([1,5,5,1, 6,3,2, 0,3, 1,1, 1,1, 0,0,0,0, 1]);
       try { a.conv2d(new Float32Array(25), new Float32Array(6), new Float32Array(36), geo, 0); console.log('no error'); }
       catch (e) { console.log('caught', e.message); }
       try { a.setThreads(100000); console.log('no error'); } catch (e) { console.log('caught', e.message); }
       console.log(a.getThreads() > 0 ? 'alive' : 'dead');`,
    );
    assert.equal(r.status, 0, describeChild(r));
    assert.match(r.stdout, /caught invalid conv geometry/, describeChild(r));
    assert.match(r.stdout, /caught threads must be between 1 and 1024/, describeChild(r));
    assert.match(r.stdout, /alive/, describeChild(r));
  });
});

describe('the native addon under load', { skip: !hasNative }, () => {
  test("OpenMP's spinning is bounded for the addon's load only, and a user's own setting wins", () => {
    const code = `rc.setBackend('native');
      rc.matmul(rc.ones([64, 64]), rc.ones([64, 64])).dataSync();
      console.log(JSON.stringify([process.env.GOMP_SPINCOUNT ?? null, process.env.KMP_BLOCKTIME ?? null, rc.getBackend()]));`;
    const env = { RECEPTIVE_BACKEND: '' };
    const r = runChild(code, { env });
    assert.equal(r.status, 0, describeChild(r));
    // Restored after the load: child processes of the user's program inherit nothing.
    assert.equal(r.stdout.trim(), '[null,null,"native"]', describeChild(r));
    const mine = runChild(code, { env: { ...env, GOMP_SPINCOUNT: '12345' } });
    assert.equal(mine.stdout.trim(), '["12345",null,"native"]', describeChild(mine));
  });
});

describe('the native addon under signals', { skip: !hasNative }, () => {
  test("a profiler's SIGPROF during GEMM-based convolution passes corrupts nothing", () => {
    // oneDNN picks GEMM-based kernels for many backward passes; like its sgemm they corrupted
    // the heap when a signal was handled mid-call ("corrupted size vs. prev_size" in 3 runs of 3
    // before conv.cc held signals off). node --cpu-prof sends SIGPROF about every millisecond.
    const dir = mkdtempSync(join(tmpdir(), 'receptive-prof-'));
    try {
      const r = runChild(
        `const { loadNativeAddon } = await import(${JSON.stringify(new URL('../../src/backend/native/native_addon.js', import.meta.url).href)});
         const a = loadNativeAddon().addon;
         let s = 7;
         const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
         const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
         const geos = [];
         while (geos.length < 6) {
           const groups = [1, 2, 3][int(0, 2)], inC = groups * int(1, 6), outC = groups * int(1, 8);
           const kh = int(1, 5), kw = int(1, 5), sH = int(1, 3), sW = int(1, 3), d = rnd() < 0.3 ? 2 : 1;
           const inH = int(kh * d, 14) + 10, inW = int(kw * d, 14) + 10;
           const outH = Math.floor((inH - d * (kh - 1) - 1) / sH) + 1, outW = Math.floor((inW - d * (kw - 1) - 1) / sW) + 1;
           const g = Int32Array.from([8, inH, inW, inC, outH, outW, outC, kh, kw, sH, sW, d, d, 0, 0, 0, 0, groups]);
           const im = a.convImpl(g);
           if (/gemm/.test(im.backwardData) || /gemm/.test(im.backwardWeights)) geos.push(g);
         }
         for (let i = 0; i < 3000; i++) {
           const g = geos[i % geos.length];
           const [b, inH, inW, inC, outH, outW, outC, kh, kw] = g;
           const x = new Float32Array(b * inH * inW * inC).fill(0.5), dy = new Float32Array(b * outH * outW * outC).fill(0.25);
           const w = new Float32Array(kh * kw * (inC / g[17]) * outC).fill(0.125);
           a.conv2dBackwardInput(dy, w, new Float32Array(x.length), g);
           a.conv2dBackwardFilter(x, dy, new Float32Array(w.length), g);
         }
         console.log('ok');`,
        { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir], timeoutMs: 180_000 },
      );
      assert.equal(r.status, 0, describeChild(r));
      assert.equal(r.stdout.trim(), 'ok', describeChild(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setThreads', () => {
  const cores = availableParallelism();
  for (const b of backends) {
    test(`${b}: setThreads(100000) is refused naming the cores, then ops still run`, () => {
      const r = runChild(
        `rc.setBackend(${JSON.stringify(b)});
         try { rc.setThreads(100000); console.log('no error'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
         const y = rc.matmul(rc.ones([64, 64]), rc.ones([64, 64])).dataSync();
         console.log('matmul', y[0], rc.getThreads());`,
        { timeoutMs: 60_000 },
      );
      assert.equal(r.status, 0, describeChild(r));
      assert.match(
        r.stdout,
        /Error: setThreads: 100000 threads is more than receptive runs \(at most 256\)/,
        describeChild(r),
      );
      assert.match(
        r.stdout,
        new RegExp(`this machine has ${cores} hardware thread`),
        describeChild(r),
      );
      assert.match(r.stdout, /matmul 64 /, describeChild(r));
    });
  }

  test('RECEPTIVE_THREADS above the bound is refused too', () => {
    const r = runChild(
      `try { rc.getThreads(); rc.matmul(rc.ones([2,2]), rc.ones([2,2])); console.log('no error'); } catch (e) { console.log(e.message); }`,
      {
        env: { RECEPTIVE_THREADS: '5000' },
      },
    );
    assert.equal(r.status, 0, describeChild(r));
    assert.match(
      r.stdout,
      /RECEPTIVE_THREADS: 5000 threads is more than receptive runs/,
      describeChild(r),
    );
  });

  test('wasm: 64 threads start in a program run as an ES module (--input-type=module)', () => {
    const r = runChild(
      `rc.setBackend('wasm');
       rc.setThreads(64);
       const a = rc.randn([256, 256]);
       for (let i = 0; i < 3; i++) rc.matmul(a, a).dataSync();
       console.log('threads', rc.getThreads());`,
      { timeoutMs: 120_000 },
    );
    assert.equal(r.status, 0, describeChild(r));
    assert.match(r.stdout, /threads 64/, describeChild(r));
    assert.doesNotMatch(r.stderr, /require is not defined|worker thread failed/, describeChild(r));
  });
});
