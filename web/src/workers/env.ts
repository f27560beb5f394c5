/**
 * Worker set-up shared by the playground's workers: the backend the page's switch chose, wasm
 * by default. In a cross-origin-isolated page the wasm backend keeps tensors in shared memory
 * and splits its big kernels over Web Workers of its own (started from this worker). webgpu
 * runs in dedicated workers too (Chromium gives them navigator.gpu); where it cannot start,
 * the library warns and uses wasm, and the page is told why.
 */
import type { BackendChoice, EnvInfo } from '../protocol.js';
import { getBackend, getThreads, setBackend, webgpuAdapter } from '../rc.js';

/** Why webgpu did not start here, once it failed (the library warns only the first time). */
let webgpuFailure: string | null = null;

/** setBackend('webgpu'), keeping the reason of a fallback to wasm, which the library only warns. */
async function startWebgpu(): Promise<void> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    // "receptive: webgpu is not available here (REASON); using wasm."
    const reason = /not available here \((.*)\); using/s.exec(text);
    // Without the library's own "webgpu: " and full stop: the page frames it.
    if (reason) webgpuFailure = reason[1]!.replace(/^webgpu: /, '').replace(/\.$/, '');
    warn.apply(console, args);
  };
  try {
    if (!('gpu' in navigator)) webgpuFailure ??= 'this browser gives workers no navigator.gpu';
    await setBackend('webgpu');
  } finally {
    console.warn = warn;
  }
}

export async function startBackend(want: BackendChoice = 'wasm'): Promise<EnvInfo> {
  if (want === 'webgpu') await startWebgpu();
  else {
    try {
      await setBackend('wasm');
    } catch {
      await setBackend('js'); // an engine without WebAssembly SIMD
    }
  }
  const backend = getBackend();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return {
    backend,
    requested: want,
    adapter: backend === 'webgpu' ? webgpuAdapter() : null,
    unavailable: want === 'webgpu' && backend !== 'webgpu' ? (webgpuFailure ?? 'no adapter') : null,
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
