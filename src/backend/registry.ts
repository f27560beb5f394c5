/**
 * Which backend runs the kernels. `js` is the reference; `js-f64` is the same code in float64,
 * used by gradient checks; `wasm` runs GEMM, convolutions, pooling and the common elementwise
 * ops as WebAssembly SIMD kernels.
 * The default is `wasm` where the engine has WebAssembly SIMD, else `js`; the environment
 * variable RECEPTIVE_BACKEND (Node) overrides it, e.g. `RECEPTIVE_BACKEND=js npm test`.
 */
import { BackendError } from '../util/errors.js';
import type { Backend } from './backend.js';
import { JsBackend } from './js/js_backend.js';
import { WasmBackend, wasmSupported } from './wasm/wasm_backend.js';

const factories = new Map<string, () => Backend>([
  ['js', () => new JsBackend()],
  ['js-f64', () => new JsBackend({ float64: true })],
  ['wasm', () => new WasmBackend()],
]);
const instances = new Map<string, Backend>();
let current: Backend | null = null;

export function registerBackend(name: string, factory: () => Backend): void {
  factories.set(name, factory);
}

export function backendNames(): string[] {
  return [...factories.keys()];
}

export function setBackend(name: string): void {
  current = backendByName(name);
}

export function backendByName(name: string): Backend {
  let b = instances.get(name);
  if (!b) {
    const make = factories.get(name);
    if (!make) {
      throw new BackendError(
        `setBackend: unknown backend '${name}'. Available: ${backendNames().join(', ')}.`,
      );
    }
    b = make();
    instances.set(name, b);
  }
  return b;
}

/** The name of the backend in use. */
export function getBackend(): string {
  return backend().name;
}

/** The backend in use (the default is chosen on first use). */
export function backend(): Backend {
  if (!current) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
      ?.env?.RECEPTIVE_BACKEND;
    current = env ? backendByName(env) : defaultBackend();
  }
  return current;
}

/** 'wasm' where it can start, else 'js'. */
function defaultBackend(): Backend {
  if (wasmSupported()) {
    try {
      return backendByName('wasm');
    } catch {
      // e.g. a browser that refuses synchronous compilation on the main thread
    }
  }
  return backendByName('js');
}
