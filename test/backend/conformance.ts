/**
 * The backends the conformance suite (conformance*.test.ts) checks against the js reference, and
 * how: each target names a backend of the registry, says why it cannot run in this process (then
 * its tests are skipped with that reason), and lists the configurations every kernel test runs
 * on (builds, memories, thread counts). A new backend joins the suite by adding one entry to
 * `targets` below.
 *
 * Results are read with `await` (kernel_cases.ts readResult), so that the same suite runs on
 * webgpu in a browser page (web/e2e/webgpu.mjs bundles these files with stand-ins for node:test
 * and node:assert); there the webgpu target runs and the others are skipped, and in Node the
 * reverse.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend, BinaryOp, ConvInfo, Storage, UnaryOp } from '../../src/backend/backend.js';
import { loadNativeAddon } from '../../src/backend/native/native_addon.js';
import { NativeBackend } from '../../src/backend/native/native_backend.js';
import { backendByName } from '../../src/backend/registry.js';
import {
  WasmBackend,
  type WasmVariant,
  wasmSupported,
  wasmVariantSupported,
} from '../../src/backend/wasm/wasm_backend.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu_backend.js';
import { Random } from '../../src/util/random.js';
import { assertRel, assertSame, assertWithin, randomValues, readResult } from './kernel_cases.js';

/** One way to run a backend: a build, a memory, a thread count. */
export interface Config {
  name: string;
  backend: Backend;
  /** Threads to set before each test and restore after (a process-wide setting: OpenMP's). */
  threads?: number;
  /** Run each kernel inside a step scope (where the backend keeps a scope's tensors itself). */
  scoped?: boolean;
  /** What the configuration promises (workers started, memory shared): its first test. */
  check?: () => void | Promise<void>;
}

export interface Target {
  /** The backend's name in the registry (the tests through the ops select it). */
  name: string;
  /** Why the backend cannot run in this process (its tests are skipped saying so), or false. */
  skip: string | false;
  /** The configurations to run every kernel test on; called once a file, when not skipped. */
  configs(): Config[];
  /** Its float32 sums are the reference's bit for bit (else: within float32 rounding). */
  exactSums?: boolean;
  /**
   * Elementwise ops computed from float32 approximations (a GPU's division, exp, log, sqrt, pow)
   * rather than rounded once from float64 as the reference's are, each with the relative error
   * allowed (their NaN, ±Infinity and ±0 results still exactly the reference's); the other
   * elementwise ops are bit for bit.
   */
  approximate?: Partial<Record<UnaryOp | BinaryOp, number>>;
  /** Whether conv2dFused must run (not decline with null) for this geometry. */
  fuses?(be: Backend, c: ConvInfo, residual: boolean): boolean;
}

/** The wasm builds to check: the default one, and the relaxed-SIMD one where it runs. */
export const wasmVariants: WasmVariant[] = (['simd', 'relaxed'] as const).filter((v) =>
  wasmVariantSupported(v),
);

/**
 * Each wasm build on one thread with its own memory, on one thread with tensors in shared
 * memory, and on three threads sharing one memory with every call split (uneven splits, a
 * worker per piece).
 */
export const wasmModes = [
  { name: 'own memory, tensors in JS arrays', options: { shared: false } },
  { name: 'tensors in shared memory, one thread', options: {} },
  { name: 'three threads', options: { threads: 3, minParallelFlops: 0 } },
];

const nativeLoad = loadNativeAddon();

/** In a browser page (web/e2e/webgpu.mjs) the suite runs on webgpu only. */
const inPage = typeof document !== 'undefined';

/** The webgpu backend, where `await setBackend('webgpu')` started it in this process. */
function startedWebGpu(): WebGpuBackend | null {
  try {
    return backendByName('webgpu') as WebGpuBackend;
  } catch {
    return null;
  }
}

export const targets: Target[] = [
  {
    name: 'wasm',
    skip: inPage
      ? 'the page runs the webgpu target only (Node runs wasm, threads and shared memory included)'
      : wasmSupported()
        ? false
        : 'this engine has no WebAssembly SIMD',
    exactSums: true,
    configs: () =>
      wasmVariants.flatMap((variant) =>
        wasmModes.map((mode) => {
          const be = new WasmBackend({ variant, ...mode.options });
          const threads = mode.options.threads;
          return {
            name: `${variant} build, ${mode.name}`,
            backend: be,
            // With shared memory, tensors live in wasm memory inside a scope (a training step):
            // run there, so that kernels read and write tensors in place; outside, JS arrays.
            scoped: be.resident,
            check: threads
              ? () => {
                  assert.equal(be.threads, threads);
                  assert.ok(be.shared);
                  assert.ok(be.waitForThreads(20000), 'workers did not start within 20 s');
                }
              : undefined,
          };
        }),
      ),
  },
  {
    name: 'native',
    skip: nativeLoad.addon ? false : `the native addon is not available: ${nativeLoad.reason}`,
    configs: () => {
      // One instance: its threads are the process's (OpenMP's), set before each test.
      const be = new NativeBackend(nativeLoad.addon!);
      return [1, 2].map((threads) => ({
        name: `${threads} thread${threads > 1 ? 's' : ''}`,
        backend: be,
        threads,
      }));
    },
    // With a residual some geometries decline (windows wholly in padding): ask.
    fuses: (be, c, residual) =>
      !(residual && (be as NativeBackend).convImplementations(c).fusedResidual === 'none'),
  },
  {
    name: 'webgpu',
    skip: startedWebGpu() ? false : 'WebGPU runs in Chromium: web/e2e/webgpu.mjs',
    // WGSL lets these be a few ulp off (its accuracy table: division 2.5 ulp, exp 3 + 2|x| ulp,
    // log 3 ulp, sqrt as 1 / inverseSqrt, pow as exp2(y · log2(x))): these bounds cover that on
    // the suite's inputs (|x| ≤ 20). SwiftShader: division and sqrt exact, rsqrt 1 ulp off, log
    // 3 ulp, pow 5e-7, sigmoid 1e-6, exp 2e-6 at most.
    approximate: {
      div: 1e-6,
      reciprocal: 1e-6,
      sqrt: 1e-6,
      rsqrt: 1e-6,
      log: 1e-6,
      exp: 6e-6,
      sigmoid: 6e-6,
      pow: 6e-6,
    },
    configs: () => {
      const be = startedWebGpu()!;
      // In a scope, as a training step runs: its buffers go back to the pool at its end.
      return [{ name: 'the first adapter, in step scopes', backend: be, scoped: true }];
    },
  },
];

