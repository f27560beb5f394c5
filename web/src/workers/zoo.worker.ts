/**
 * The architecture explorer: builds a zoo network (its weights too: that is what the parameter
 * counts count, and VGG-16 is 528 MB of them) in this worker and describes its layers.
 */
import type { ZooReply, ZooRequest, ZooRow } from '../protocol.js';
import { type LayerConfig, models } from '../rc.js';
import { scope, startBackend } from './env.js';

const post = (m: ZooReply) => scope.postMessage(m);
// Always wasm: building a network computes nothing worth a GPU (setBackend switches at once).
void startBackend('wasm');

post({
  type: 'names',
  names: models.modelNames().map((name) => {
    const e = models.zooEntry(name);
    return { name, description: e.description, defaultInput: e.defaultInput };
  }),
});

const pair = (v: unknown) =>
  Array.isArray(v) ? (v[0] === v[1] ? String(v[0]) : v.join('×')) : String(v);
const square = (v: unknown) => (Array.isArray(v) ? v.join('×') : `${v}×${v}`);

/** A short description of a layer's hyper-parameters, from its config. */
function detail(className: string, c: LayerConfig): string {
  const parts: string[] = [];
  if (c.kernelSize !== undefined) parts.push(`${square(c.kernelSize)} kernel`);
  if (c.poolSize !== undefined) parts.push(`${square(c.poolSize)} window`);
  if (c.filters !== undefined) parts.push(`${c.filters} filters`);
  if (c.depthMultiplier !== undefined) parts.push(`× ${c.depthMultiplier} per channel`);
  if (c.units !== undefined) parts.push(`${c.units} units`);
  if (c.strides !== undefined && pair(c.strides) !== '1') parts.push(`stride ${pair(c.strides)}`);
  if (c.dilationRate !== undefined && pair(c.dilationRate) !== '1')
    parts.push(`dilation ${pair(c.dilationRate)}`);
  if (c.groups !== undefined && c.groups !== 1) parts.push(`groups ${c.groups}`);
  if (typeof c.padding === 'string' && (c.kernelSize !== undefined || c.poolSize !== undefined))
    parts.push(`'${c.padding}'`);
  if (c.rate !== undefined) parts.push(`rate ${c.rate}`);
  if (typeof c.activation === 'string' && c.activation !== 'linear') parts.push(c.activation);
  if (className === 'Activation' && typeof c.activation === 'string') return c.activation;
  return parts.join(', ');
}

scope.onmessage = (e: MessageEvent<ZooRequest>) => {
  const msg = e.data;
  try {
    const t0 = performance.now();
    const model = models.createModel(msg.name, {
      inputShape: msg.inputShape,
      ...(msg.numClasses ? { numClasses: msg.numClasses } : {}),
    });
    const functional = model.className !== 'Sequential';
    const counted = new Set<unknown>();
    const rows: ZooRow[] = [];
    for (const t of model.graphNodes) {
      if (t.inputs.length === 0 && !(functional && model.inputs.includes(t))) continue;
      const l = t.layer;
      const first = !counted.has(l);
      counted.add(l);
      rows.push({
        name: l.name,
        className: l.className,
        shape: `(${t.shape.map((d) => (d === null ? 'None' : d)).join(', ')})`,
        params: first ? l.countParams() : 0,
        detail: detail(l.className, l.getConfig()),
        connected: t.inputs.map((i) => i.layer.name),
      });
    }
    const summary = model.summary({ print: false });
    post({
      type: 'built',
      id: msg.id,
      name: msg.name,
      rows,
      total: model.countParams(),
      trainable: model.trainableWeights.reduce((n, w) => n + w.size, 0),
      summary,
      functional,
      ms: performance.now() - t0,
    });
  } catch (err) {
    post({ type: 'error', id: msg.id, message: (err as Error).message });
  }
};
