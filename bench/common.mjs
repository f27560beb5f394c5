// Shared by the bench workers: timing loops and the workloads' shapes (the same for every engine).
export const SHAPES = {
  W1: { name: 'LeNet-5 training (batch 128, Adam)', batch: 128, input: [28, 28, 1], classes: 10 },
  W2: { name: 'VGG13-CIFAR training (batch 32, Adam)', batch: 32, input: [32, 32, 3], classes: 10 },
  W3: { name: 'ResNet-18 inference 224×224', batches: [1, 8], input: [224, 224, 3], classes: 1000 },
  W4: { name: 'conv2d 3×3 64→64 56×56 batch 8', batch: 8, size: 56, channels: 64, k: 3 },
  W5: { name: 'GEMM 1024³', n: 1024 },
  W6: {
    name: 'ResNet-18 CIFAR-stem training step (32×32, batch 64, SGD momentum 0.9)',
    batch: 64,
    input: [32, 32, 3],
    classes: 10,
  },
  // Run only when asked for (--only W7): bench/onnx_import.mjs, receptive alone.
  W7: {
    name: 'ONNX import of torchvision ResNet-50 (224×224), and its inference beside the built one',
  },
};

/** GFLOP of W4 (each of forward, backward-input, backward-filter) and W5. */
export const W4_GFLOP = (2 * 8 * 56 * 56 * 64 * 64 * 9) / 1e9;
export const W5_GFLOP = (2 * 1024 ** 3) / 1e9;

/**
 * Runs fn to warm up (at least `warmup` calls and `warmupSeconds`: JIT compilers, caches and
 * memory pools settle), then until `minSeconds` have passed (at least `minIters` calls, at most
 * `maxIters`), and returns the median seconds per call. The budget bounds it all: a step that
 * takes minutes runs once to warm up and a few times measured. (torch_worker.py times the same.)
 */
export async function timeIt(
  fn,
  {
    minSeconds = 3,
    minIters = 3,
    maxIters = 100_000,
    warmup = 1,
    warmupSeconds = 1,
    budgetSeconds = 120,
  } = {},
) {
  const started = performance.now();
  for (let i = 0; i < warmup || performance.now() - started < warmupSeconds * 1000; i++) {
    await fn();
  }
  const times = [];
  const t0 = performance.now();
  while (
    times.length < maxIters &&
    (times.length < minIters || performance.now() - t0 < minSeconds * 1000)
  ) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
    if ((performance.now() - started) / 1000 > budgetSeconds) break;
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], iters: times.length };
}

export function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024;
}

/** Deterministic pseudo-random floats (the values do not matter for speed, only that they are not all zero). */
export function filled(n, seed = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * 0.2;
  }
  return a;
}
