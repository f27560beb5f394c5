/**
 * Train live: a fresh network learns MNIST in a Web Worker while the page draws the loss and
 * accuracy of every batch and the first layer's filters as they change. Pause, resume, stop.
 */
import { chosenBackend, envLine, fallBackToWasm, showBackend } from './backend_switch.js';
import { TrainingChart } from './chart.js';
import { $ } from './dom.js';
import { divergingImageData, drawZoomed } from './pixels.js';
import type { Filters, TrainConfig, TrainReply, TrainRequest } from './protocol.js';

export function initTrainLive(onEnv: (text: string) => void): void {
  const startBtn = $<HTMLButtonElement>('#train-start');
  const pauseBtn = $<HTMLButtonElement>('#train-pause');
  const stopBtn = $<HTMLButtonElement>('#train-stop');
  const status = $('#train-status');
  const chart = new TrainingChart($<HTMLCanvasElement>('#train-chart'));
  let worker: Worker | null = null;
  let paused = false;
  let steps = 1;
  let epochs = 1;
  let about = '';
  let lastEpoch = '';
  // The backend of the run (the switch applies from the next Start).
  let runBackend = 'wasm';

  const send = (m: TrainRequest) => worker?.postMessage(m);
  const setRunning = (running: boolean) => {
    startBtn.disabled = running;
    pauseBtn.disabled = !running;
    stopBtn.disabled = !running;
    for (const id of ['#train-model', '#train-size', '#train-epochs', '#train-batch', '#train-lr'])
      $<HTMLInputElement>(id).disabled = running;
    document.body.dataset.training = running ? 'running' : 'idle';
  };

  function showFilters(f: Filters): void {
    const [kh, kw, cin, n] = f.shape as [number, number, number, number];
    $('#train-filters-shape').textContent = `${n} filters, ${kh}×${kw}${cin > 1 ? `×${cin}` : ''}`;
    const box = $('#train-filters');
    box.style.gridTemplateColumns = `repeat(${Math.min(n, n > 8 ? 8 : 6)}, auto)`;
    let maxAbs = 0;
    for (const v of f.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    const zoom = Math.max(4, Math.round(48 / kh));
    while (box.children.length > n) box.lastChild!.remove();
    for (let k = 0; k < n; k++) {
      let c = box.children[k] as HTMLCanvasElement | undefined;
      if (!c) {
        c = document.createElement('canvas');
        c.title = `filter ${k}`;
        box.append(c);
      }
      const plane = new Float32Array(kh * kw);
      // HWIO: [i, j, 0, k]; the first input channel (MNIST has one)
      for (let i = 0; i < kh * kw; i++) plane[i] = f.data[i * cin * n + k]!;
      drawZoomed(c, divergingImageData(plane, kh, kw, maxAbs), zoom);
    }
  }

  function onMessage(e: MessageEvent<TrainReply>): void {
    const m = e.data;
    switch (m.type) {
      case 'status':
        status.textContent = m.text;
        break;
      case 'ready':
        steps = m.steps;
        chart.reset(steps * epochs, steps);
        runBackend = m.env.backend;
        showBackend(m.env);
        about =
          m.env.backend === 'webgpu'
            ? `${m.params.toLocaleString('en-US')} weights, webgpu backend in a Web Worker, model.fit 16 batches at a time`
            : `${m.params.toLocaleString('en-US')} weights, ${m.env.backend} backend in a Web Worker, ${m.env.threads} thread${m.env.threads === 1 ? '' : 's'}`;
        status.textContent = `Training (${about})…`;
        // The status line changes with every batch and epoch; this stays for the run.
        status.dataset.threads = String(m.env.threads);
        showFilters(m.filters);
        onEnv(envLine(m.env));
        break;
      case 'batch': {
        chart.addBatch({ step: m.step, loss: m.loss, accuracy: m.accuracy });
        if (m.filters) showFilters(m.filters);
        status.textContent = `Epoch ${m.epoch + 1}/${epochs}, batch ${m.batch + 1}/${steps}: loss ${m.loss.toFixed(3)}, accuracy ${(100 * m.accuracy).toFixed(1)}%${m.imagesPerSecond ? `, ${Math.round(m.imagesPerSecond)} images/s` : ''} (${about})${lastEpoch}`;
        status.dataset.step = String(m.step);
        break;
      }
      case 'epoch':
        chart.addEpoch({ step: m.step, loss: m.valLoss, accuracy: m.valAccuracy });
        lastEpoch = `. After epoch ${m.epoch + 1}: test loss ${m.valLoss.toFixed(3)}, test accuracy ${(100 * m.valAccuracy).toFixed(2)}%`;
        status.textContent = lastEpoch.slice(2);
        break;
      case 'paused':
        status.textContent = `Paused. ${status.textContent}`;
        break;
      case 'resumed':
        break;
      case 'done':
        status.textContent = `${m.stopped ? 'Stopped' : 'Done'}${lastEpoch || '.'}`;
        setRunning(false);
        worker?.terminate();
        worker = null;
        break;
      case 'error':
        status.textContent = `Error${runBackend === 'webgpu' ? ' on webgpu (Start again runs on wasm)' : ''}: ${m.message}`;
        if (runBackend === 'webgpu') fallBackToWasm(m.message);
        setRunning(false);
        worker?.terminate();
        worker = null;
        break;
    }
  }

  startBtn.addEventListener('click', () => {
    epochs = Math.max(1, Math.min(20, Number($<HTMLInputElement>('#train-epochs').value) || 1));
    const config: TrainConfig = {
      dataUrl: new URL('data/mnist/', document.baseURI).href,
      backend: chosenBackend(),
      model: $<HTMLSelectElement>('#train-model').value as TrainConfig['model'],
      trainSize: Number($<HTMLSelectElement>('#train-size').value),
      testSize: 2000,
      epochs,
      batchSize: Number($<HTMLSelectElement>('#train-batch').value),
      learningRate: Number($<HTMLSelectElement>('#train-lr').value),
      seed: 42,
    };
    lastEpoch = '';
    runBackend = config.backend;
    delete status.dataset.threads;
    paused = false;
    pauseBtn.textContent = 'Pause';
    worker = new Worker(new URL('./workers/train.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = onMessage;
    worker.onerror = (ev) => {
      status.textContent = `The training worker failed: ${ev.message}`;
      setRunning(false);
    };
    setRunning(true);
    status.textContent = 'Starting the worker…';
    send({ type: 'start', config });
  });
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    send({ type: paused ? 'pause' : 'resume' });
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  });
  stopBtn.addEventListener('click', () => send({ type: 'stop' }));
  setRunning(false);
}
