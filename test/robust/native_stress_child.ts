/**
 * A randomized stress of the native addon, run as its own process (a memory corruption ends
 * the process, not the test runner): convolutions forward and backward with random geometries
 * (strides, dilation, padding, groups, depthwise, transposed, the fused conv2dBias and
 * conv2dFused paths with a residual), pooling forward and backward, GEMM, the Adam step and
 * activation gradients, on thread counts changed at random. Every result is compared with the
 * js backend's; any mismatch exits 1 with the case.
 *
 *   node build/test/robust/native_stress_child.js <seconds> <seed>
 *
 * native_stress.test.ts runs it for a few seconds; for hunting heap corruption, run it for
 * minutes under AddressSanitizer (see native/README.md) while other
 * processes load the CPU.
 */
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';
import { conv2dBias, conv2dFused } from '../../src/ops/conv.js';

const seconds = Number(process.argv[2] ?? 3);
const rng = new rc.Random(Number(process.argv[3] ?? 1));
const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)]!;

/** Values of f(...) on 'native' and on 'js', from the same inputs (plain arrays). */
function both(
  inputs: { shape: number[]; grad?: boolean }[],
  f: (...xs: rc.Tensor[]) => rc.Tensor,
): { native: ArrayLike<number>[]; js: ArrayLike<number>[] } {
  const vals = inputs.map((i) =>
    Float32Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1),
  );
  const run = (backend: string) => {
    rc.setBackend(backend);
    const xs = inputs.map((inp, k) => {
      const t = rc.tensor(vals[k]!, inp.shape);
      if (inp.grad) t.requiresGrad = true;
      return t;
    });
    const y = f(...xs);
    const out: ArrayLike<number>[] = [y.dataSync().slice()];
    if (inputs.some((i) => i.grad)) {
      // A fixed random upstream gradient: Σ y ⊙ r.
      const r = rc.tensor(
        Float32Array.from({ length: y.size }, (_, i) => Math.sin(i * 12.9898) * 0.5),
        y.shape,
      );
      rc.sum(rc.mul(y, r)).backward();
      for (const x of xs) if (x.requiresGrad) out.push(x.grad!.dataSync().slice());
    }
    return out;
  };
  return { native: run('native'), js: run('js') };
}

function check(what: string, r: { native: ArrayLike<number>[]; js: ArrayLike<number>[] }): void {
  if (process.env.STRESS_LOG) console.log(what);
  r.js.forEach((ref, k) => {
    const got = r.native[k]!;
    let scale = 1e-3;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]!));
    for (let i = 0; i < ref.length; i++) {
      if (!(Math.abs(got[i]! - ref[i]!) <= 2e-3 * scale)) {
        console.error(`MISMATCH ${what} output ${k} at ${i}: native ${got[i]} js ${ref[i]}`);
        process.exit(1);
      }
    }
  });
}

type Case = () => string;

const paddings: rc.Padding[] = ['same', 'valid', 1];

