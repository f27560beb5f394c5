/**
 * Which backend runs the kernels. `js` is the reference; `js-f64` is the same code in float64,
 * used by gradient checks; `wasm` runs GEMM, convolutions, pooling and the common elementwise
 * ops as WebAssembly SIMD kernels. In Node, `native` (a C++ addon over oneDNN, optional; see
 * backend/native/) registers itself from the Node entry points, which prefer it by default.
 * The default is the preferred backend that can run (preferByDefault), else `wasm` where the
 * engine has WebAssembly SIMD, else `js`; the environment variable RECEPTIVE_BACKEND (Node)
 * overrides it, e.g. `RECEPTIVE_BACKEND=js npm test`.
 *
 * Threads: backends that have them (wasm with shared memory) run their big kernels on
 * `setThreads(n)` threads; the default is the machine's core count (at most 8), or the
 * environment variable RECEPTIVE_THREADS.
 */
import { BackendError } from '../util/errors.js';
import type { Backend } from './backend.js';
import { JsBackend } from './js/js_backend.js';
import { checkThreadCount, hardwareThreads } from './shared/threads.js';
import { WasmBackend, wasmSupported } from './wasm/wasm_backend.js';
import {
  createWebGpuBackend,
  type GpuAdapterInfo,
  WebGpuBackend,
} from './webgpu/webgpu_backend.js';

const factories = new Map<string, () => Backend>([
  ['js', () => new JsBackend()],
  ['js-f64', () => new JsBackend({ float64: true })],
  ['wasm', () => new WasmBackend()],
]);
/** Backends that start asynchronously (a GPU device is requested): setBackend awaits them. */
const asyncFactories = new Map<string, () => Promise<Backend>>([['webgpu', createWebGpuBackend]]);
/** Where an asynchronous backend could not start: its fallback, to say so once. */
const fallbacks = new Map<string, string>();
const instances = new Map<string, Backend>();
let current: Backend | null = null;
/** setBackend calls so far: an asynchronous start switches only if no call came after it. */
let setBackendCalls = 0;

/** Makes a backend available to setBackend under `name`; `factory` makes it on first use. */
export function registerBackend(name: string, factory: () => Backend): void {
  factories.set(name, factory);
}

/**
 * The backends that can be chosen: `js`, `js-f64`, `wasm`, `webgpu` (where an adapter exists),
 * and `native` where it registered.
 */
export function backendNames(): string[] {
  return [...factories.keys(), ...asyncFactories.keys()];
}

/**
 * Chooses the backend new tensors and ops run on (`'js'`, `'wasm'`, `'native'`, `'webgpu'`).
 * Tensors made before stay on theirs. RECEPTIVE_BACKEND sets the default in Node. The CPU
 * backends switch at once; `webgpu` first asks the browser for a GPU, so await it:
 * `await rc.setBackend('webgpu')`. Where no adapter exists it warns (console.warn, saying why)
 * and falls back to `wasm`. Resolves to the name of the backend in use.
 * @throws BackendError for an unknown name, listing the available ones
 */
export function setBackend(name: string): Promise<string> {
  const start = asyncFactories.get(name);
  const call = ++setBackendCalls;
  if (start && !instances.has(name)) {
    // A later setBackend call, made while this one waits for the GPU, wins.
    const latest = () => call === setBackendCalls;
    return start().then(
      (b) => {
        instances.set(name, b);
        if (!latest()) return backend().name;
        current = b;
        return b.name;
      },
      (e: unknown) => {
        const fallback = 'wasm';
        if (!fallbacks.has(name))
          console.warn(
            `receptive: ${name} is not available here (${reasonOf(e, name)}); using ${fallback}.`,
          );
        fallbacks.set(name, fallback);
        if (!latest()) return backend().name;
        current = backendByName(fallback);
        return current.name;
      },
    );
  }
  current = backendByName(name);
  return Promise.resolve(current.name);
}

/** Why a backend did not start, without its own 'name: ' prefix and final period. */
function reasonOf(e: unknown, name: string): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(new RegExp(`^${name}: `), '').replace(/\.$/, '');
}

export function backendByName(name: string): Backend {
  let b = instances.get(name);
  if (!b) {
    if (asyncFactories.has(name))
      throw new BackendError(
        `The ${name} backend starts asynchronously: call \`await rc.setBackend('${name}')\` first.`,
      );
    const make = factories.get(name);
    if (!make) {
      throw new BackendError(
        `setBackend: unknown backend '${name}'. Available: ${backendNames().join(', ')}.`,
      );
    }
    b = make();
    b.setThreads?.(threadSetting());
    instances.set(name, b);
  }
  return b;
}

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}

/** Most threads used by default: beyond this, splitting kernels gains little. */
const MAX_DEFAULT_THREADS = 8;
let threadsWanted: number | null = null;

function threadSetting(): number {
  if (threadsWanted === null) {
    const fromEnv = env('RECEPTIVE_THREADS');
    if (fromEnv !== undefined && fromEnv !== '') {
      const n = Number(fromEnv);
      if (!Number.isInteger(n) || n < 1) {
        throw new BackendError(
          `RECEPTIVE_THREADS must be a whole number ≥ 1, got '${fromEnv}'. Unset it to use every core.`,
        );
      }
      checkThreadCount(n, BackendError, 'RECEPTIVE_THREADS');
      threadsWanted = n;
    } else threadsWanted = Math.max(1, Math.min(MAX_DEFAULT_THREADS, hardwareThreads()));
  }
  return threadsWanted;
}

/**
 * Runs the big kernels (GEMM, convolutions) on n threads: the calling thread and n − 1 workers.
 * Applies to the backend in use and to backends started later. The wasm backend needs shared
 * memory for threads (always in Node; in browsers, a cross-origin-isolated page) and otherwise
 * stays at one; getThreads() tells what it got.
 */
export function setThreads(n: number): void {
  checkThreadCount(n, BackendError);
  threadsWanted = n;
  for (const b of instances.values()) b.setThreads?.(n);
}

/** How many threads the backend in use runs its kernels on. */
export function getThreads(): number {
  return backend().threads ?? 1;
}

/**
 * The GPU adapter the webgpu backend runs on (vendor, architecture, device, description, as the
 * browser reports them; SwiftShader is the software one), or null before
 * `await rc.setBackend('webgpu')` has started it.
 */
export function webgpuAdapter(): GpuAdapterInfo | null {
  const b = instances.get('webgpu');
  return b instanceof WebGpuBackend ? { ...b.adapter } : null;
}

/** The name of the backend in use. */
export function getBackend(): string {
  return backend().name;
}

/** The backend in use (the default is chosen on first use). */
export function backend(): Backend {
  if (!current) {
    const name = env('RECEPTIVE_BACKEND');
    current = name ? backendByName(name) : defaultBackend();
  }
  return current;
}

/** Backends preferred to 'wasm' as the default when they can run, best first. */
const preferred: { name: string; available: () => boolean }[] = [];

/**
 * Makes `name` the default backend wherever `available()` says it can run (Node's entry does
 * this for 'native'; the browser entry never loads it). Later calls take precedence.
 */
export function preferByDefault(name: string, available: () => boolean): void {
  preferred.unshift({ name, available });
}

/** The first preferred backend that can run, else 'wasm' where it can start, else 'js'. */
function defaultBackend(): Backend {
  for (const p of preferred) {
    if (p.available()) return backendByName(p.name);
  }
  if (wasmSupported()) {
    try {
      return backendByName('wasm');
    } catch {
      // e.g. a browser that refuses synchronous compilation on the main thread
    }
  }
  return backendByName('js');
}
