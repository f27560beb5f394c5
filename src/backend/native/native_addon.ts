/**
 * Finds and loads the native addon (native/, built by `npm install` through
 * scripts/build-native.mjs). Node only: src/index.ts reaches this through ./register.ts, and the
 * browser entry never imports it. Loading never throws: it gives the addon or the reason it is
 * unavailable, in words a user can act on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions of native/src/*.cc. Arrays are read and written in place; geometry is int32. */
export interface NativeAddon {
  /** residualArray: conv2dFused takes its residual as an array (absent in older builds). */
  info(): { onednn: string; isa: string; threads: number; residualArray?: boolean };
  setThreads(n: number): void;
  getThreads(): number;
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, geo: Int32Array, wId: number): boolean;
  conv2dBackwardInput(
    dy: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    geo: Int32Array,
  ): boolean;
  conv2dBackwardFilter(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    geo: Int32Array,
  ): boolean;
  convImpl(geo: Int32Array): {
    forward: string;
    backwardData: string;
    backwardWeights: string;
    fusedResidual: string;
  };
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void;
  conv2dFused(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    geo: Int32Array,
    wId: number,
    relu: boolean,
    /** Added before the ReLU: an array of y's size, or true when y holds it on entry. */
    residual: Float32Array | boolean,
  ): boolean;
  pool(mode: number, x: Float32Array, y: Float32Array, geo: Int32Array): void;
  poolBackward(
    mode: number,
    x: Float32Array | null,
    dy: Float32Array,
    dx: Float32Array,
    geo: Int32Array,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array): void;
  binary(
    op: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    outer: number,
    aOuter: number,
    bOuter: number,
    inner: number,
    aInner: number,
    bInner: number,
  ): void;
  sum2d(x: Float32Array, outer: number, inner: number, overOuter: boolean, out: Float32Array): void;
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    channels: number,
    epsilon: number,
  ): void;
  activationGrad(op: number, dy: Float32Array, v: Float32Array, out: Float32Array): void;
  /** The index of the first NaN or ±Infinity, or -1. */
  firstNonFinite(x: Float32Array): number;
  adam(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vMax: Float32Array | null,
    pOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    vMaxOut: Float32Array | null,
    scalars: Float32Array,
  ): void;
  /** One SGD step: buf and bufOut null without momentum; scalars: lr, momentum, weight decay. */
  sgd(
    p: Float32Array,
    g: Float32Array,
    buf: Float32Array | null,
    pOut: Float32Array,
    bufOut: Float32Array | null,
    scalars: Float32Array,
    nesterov: boolean,
  ): void;
  batchNormBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    channels: number,
    epsilon: number,
    dx: Float32Array,
    dMean: Float32Array,
    dVariance: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
  ): void;
  /** Per-channel mean and biased variance of x over its rows, in one pass (float64 sums). */
  moments(x: Float32Array, channels: number, mean: Float32Array, variance: Float32Array): void;
  /** Training-mode batch norm's backward with x's own batch statistics. */
  batchNormTrainingBackward(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    channels: number,
    epsilon: number,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
  ): void;
}

export type AddonLoad =
  | { addon: NativeAddon; reason?: undefined }
  | { addon: null; reason: string };

const ADDON = join('native', 'build', 'Release', 'receptive_native.node');
/** Written by scripts/build-native.mjs when the build could not run or failed: one line, why. */
const STATUS = join('native', 'build-status.txt');

/** The package root: the nearest folder above this module with receptive's package.json. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'receptive') return dir;
      } catch {
        // an unreadable package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/**
 * Why the addon is not there, and how to build it: in a project that depends on receptive
 * (its install script again), and in a clone of receptive. scripts/build-native.mjs says the same.
 */
export function notBuiltReason(why: string): string {
  return `${why}; \`npm rebuild receptive\` builds it (needs g++, make, Python 3 and oneDNN: apt-get install g++ make python3 libdnnl-dev; in a clone of receptive: \`npm run build:native\`)`;
}

let loaded: AddonLoad | null = null;

/** The addon, loaded once; or why it is unavailable. */
export function loadNativeAddon(): AddonLoad {
  if (!loaded) loaded = tryLoad();
  return loaded;
}

function tryLoad(): AddonLoad {
  // RECEPTIVE_NATIVE_ADDON: an addon built elsewhere (or, in tests, a missing one).
  const override = process.env.RECEPTIVE_NATIVE_ADDON;
  if (override) {
    if (!existsSync(override)) {
      return {
        addon: null,
        reason: `RECEPTIVE_NATIVE_ADDON names ${override}, which does not exist`,
      };
    }
    return require_(override);
  }
  const root = packageRoot();
  if (!root) return { addon: null, reason: "receptive's package folder was not found" };
  const file = join(root, ADDON);
  if (!existsSync(file)) {
    let why = 'it was not built';
    try {
      const status = readFileSync(join(root, STATUS), 'utf8').trim();
      if (status) why = status;
    } catch {
      // no status file: the install script did not run (e.g. npm --ignore-scripts)
    }
    return { addon: null, reason: notBuiltReason(why) };
  }
  return require_(file);
}

/**
 * How long OpenMP's idle threads spin for work before they sleep, unless the user chose
 * (OMP_WAIT_POLICY, GOMP_SPINCOUNT or KMP_BLOCKTIME set). libgomp's default spins 300,000 times
 * (milliseconds): on a machine whose cores are busy with other processes the spinning threads take
 * the time slices the working ones need, and LeNet-5 steps went from ~12 to 230 ms
 * (bench/under_load.mjs). Not spinning at all (OMP_WAIT_POLICY=passive) wins under load but
 * costs an idle machine 60% (3.2 → 5.1 ms a step: waking a sleeping thread for each of a step's
 * many small parallel regions); 3,000 spins (tens of microseconds, the gap between a step's
 * kernels) kept the idle speed (3.18 against 3.15 ms) and most of passive's gain under load.
 * KMP_BLOCKTIME (milliseconds) is LLVM libomp's counterpart, where the addon is built with it.
 * The runtime reads these once, as it starts (libgomp: when the addon is loaded; libomp: at the
 * addon's first parallel region, in its init), so they are set for the load only and then
 * restored: child processes inherit nothing.
 */
const SPIN = { GOMP_SPINCOUNT: '3000', KMP_BLOCKTIME: '1' };

function withBoundedOpenMpWait<T>(load: () => T): T {
  const env = process.env;
  const chosen =
    env.OMP_WAIT_POLICY !== undefined ||
    env.GOMP_SPINCOUNT !== undefined ||
    env.KMP_BLOCKTIME !== undefined;
  if (chosen) return load();
  Object.assign(env, SPIN);
  try {
    return load();
  } finally {
    for (const k of Object.keys(SPIN)) delete env[k];
  }
}

function require_(file: string): AddonLoad {
  try {
    const addon = withBoundedOpenMpWait(() => createRequire(import.meta.url)(file) as NativeAddon);
    addon.info();
    return { addon };
  } catch (e) {
    const first = String((e as Error).message ?? e).split('\n')[0];
    return { addon: null, reason: `${file} could not be loaded (${first})` };
  }
}