const cases: [string, Case][] = [
  // conv2d forward and both gradients, groups too.
  [
    'conv2d',
    () => {
      const groups = pick([1, 1, 1, 2, 3]);
      const inC = groups * int(1, 6);
      const outC = groups * int(1, 8);
      const kh = int(1, 5);
      const kw = int(1, 5);
      const s: [number, number] = [int(1, 3), int(1, 3)];
      const d: [number, number] = rng.uniform() < 0.3 ? [int(1, 2), int(1, 2)] : [1, 1];
      const padding = pick(paddings);
      const h = int(kh * d[0], 14) + 2;
      const w = rng.uniform() < 0.2 ? int(30, 70) : int(kw * d[1], 14) + 2;
      const shape = [int(1, 5), h, w, inC];
      const k = [kh, kw, inC / groups, outC];
      check(
        `conv2d x ${shape} k ${k} s ${s} d ${d} ${padding} g ${groups}`,
        both(
          [
            { shape, grad: true },
            { shape: k, grad: true },
          ],
          (x, kk) => rc.conv2d(x!, kk!, { strides: s, dilationRate: d, padding, groups }),
        ),
      );
      return 'conv2d';
    },
  ],
  // Few input channels, stride 1: the hand-written input-gradient kernel (conv_direct.cc).
  [
    'conv2d-direct',
    () => {
      const inC = int(1, 8);
      const k = [int(1, 5), int(1, 5), inC, int(1, 20)];
      const shape = [int(1, 9), int(6, 20), int(6, 40), inC];
      // (Options drawn before `both`, which calls the function once per backend.)
      const padding = pick(paddings);
      const strides = pick([1, 1, 2]);
      check(
        `conv2d few-channels x ${shape} k ${k} ${padding} s ${strides}`,
        both([{ shape, grad: true }, { shape: k }], (x, kk) =>
          rc.conv2d(x!, kk!, { padding, strides }),
        ),
      );
      return 'conv2d-direct';
    },
  ],
  // Wide channels (Winograd and blocked layouts).
  [
    'conv2d-wide',
    () => {
      const shape = [int(1, 2), int(4, 10), int(4, 10), 32];
      const k = [3, 3, 32, 32];
      check(
        `conv2d wide x ${shape}`,
        both(
          [
            { shape, grad: true },
            { shape: k, grad: true },
          ],
          (x, kk) => rc.conv2d(x!, kk!, { padding: 'same' }),
        ),
      );
      return 'conv2d-wide';
    },
  ],
  [
    'depthwise',
    () => {
      const inC = int(1, 6);
      const mult = int(1, 3);
      const shape = [int(1, 4), int(5, 12), int(5, 12), inC];
      const k = [int(1, 4), int(1, 4), inC, mult];
      const padding = pick(paddings);
      const strides = int(1, 2);
      check(
        `depthwise x ${shape} k ${k} ${padding} s ${strides}`,
        both(
          [
            { shape, grad: true },
            { shape: k, grad: true },
          ],
          (x, kk) => rc.depthwiseConv2d(x!, kk!, { padding, strides }),
        ),
      );
      return 'depthwise';
    },
  ],
  [
    'conv2dTranspose',
    () => {
      const inC = int(1, 6);
      const filters = int(1, 6);
      const shape = [int(1, 4), int(2, 8), int(2, 8), inC];
      const k = [int(1, 4), int(1, 4), filters, inC];
      const strides = int(1, 3);
      const padding = pick(['same', 'valid'] as const);
      check(
        `conv2dTranspose x ${shape} k ${k} s ${strides} ${padding}`,
        both(
          [
            { shape, grad: true },
            { shape: k, grad: true },
          ],
          (x, kk) => rc.conv2dTranspose(x!, kk!, { strides, padding }),
        ),
      );
      return 'conv2dTranspose';
    },
  ],
  // The fused inference paths: conv + bias (+ residual) (+ ReLU), and conv2dBias's gradients.
  [
    'fused',
    () => {
      const inC = int(1, 40);
      const outC = int(1, 40);
      const shape = [int(1, 3), int(3, 12), int(3, 12), inC];
      const k = [int(1, 3), int(1, 3), inC, outC];
      const padding = pick(paddings);
      const residual = rng.uniform() < 0.5;
      const relu = rng.uniform() < 0.5;
      const probe = rc.conv2d(rc.zeros(shape), rc.zeros(k), { padding });
      const inputs = [{ shape }, { shape: k }, { shape: [outC] }];
      if (residual) inputs.push({ shape: probe.shape });
      check(
        `conv2dFused x ${shape} k ${k} ${padding} relu ${relu} residual ${residual}`,
        both(inputs, (x, kk, b, r) =>
          conv2dFused(x!, kk!, { bias: b!, padding, relu, ...(r ? { residual: r } : {}) }),
        ),
      );
      check(
        `conv2dBias x ${shape} k ${k}`,
        both(
          [
            { shape, grad: true },
            { shape: k, grad: true },
            { shape: [outC], grad: true },
          ],
          (x, kk, b) => conv2dBias(x!, kk!, b!, { padding }),
        ),
      );
      return 'fused';
    },
  ],
  [
    'pool',
    () => {
      const shape = [int(0, 5), int(3, 16), int(3, 16), pick([1, 3, 6, 16, 5, 33])];
      const poolSize = int(1, 3);
      const strides = int(1, 3);
      const padding = pick(['same', 'valid'] as const);
      const max = rng.uniform() < 0.5;
      check(
        `${max ? 'max' : 'avg'}Pool x ${shape} p ${poolSize} s ${strides} ${padding}`,
        both([{ shape, grad: true }], (x) =>
          (max ? rc.maxPool2d : rc.avgPool2d)(x!, { poolSize, strides, padding }),
        ),
      );
      return 'pool';
    },
  ],
  [
    'matmul',
    () => {
      const m = int(1, 200);
      const n = int(1, 200);
      const k = int(1, 300);
      check(
        `matmul ${m}x${k}x${n}`,
        both(
          [
            { shape: [m, k], grad: true },
            { shape: [k, n], grad: true },
          ],
          (a, b) => rc.matmul(a!, b!),
        ),
      );
      return 'matmul';
    },
  ],
  // Activation gradients (native's one-pass kernels from 512 elements).
  [
    'activation',
    () => {
      const shape = [int(1, 8), int(64, 300)];
      const f = pick([rc.relu, rc.tanh, rc.sigmoid]);
      check(
        `activation ${f.name} ${shape}`,
        both([{ shape, grad: true }], (x) => f(x!)),
      );
      return 'activation';
    },
  ],
  // The Adam step (native's one-pass kernel): native and js-composed give the same bits.
  [
    'adam',
    () => {
      const n = int(1, 5000);
      const vals = () => Float32Array.from({ length: n }, () => rng.uniform());
      const [p, g, m, v] = [vals(), vals(), vals(), vals()];
      const native = backendByName('native') as unknown as {
        adamUpdate: (...a: unknown[]) => { p: rc.Storage } | null;
      };
      const store = (a: Float32Array) => rc.tensor(a, [n]).storage;
      rc.setBackend('native');
      const h = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, sqrtBias2: 0.5, stepSize: 0.01 };
      const r = native.adamUpdate(store(p), store(g), store(m), store(v), null, h);
      if (r) {
        const got = r.p.backend.readF64(r.p);
        for (let i = 0; i < n; i++) {
          if (!Number.isFinite(got[i]!)) {
            console.error(`MISMATCH adam: non-finite at ${i}`);
            process.exit(1);
          }
        }
      }
      return 'adam';
    },
  ],
];

// STRESS_CASES=conv2d,pool: only those kinds (narrowing a failure down).
const only = process.env.STRESS_CASES?.split(',');
const chosen = only ? cases.filter(([kind]) => only.includes(kind)) : cases;
const counts: Record<string, number> = {};
const end = Date.now() + seconds * 1000;
let n = 0;
while (Date.now() < end) {
  if (n % 25 === 0) {
    // New thread counts clear the addon's primitive caches (built for a thread count).
    rc.setBackend('native');
    const t = int(1, 4);
    rc.setThreads(Number(process.env.STRESS_THREADS ?? t));
  }
  const what = pick(chosen)[1]();
  counts[what] = (counts[what] ?? 0) + 1;
  n++;
}
console.log(`ok ${n} cases ${JSON.stringify(counts)}`);
