/**
 * What filters see: for the trained LeNet-5 of "Draw a digit", the images that excite each
 * convolution filter and each class most (rc.vision.maximizeActivation), computed in a worker
 * when asked, group by group with a progress bar.
 */
import { chosenBackend } from './backend_switch.js';
import { $, keepValues } from './dom.js';
import { divergingImageData, drawZoomed, mapCanvas } from './pixels.js';
import type { FilterImage, FiltersReply, FiltersRequest } from './protocol.js';

export function initFilters(): void {
  const button = $<HTMLButtonElement>('#filters-run');
  const progress = $<HTMLProgressElement>('#filters-progress');
  const status = $('#filters-status');
  const box = $('#filters-grids');
  let worker: Worker | null = null;

  const show = (group: string, images: FilterImage[]) => {
    const cells = box.querySelector<HTMLElement>(`[data-group="${group}"] .cells`)!;
    for (const im of images) {
      const cell = document.createElement('figure');
      // As LeNet-5 sees its input (values 0..1): black no ink, white ink; not stretched, so
      // that a plain image looks plain.
      const canvas = mapCanvas(im.data, im.height, im.width, 3, 'clip');
      canvas.title = `${group === 'classes' ? 'class' : 'filter'} ${im.target}: activation ${im.start.toFixed(2)} at its start (the least exciting faint-noise tone), ${im.end.toFixed(2)} here`;
      canvas.dataset.start = String(im.start);
      canvas.dataset.end = String(im.end);
      keepValues(canvas, im.data);
      const label = document.createElement('figcaption');
      label.textContent = String(im.target);
      cell.append(canvas);
      if (im.kernel) {
        // The filter's own 5×5 weights: what a first-layer filter adds up, red + and blue −.
        const weights = document.createElement('canvas');
        weights.className = 'kernel';
        weights.title = `filter ${im.target}'s weights: red positive, blue negative; bias ${im.kernel.bias.toFixed(3)}`;
        weights.dataset.bias = String(im.kernel.bias);
        keepValues(weights, im.kernel.data);
        drawZoomed(
          weights,
          divergingImageData(im.kernel.data, im.kernel.height, im.kernel.width),
          Math.round(84 / im.kernel.width / 2),
        );
        cell.append(weights);
      }
      cell.append(label);
      cells.append(cell);
    }
  };

  button.addEventListener('click', () => {
    worker?.terminate();
    worker = new Worker(new URL('./workers/filters.worker.ts', import.meta.url), {
      type: 'module',
    });
    button.disabled = true;
    box.replaceChildren();
    box.dataset.done = 'false';
    progress.value = 0;
    progress.hidden = false;
    status.textContent = 'Loading LeNet-5…';
    worker.onmessage = (e: MessageEvent<FiltersReply>) => {
      const m = e.data;
      if (m.type === 'plan') {
        for (const g of m.groups) {
          const row = document.createElement('div');
          row.className = 'layer';
          row.dataset.group = g.name;
          const name = document.createElement('div');
          name.className = 'name';
          name.textContent = g.title;
          const cells = document.createElement('div');
          cells.className = 'cells';
          row.append(name, cells);
          box.append(row);
        }
        // webgpu asked for but not started there: say why (the worker runs on wasm then).
        const note = m.env.unavailable ? ` (not webgpu: ${m.env.unavailable})` : '';
        status.textContent = `Gradient ascent on the input, 128 steps per image, ${m.env.backend} backend in a Web Worker${note}…`;
      } else if (m.type === 'images') {
        show(m.group, m.images);
        progress.value = m.done / m.total;
        status.textContent = `${m.done} of ${m.total} images…`;
      } else if (m.type === 'done') {
        progress.hidden = true;
        button.disabled = false;
        box.dataset.done = 'true';
        status.textContent = `Done in ${(m.ms / 1000).toFixed(1)} s. Hover an image for its activation before and after.`;
      } else {
        progress.hidden = true;
        button.disabled = false;
        status.textContent = `Error: ${m.message}`;
      }
    };
    worker.onerror = (e) => {
      button.disabled = false;
      status.textContent = `The worker failed: ${e.message}`;
    };
    const run: FiltersRequest = {
      type: 'run',
      modelUrl: new URL('models/lenet5/', document.baseURI).href,
      backend: chosenBackend(),
    };
    worker.postMessage(run);
  });
}