export const js = backendByName('js');

/** A test of one configuration: with its threads set, and its random values. */
export interface Run {
  cfg: Config;
  target: Target;
  be: Backend;
  rng: Random;
  randn(n: number): Float32Array;
  test(name: string, fn: () => void | Promise<void>): void;
  /** The backend's result (readResult: awaited, as a GPU's must be). */
  read(s: Storage): Promise<Float32Array | Int32Array>;
  /**
   * Runs the same kernel on js and on the backend with the same values; compares within 1e-4
   * of the largest value, or bit for bit (`exact` true), or as assertWithin (`exact` a relative
   * error: the target's `approximate` entry for an op).
   */
  same(
    inputs: Float32Array[],
    kernel: (b: Backend, s: Storage[]) => Storage,
    msg: string,
    exact?: boolean | number,
  ): Promise<void>;
}

/**
 * The reference's results, kept for the next configuration: every configuration of a file draws
 * the same values in the same order, so the js kernels run once a file, not once a
 * configuration. A hit needs the same key and the same input values, bit for bit.
 */
const references = new Map<string, { inputs: ArrayLike<number>[]; result: unknown }>();

function sameValues(a: ArrayLike<number>[], b: ArrayLike<number>[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]!;
      if (x.length !== y.length) return false;
      for (let j = 0; j < x.length; j++) if (!Object.is(x[j], y[j])) return false;
      return true;
    })
  );
}

/** compute(), or its result for the same key and input values made earlier in this file. */
export function reference<T>(key: string, inputs: ArrayLike<number>[], compute: () => T): T {
  const hit = references.get(key);
  if (hit && sameValues(hit.inputs, inputs)) return hit.result as T;
  const result = compute();
  references.set(key, {
    inputs: inputs.map((v) => (v instanceof Float32Array ? v.slice() : Float64Array.from(v))),
    result,
  });
  return result;
}

/** Runs the kernel on `be` inside a scope where the configuration asks for one; reads it. */
export async function runOn(
  cfg: Config,
  inputs: ArrayLike<number>[],
  kernel: (b: Backend, s: Storage[]) => Storage,
): Promise<Float32Array | Int32Array> {
  const be = cfg.backend;
  if (cfg.scoped) be.beginScope!();
  try {
    // Awaited here: the scope ends (its buffers are reused) only once the values are read.
    return await readResult(
      be,
      kernel(
        be,
        inputs.map((v) => be.write(v, 'float32')),
      ),
    );
  } finally {
    if (cfg.scoped) be.endScope!(new Set());
  }
}

/** Each target's configurations, made once a file (backends, worker threads). */
const configsMade = new Map<Target, Config[]>();

/**
 * Declares `body`'s tests for every configuration of every target, in a suite
 * `<target> backend, <configuration>: <title>` (skipped with the reason where the target cannot
 * run). Random values come from a generator seeded per configuration.
 */
export function forEachConfig(title: string, body: (r: Run) => void): void {
  for (const target of targets) {
    describe(`${target.name} backend: ${title}`, { skip: target.skip }, () => {
      if (target.skip) return;
      let configs = configsMade.get(target);
      if (!configs) {
        configs = target.configs();
        configsMade.set(target, configs);
      }
      for (const cfg of configs) {
        describe(cfg.name, () => {
          const rng = new Random(1234);
          const randn = (n: number) => randomValues(rng, n);
          const be = cfg.backend;
          let current = '';
          const run: Run = {
            cfg,
            target,
            be,
            rng,
            randn,
            test: (name, fn) =>
              test(name, async () => {
                current = name;
                const before = be.threads ?? 1;
                if (cfg.threads !== undefined) be.setThreads!(cfg.threads);
                try {
                  await fn();
                } finally {
                  if (cfg.threads !== undefined) be.setThreads!(before);
                }
              }),
            read: (s) => readResult(be, s),
            same: async (inputs, kernel, msg, exact = false) => {
              const expected = reference(`${title}\0${current}\0${msg}`, inputs, () =>
                js.read(
                  kernel(
                    js,
                    inputs.map((v) => js.write(v, 'float32')),
                  ),
                ),
              );
              const actual = await runOn(cfg, inputs, kernel);
              if (typeof exact === 'number') assertWithin(actual, expected, exact, msg);
              else if (exact) assertSame(actual, expected, msg);
              else assertRel(actual, expected, msg);
            },
          };
          if (cfg.check) test('the configuration is what it says', cfg.check);
          body(run);
        });
      }
    });
  }
}

/** Declares `body`'s tests once for every target (tests through the ops, by registry name). */
export function forEachTarget(title: string, body: (target: Target, rng: Random) => void): void {
  for (const target of targets) {
    describe(`${target.name} backend: ${title}`, { skip: target.skip }, () => {
      if (!target.skip) body(target, new Random(4321));
    });
  }
}
