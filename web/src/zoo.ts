/**
 * The architecture explorer: every network of the zoo, its layers, their output shapes and
 * parameter counts, as model.summary() gives them. Building allocates the weights (VGG-16's are
 * 528 MB), so it happens in a worker, which the page replaces if it is busy when asked again.
 */
import { $ } from './dom.js';
import type { ZooReply, ZooRequest } from './protocol.js';

const fmt = (n: number) => n.toLocaleString('en-US');

export function initZoo(): void {
  const select = $<HTMLSelectElement>('#zoo-model');
  const inputField = $<HTMLInputElement>('#zoo-input');
  const classesField = $<HTMLInputElement>('#zoo-classes');
  const status = $('#zoo-status');
  const table = $<HTMLTableElement>('#zoo-table');
  const defaults = new Map<string, number[]>();
  const descriptions = new Map<string, string>();
  let worker: Worker | null = null;
  let busy = false;
  let nextId = 1;
  let current = 0;

  function startWorker(): Worker {
    const w = new Worker(new URL('./workers/zoo.worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<ZooReply>) => onMessage(e.data);
    w.onerror = (e) => {
      status.textContent = `The worker failed: ${e.message}`;
      busy = false;
    };
    return w;
  }

  function onMessage(m: ZooReply): void {
    if (m.type === 'names') {
      if (select.options.length > 0) return;
      for (const n of m.names) {
        defaults.set(n.name, n.defaultInput);
        descriptions.set(n.name, n.description);
        select.add(new Option(`${n.name}: ${n.description}`, n.name));
      }
      select.value = 'lenet5';
      inputField.value = defaults.get('lenet5')!.join(', ');
      build();
      return;
    }
    if (m.id !== current) return;
    busy = false;
    if (m.type === 'error') {
      status.textContent = `Error: ${m.message}`;
      return;
    }
    status.textContent = `${m.name}: ${descriptions.get(m.name) ?? ''}. ${m.rows.length} layers, ${fmt(m.total)} parameters (${((m.total * 4) / 2 ** 20).toFixed(2)} MB of float32), built in ${Math.round(m.ms)} ms.`;
    const maxParams = Math.max(1, ...m.rows.map((r) => r.params));
    const head = `<thead><tr><th>Layer</th><th>Type</th><th>Settings</th><th>Output shape</th><th>Parameters</th><th></th>${m.functional ? '<th>Input from</th>' : ''}</tr></thead>`;
    table.innerHTML = head;
    const body = table.createTBody();
    for (const r of m.rows) {
      const tr = body.insertRow();
      const cells = [r.name, r.className, r.detail, r.shape, fmt(r.params)];
      cells.forEach((text, i) => {
        const td = tr.insertCell();
        td.textContent = text;
        if (i === 4) td.className = 'num';
        if (i === 3) td.className = 'shape';
      });
      const barCell = tr.insertCell();
      barCell.style.width = '22%';
      if (r.params > 0) {
        const bar = document.createElement('div');
        bar.className = 'pbar';
        bar.style.width = `${(100 * r.params) / maxParams}%`;
        bar.title = `${((100 * r.params) / m.total).toFixed(1)}% of the parameters`;
        barCell.append(bar);
      }
      if (m.functional) tr.insertCell().textContent = r.connected.join(', ');
    }
    const foot = table.createTFoot().insertRow();
    foot.insertCell().textContent = 'Total';
    foot.insertCell();
    foot.insertCell().textContent =
      m.trainable === m.total ? 'all trainable' : `${fmt(m.trainable)} trainable`;
    foot.insertCell();
    const total = foot.insertCell();
    total.textContent = fmt(m.total);
    total.className = 'num';
    $('#zoo-summary').textContent = m.summary;
    table.dataset.model = m.name;
    table.dataset.total = String(m.total);
  }

  function build(): void {
    const inputShape = inputField.value
      .split(/[\s,×x]+/)
      .filter(Boolean)
      .map(Number);
    if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      status.textContent =
        'The input is height, width, channels: three positive integers, e.g. 224, 224, 3.';
      return;
    }
    if (busy && worker) {
      worker.terminate(); // a big network is still building: start over
      worker = startWorker();
    }
    const numClasses = Number(classesField.value);
    const req: ZooRequest = {
      type: 'build',
      id: nextId++,
      name: select.value,
      inputShape,
      ...(numClasses > 0 ? { numClasses } : {}),
    };
    current = req.id;
    busy = true;
    status.textContent = `Building ${req.name} at ${inputShape.join('×')} (allocating its weights)…`;
    worker!.postMessage(req);
  }

  select.addEventListener('change', () => {
    inputField.value = (defaults.get(select.value) ?? [224, 224, 3]).join(', ');
    build();
  });
  $('#zoo-build').addEventListener('click', build);
  inputField.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') build();
  });
  worker = startWorker();
}
