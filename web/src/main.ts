/**
 * The playground's page: five tabs, each started the first time it is shown. The page draws;
 * the library runs in Web Workers (the convolution lab's tiny convolutions excepted).
 */
import { initBackendSwitch } from './backend_switch.js';
import { initConvLab } from './conv_lab.js';
import { $ } from './dom.js';
import { initDrawDigit } from './draw_digit.js';
import { initFilters } from './filters.js';
import { initTrainLive } from './train_live.js';
import { initZoo } from './zoo.js';

const env = $('#env');
const setEnv = (text: string) => {
  env.textContent = text;
};
const tabs: Record<string, () => void> = {
  conv: initConvLab,
  draw: () => initDrawDigit(setEnv),
  filters: initFilters,
  train: () => initTrainLive(setEnv),
  zoo: initZoo,
};
const started = new Set<string>();

function show(): void {
  const name = location.hash.slice(1) in tabs ? location.hash.slice(1) : 'conv';
  for (const el of document.querySelectorAll<HTMLElement>('.tab'))
    el.classList.toggle('active', el.id === `tab-${name}`);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a'))
    a.classList.toggle('active', a.dataset.tab === name);
  if (!started.has(name)) {
    started.add(name);
    tabs[name]!();
  }
}

initBackendSwitch();
window.addEventListener('hashchange', show);
show();
if (!env.textContent)
  env.textContent = crossOriginIsolated
    ? 'cross-origin isolated: SharedArrayBuffer available'
    : 'not cross-origin isolated (serve with COOP/COEP headers for threads)';
