/**
 * Worker set-up shared by the playground's workers: the fastest backend that starts here. In a
 * cross-origin-isolated page the wasm backend keeps tensors in shared memory and splits its big
 * kernels over Web Workers of its own (started from this worker).
 */
import type { EnvInfo } from '../protocol.js';
import { getBackend, getThreads, setBackend } from '../rc.js';

export function startBackend(): EnvInfo {
  try {
    setBackend('wasm');
  } catch {
    setBackend('js'); // an engine without WebAssembly SIMD
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return {
    backend: getBackend(),
    crossOriginIsolated: isolated,
    sharedMemory: isolated && typeof SharedArrayBuffer === 'function',
    // The library's default: every core (at most 8) where the page is isolated, else 1.
    threads: getThreads(),
  };
}

/** The worker's global scope, typed loosely (the project compiles with the DOM library). */
export const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};
