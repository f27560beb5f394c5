/**
 * The header's backend switch (wasm / webgpu) and, beside it, the backend the workers report
 * in use: "wasm · 2 threads", "webgpu · google swiftshader", or why webgpu is not in use. The
 * tabs whose workers compute ("Draw a digit", "Train live") follow the switch; an error on
 * webgpu sets it back to wasm.
 */
import { $ } from './dom.js';
import type { AdapterInfo, BackendChoice, EnvInfo } from './protocol.js';

const listeners: ((b: BackendChoice) => void)[] = [];
/** The error that sent the page back from webgpu, shown until webgpu is chosen again. */
let failure: string | null = null;
/** The adapter webgpu last started on: still named when an error sent the page back to wasm. */
let adapter: AdapterInfo | null = null;

const adapterName = (a: AdapterInfo) =>
  [a.vendor, a.architecture].filter(Boolean).join(' ') || 'an unnamed adapter';
const adapterData = (): Record<string, string> =>
  adapter ? { vendor: adapter.vendor, architecture: adapter.architecture } : {};
/** "webgpu (google swiftshader) failed: …": the failure, and the adapter it happened on. */
const failedText = (f: string) =>
  `webgpu${adapter ? ` (${adapterName(adapter)})` : ''} failed: ${f}`;

function select(): HTMLSelectElement {
  return $<HTMLSelectElement>('#backend');
}

/** The backend the switch shows. */
export function chosenBackend(): BackendChoice {
  return select().value === 'webgpu' ? 'webgpu' : 'wasm';
}

/** Calls `fn` whenever the switch changes (by hand or by a fallback). */
export function onBackendChange(fn: (b: BackendChoice) => void): void {
  listeners.push(fn);
}

/** Shows `text` beside the switch; `data` goes on the element's dataset (for the e2e test). */
function show(text: string, data: Record<string, string>): void {
  const el = $('#backend-status');
  el.textContent = text;
  for (const k of Object.keys(el.dataset)) delete el.dataset[k];
  Object.assign(el.dataset, data);
}

/** Shows what a worker reports in use: the backend, webgpu's adapter or its threads. */
export function showBackend(env: EnvInfo): void {
  const a = env.adapter;
  if (env.backend === 'webgpu' && a) {
    adapter = a;
    show(`webgpu · ${adapterName(a)}`, { backend: 'webgpu', ...adapterData() });
    $('#backend-status').title = [a.device, a.description].filter(Boolean).join(', ');
    return;
  }
  const threads = `${env.threads} thread${env.threads === 1 ? '' : 's'}`;
  if (env.unavailable !== null) {
    show(`webgpu unavailable here: ${env.unavailable} — using ${env.backend}`, {
      backend: env.backend,
      unavailable: env.unavailable,
    });
    // The switch tells the truth: what runs is wasm.
    if (chosenBackend() === 'webgpu') select().value = 'wasm';
    return;
  }
  if (failure !== null && env.backend !== 'webgpu')
    show(`${failedText(failure)} — using ${env.backend} · ${threads}`, {
      backend: env.backend,
      failed: failure,
      ...adapterData(),
    });
  else show(`${env.backend} · ${threads}`, { backend: env.backend });
}

/** An error on webgpu: the switch goes back to wasm, the error stays beside it. */
export function fallBackToWasm(message: string): void {
  failure = message;
  show(`${failedText(message)} — using wasm`, {
    backend: 'wasm',
    failed: message,
    ...adapterData(),
  });
  if (chosenBackend() !== 'wasm') {
    select().value = 'wasm';
    for (const fn of listeners) fn('wasm');
  }
}

/** The header's second line: the backend the workers run (threads where they count), the page's isolation. */
export function envLine(env: EnvInfo): string {
  const threads =
    env.backend === 'webgpu' ? '' : `, ${env.threads} thread${env.threads === 1 ? '' : 's'}`;
  return `${env.backend} backend in workers${threads} · page ${env.crossOriginIsolated ? 'cross-origin isolated (SharedArrayBuffer available)' : 'not cross-origin isolated'}`;
}

/** Wires the switch (once, at start). */
export function initBackendSwitch(): void {
  select().addEventListener('change', () => {
    const b = chosenBackend();
    failure = null;
    // The workers that follow it answer with what they got; until then, say where it applies.
    show(`${b}: for the workers of Draw a digit and Train live`, { pending: b });
    for (const fn of listeners) fn(b);
  });
}
