/**
 * Draw a digit: what you draw is preprocessed as MNIST's digits were, and LeNet-5 (trained by
 * `receptive train lenet5`, shipped in public/models/lenet5/) predicts it in a worker as you
 * draw; the feature maps of each convolution and pooling layer are shown beside it, and heat
 * maps of why it answered (Grad-CAM, saliency, occlusion) over the drawing.
 */
import {
  chosenBackend,
  envLine,
  fallBackToWasm,
  onBackendChange,
  showBackend,
} from './backend_switch.js';
import { $, keepValues } from './dom.js';
import { mnistPreprocess } from './mnist_preprocess.js';
import { drawZoomed, greyImageData, heatImageData, mapCanvas, toBytes } from './pixels.js';
import type { DigitReply, DigitRequest, Explanation, FeatureMap } from './protocol.js';
import { fromMnistSample, loadMnistSamples } from './sample_images.js';

const STROKE = 22;
const HEATS = ['gradCam', 'saliency', 'occlusion'] as const;

export function initDrawDigit(onEnv: (text: string) => void): void {
  const canvas = $<HTMLCanvasElement>('#draw-canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const inputCanvas = $<HTMLCanvasElement>('#draw-input');
  const status = $('#draw-status');
  const prediction = $('#draw-prediction');
  const explainBox = $('#draw-explain');
  const explainClass = $<HTMLSelectElement>('#draw-explain-class');
  const camLayer = $<HTMLSelectElement>('#draw-gradcam-layer');
  const heatCanvas = {
    gradCam: $<HTMLCanvasElement>('#draw-gradcam'),
    saliency: $<HTMLCanvasElement>('#draw-saliency'),
    occlusion: $<HTMLCanvasElement>('#draw-occlusion'),
  };
  // The model's input of the drawing the latest request was made from.
  let input = new Float32Array(784);
  let predictMs = 0;
  const worker = new Worker(new URL('./workers/digit.worker.ts', import.meta.url), {
    type: 'module',
  });
  const send = (m: DigitRequest, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
  let ready = false;
  let inFlight = false;
  let dirty = false;
  let nextId = 1;
  let about = '';
  // Each change to the drawing bumps `drawn`; a prediction carries the version it was made
  // from, so the page (and its end-to-end test) can tell a stale answer from a settled one.
  let drawn = 0;
  let sent = 0;
  const changed = () => {
    drawn++;
    canvas.dataset.version = String(drawn);
  };

  // The version the canvas was last cleared at: answers about a drawing before it are not shown.
  let cleared = 0;
  const clear = () => {
    changed();
    cleared = drawn;
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    prediction.textContent = '?';
    prediction.dataset.digit = '';
    renderProbs(null);
    $('#draw-maps').replaceChildren();
    input = new Float32Array(784);
    drawZoomed(inputCanvas, greyImageData(new Uint8Array(784), 28, 28), 5);
    keepValues(inputCanvas, input);
    for (const k of HEATS) {
      drawZoomed(heatCanvas[k], greyImageData(new Uint8Array(784), 28, 28), 5);
      keepValues(heatCanvas[k], null);
    }
    explainBox.dataset.class = '';
    $('#draw-explain-what').textContent = '';
  };
  clear();

  function request(): void {
    if (!ready) return;
    if (inFlight) {
      dirty = true;
      return;
    }
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const ink = new Float32Array(canvas.width * canvas.height);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i]! / 255;
    const pixels = mnistPreprocess(ink, canvas.width, canvas.height);
    sent = drawn;
    if (!pixels) {
      prediction.dataset.version = String(sent); // nothing drawn: nothing to predict
      explainBox.dataset.version = String(sent);
      return;
    }
    input = pixels.slice();
    drawZoomed(inputCanvas, greyImageData(toBytes(pixels, 'clip'), 28, 28), 5);
    keepValues(inputCanvas, input);
    inFlight = true;
    dirty = false;
    const explain = explainClass.value === '' ? null : Number(explainClass.value);
    send(
      {
        type: 'predict',
        id: nextId++,
        pixels,
        explain,
        camLayer: camLayer.value || null,
        // Occlusion costs ten times Grad-CAM and saliency together: once the stroke ends.
        occlusion: !drawing,
      },
      [pixels.buffer],
    );
  }

  let params = 0;
  // The backend the worker predicts and explains on.
  let backendNow = 'wasm';
  const describe = (env: { backend: string; threads: number }) => {
    backendNow = env.backend;
    about =
      env.backend === 'webgpu'
        ? `LeNet-5, ${params.toLocaleString('en-US')} weights, webgpu backend in a Web Worker (predictions, feature maps and heat maps)`
        : `LeNet-5, ${params.toLocaleString('en-US')} weights, ${env.backend} backend in a Web Worker, ${env.threads} thread${env.threads === 1 ? '' : 's'}`;
  };
  const switchTo = (b: string) => {
    canvas.dataset.backend = ''; // until the worker answers
    send({ type: 'backend', backend: b === 'webgpu' ? 'webgpu' : 'wasm' });
  };
  onBackendChange((b) => {
    if (ready) switchTo(b);
  });

  worker.onmessage = (e: MessageEvent<DigitReply>) => {
    const m = e.data;
    if (m.type === 'backend') {
      describe(m.env);
      showBackend(m.env);
      canvas.dataset.backend = m.env.backend;
      onEnv(envLine(m.env));
      status.textContent = `${about}.`;
      // The drawing again, on the new backend.
      changed();
      request();
    } else if (m.type === 'ready') {
      ready = true;
      params = m.params;
      describe(m.env);
      showBackend(m.env);
      canvas.dataset.backend = m.env.backend;
      status.textContent = `${about}. Draw!`;
      // Grad-CAM's layer: the library's default (the last, coarsest) or any other spatial one.
      camLayer.append(...[...m.layers].reverse().map((name) => new Option(name, name)));
      onEnv(envLine(m.env));
      canvas.dataset.ready = 'true';
      if (chosenBackend() === 'webgpu') switchTo('webgpu');
      else request();
    } else if (m.type === 'prediction') {
      if (sent >= cleared) render(m.probs, m.maps);
      prediction.dataset.version = String(sent);
      prediction.dataset.backend = m.backend;
      predictMs = m.ms;
      status.textContent = `${about}: ${m.ms.toFixed(1)} ms for the prediction and the feature maps.`;
    } else if (m.type === 'explanation') {
      // The worker is free again only now: the next drawing goes after its heat maps.
      inFlight = false;
      if (sent >= cleared) renderExplanation(m.explanation);
      explainBox.dataset.version = String(sent);
      explainBox.dataset.backend = m.backend;
      explainBox.dataset.msPredict = predictMs.toFixed(2);
      explainBox.dataset.msExplain = m.ms.toFixed(2);
      const t = m.explanation.ms;
      explainBox.title = `In the worker: Grad-CAM ${t.gradCam.toFixed(1)} ms, saliency ${t.saliency.toFixed(1)} ms, occlusion ${t.occlusion.toFixed(1)} ms`;
      explainBox.dataset.msGradcam = t.gradCam.toFixed(2);
      explainBox.dataset.msSaliency = t.saliency.toFixed(2);
      explainBox.dataset.msOcclusion = t.occlusion.toFixed(2);
      status.textContent = `${about}: ${predictMs.toFixed(1)} ms for the prediction and the feature maps, ${m.ms.toFixed(1)} ms for the heat maps.`;
      if (dirty) request();
    } else {
      inFlight = false;
      status.textContent = `Error${m.backend === 'webgpu' ? ' on webgpu' : ''}: ${m.message}`;
      // webgpu is young: what fails there runs on wasm instead (the worker switches on request).
      if (m.backend === 'webgpu' || backendNow === 'webgpu') fallBackToWasm(m.message);
    }
  };
  worker.onerror = (e) => {
    status.textContent = `The worker failed: ${e.message}`;
  };
  send({ type: 'init', modelUrl: new URL('models/lenet5/', document.baseURI).href });
  void fetch(new URL('models/lenet5/history.json', document.baseURI))
    .then((r) => (r.ok ? r.json() : null))
    .then((h: { test?: { accuracy?: number }; epochs?: number } | null) => {
      const acc = h?.test?.accuracy;
      if (acc !== undefined) {
        const note = document.createElement('p');
        note.className = 'dim small';
        note.textContent = `Trained by 'receptive train lenet5 --epochs ${h?.epochs ?? '?'}': ${(acc * 100).toFixed(2)}% right on MNIST's 10,000 test digits.`;
        $('#draw-probs').after(note);
      }
    })
    .catch(() => {});

  function render(probs: Float32Array, maps: FeatureMap[]): void {
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
    prediction.textContent = String(best);
    prediction.dataset.digit = String(best);
    prediction.dataset.probability = probs[best]!.toFixed(4);
    prediction.dataset.probs = JSON.stringify(Array.from(probs));
    renderProbs(probs);
    const rows = maps.map((m) => {
      const [h, w, c] = m.shape as [number, number, number];
      const row = document.createElement('div');
      row.className = 'layer';
      const name = document.createElement('div');
      name.className = 'name';
      name.textContent = `${m.name} (${m.className}) ${h}×${w}×${c}`;
      const cells = document.createElement('div');
      cells.className = 'cells';
      const zoom = Math.max(1, Math.round(48 / h));
      for (let k = 0; k < c; k++) {
        const plane = new Float32Array(h * w);
        for (let i = 0; i < h * w; i++) plane[i] = m.data[i * c + k]!;
        const cell = mapCanvas(plane, h, w, zoom);
        cell.title = `${m.name}, channel ${k}`;
        keepValues(cell, plane);
        cells.append(cell);
      }
      row.append(name, cells);
      return row;
    });
    $('#draw-maps').replaceChildren(...rows);
  }

  function renderExplanation(e: Explanation): void {
    for (const k of HEATS) {
      const heat = e[k];
      // No occlusion while a stroke goes on: the last one stays, faded, until the stroke ends.
      heatCanvas[k].classList.toggle('stale', heat === null);
      if (heat === null) continue;
      drawZoomed(heatCanvas[k], heatImageData(heat, input, 28, 28), 5);
      keepValues(heatCanvas[k], heat);
    }
    explainBox.dataset.class = String(e.classIndex);
    explainBox.dataset.layer = e.layer;
    if (camLayer.value === '') camLayer.options[0]!.text = `${e.layer} (the default)`;
    $('#draw-gradcam-at').textContent = e.layer;
    $('#draw-explain-what').textContent =
      `why ${e.classIndex}${explainClass.value === '' ? ' (the prediction)' : ''}`;
  }

  function renderProbs(probs: Float32Array | null): void {
    const box = $('#draw-probs');
    const parts: HTMLElement[] = [];
    let best = -1;
    if (probs) for (let i = 0; i < 10; i++) if (best < 0 || probs[i]! > probs[best]!) best = i;
    for (let d = 0; d < 10; d++) {
      const p = probs ? probs[d]! : 0;
      const label = document.createElement('span');
      label.textContent = String(d);
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = document.createElement('div');
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      bar.append(fill);
      const pct = document.createElement('span');
      pct.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
      if (d === best) {
        label.className = 'top';
        pct.className = 'top';
      }
      parts.push(label, bar, pct);
    }
    box.replaceChildren(...parts);
  }

  // Drawing: pointer events cover mouse, pen and touch.
  let drawing = false;
  let last: [number, number] | null = null;
  let frame = 0;
  const schedule = () => {
    if (!frame)
      frame = requestAnimationFrame(() => {
        frame = 0;
        request();
      });
  };
  const pos = (ev: PointerEvent): [number, number] => {
    const rect = canvas.getBoundingClientRect();
    return [
      ((ev.clientX - rect.left) / rect.width) * canvas.width,
      ((ev.clientY - rect.top) / rect.height) * canvas.height,
    ];
  };
  const strokeTo = (p: [number, number]) => {
    ctx.strokeStyle = 'white';
    ctx.fillStyle = 'white';
    ctx.lineWidth = STROKE;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    if (last) {
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
    } else {
      ctx.arc(p[0], p[1], STROKE / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    last = p;
    changed();
    schedule();
  };
  canvas.addEventListener('pointerdown', (ev) => {
    drawing = true;
    last = null;
    canvas.setPointerCapture(ev.pointerId);
    strokeTo(pos(ev));
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (drawing) strokeTo(pos(ev));
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    changed(); // the stroke is done: the heat maps again, occlusion included
    schedule();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('#draw-clear').addEventListener('click', clear);
  explainClass.append(
    ...Array.from({ length: 10 }, (_, d) => new Option(`the digit ${d}`, String(d))),
  );
  // Another class: the same drawing explained again (the prediction with it, as one request).
  for (const select of [explainClass, camLayer])
    select.addEventListener('change', () => {
      changed();
      request();
    });

  void loadMnistSamples().then((samples) => {
    const box = $('#draw-samples');
    for (const s of samples) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = String(s.label);
      b.title = `MNIST test image #${s.index}`;
      b.addEventListener('click', () => {
        const img = fromMnistSample(s);
        const small = document.createElement('canvas');
        small.width = img.width;
        small.height = img.height;
        small
          .getContext('2d')!
          .putImageData(greyImageData(toBytes(img.data, 'clip'), 28, 28), 0, 0);
        clear();
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
        changed();
        request();
      });
      box.append(b);
    }
  });
}
