/**
 * Thread counts, for every backend that runs threads (wasm's workers, native's OpenMP): how
 * many this machine has, and which counts setThreads accepts.
 */

/** How many threads this machine has (Node: available parallelism; browsers: hardwareConcurrency). */
export function hardwareThreads(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as typeof import('node:os') | undefined;
  if (os?.availableParallelism) return os.availableParallelism();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/**
 * The most threads setThreads accepts. Beyond the machine's cores threads only take turns;
 * far beyond, starting them fails (100000 OpenMP threads crashed the native backend, 100000
 * workers hung the wasm one). 256 leaves room for the largest machines.
 */
export const MAX_THREADS = 256;

/**
 * Checks a thread count given to setThreads (or RECEPTIVE_THREADS, named by `what`): a whole
 * number from 1 to MAX_THREADS, else throws `Err` saying so and naming this machine's cores.
 */
export function checkThreadCount(
  n: number,
  Err: new (message: string) => Error,
  what = 'setThreads',
): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new Err(`${what}: expected a whole number ≥ 1, got ${n}.`);
  }
  if (n > MAX_THREADS) {
    const cores = hardwareThreads();
    throw new Err(
      `${what}: ${n} threads is more than receptive runs (at most ${MAX_THREADS}); this machine has ${cores} ` +
        `hardware thread${cores === 1 ? '' : 's'}. Use a number from 1 to ${MAX_THREADS}, usually ${cores} (the default, up to 8).`,
    );
  }
}
