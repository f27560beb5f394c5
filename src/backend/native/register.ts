/**
 * Adds the 'native' backend to the registry (Node only: src/index.ts imports this module, the
 * browser entry does not) and makes it the default where its addon loads.
 *
 * The addon is optional. Where it is unavailable (not built, no oneDNN, another OS), the
 * default is 'wasm' without a word (the install already said why, once), and asking for
 * 'native' by name (setBackend('native') or RECEPTIVE_BACKEND=native) prints one line to stderr
 * saying why and runs on 'wasm' instead; getBackend() then says 'wasm'.
 */
import { totalmem } from 'node:os';
import { backendByName, preferByDefault, registerBackend } from '../registry.js';
import { loadNativeAddon } from './native_addon.js';
import { NativeBackend } from './native_backend.js';

let warned = false;

registerBackend('native', () => {
  const r = loadNativeAddon();
  // The pool of freed arrays may hold a big step's working set (a quarter of the memory here).
  if (r.addon)
    return new NativeBackend(r.addon, { poolMaxBytes: Math.max(2 ** 30, totalmem() / 4) });
  if (!warned) {
    warned = true;
    console.warn(`receptive: the 'native' backend is unavailable: ${r.reason}. Using 'wasm'.`);
  }
  return backendByName('wasm');
});

preferByDefault('native', () => loadNativeAddon().addon !== null);

/** Whether the native backend can run here, and if not, why. */
export function nativeBackendStatus(): {
  /** Whether the addon loaded. */
  available: boolean;
  /** Why not (not built, failed to load, ...), when it did not. */
  reason?: string;
} {
  const r = loadNativeAddon();
  return r.addon ? { available: true } : { available: false, reason: r.reason };
}
