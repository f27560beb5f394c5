/** Worker set-up shared by the playground's workers: the fastest backend that starts here. */
import type { EnvInfo } from '../protocol.js';
import { getBackend, setBackend } from '../rc.js';

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
  };
}

/** The worker's global scope, typed loosely (the project compiles with the DOM library). */
export const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};
