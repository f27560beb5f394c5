/**
 * Which backend runs the kernels. `js` is the reference; `js-f64` is the same code in float64,
 * used by gradient checks. Faster backends register themselves here.
 */
import { BackendError } from '../util/errors.js';
import type { Backend } from './backend.js';
import { JsBackend } from './js/js_backend.js';

const factories = new Map<string, () => Backend>([
  ['js', () => new JsBackend()],
  ['js-f64', () => new JsBackend({ float64: true })],
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
  if (!current)
    current = backendByName(
      (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
        ?.RECEPTIVE_BACKEND ?? 'js',
    );
  return current;
}
