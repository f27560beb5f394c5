/** model.summary(): Keras's table of layers, output shapes and parameter counts. */

import type { Functional } from './functional.js';
import type { Layer } from './layer.js';
import { fmtSymShape, type Shape } from './layer.js';

const fmtInt = (n: number) => n.toLocaleString('en-US');

function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

function pad(s: string, width: number): string {
  return s.length >= width ? `${s} ` : s + ' '.repeat(width - s.length);
}

export function summarize(model: Functional): string {
  const nodes = model.graphNodes.filter((t) => t.inputs.length > 0 || model.inputs.includes(t));
  const functional = model.className !== 'Sequential';
  const rows: { name: string; shape: string; params: string; connected: string[] }[] = [];
  const counted = new Set<Layer>();
  if (nodes.length === 0) {
    // Not built yet: list the layers without shapes.
    for (const l of model.layers)
      rows.push({
        name: `${l.name} (${l.className})`,
        shape: '?',
        params: l.built ? fmtInt(l.countParams()) : '0 (unbuilt)',
        connected: [],
      });
  }
  for (const t of nodes) {
    if (!functional && model.inputs.includes(t)) continue;
    const l = t.layer;
    const first = !counted.has(l);
    counted.add(l);
    rows.push({
      name: `${l.name} (${l.className})`,
      shape: fmtSymShape(t.shape as Shape),
      params: fmtInt(first ? l.countParams() : 0),
      connected: t.inputs.map((i) => `${i.layer.name}[${i.nodeIndex}][0]`),
    });
  }
  // Columns as wide as Keras's defaults, wider where a cell needs it.
  const widest = (f: (r: (typeof rows)[number]) => string[], min: number) =>
    Math.max(min, ...rows.flatMap(f).map((c) => c.length + 2));
  const cols = [
    widest((r) => [r.name], 34),
    widest((r) => [r.shape], 26),
    widest((r) => [r.params], 12),
    ...(functional ? [widest((r) => r.connected, 20)] : []),
  ];
  const width = cols.reduce((a, b) => a + b, 0);
  const header = ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'].slice(0, cols.length);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, cols[i]!))
      .join('')
      .trimEnd();
  const out: string[] = [
    `Model: "${model.name}"`,
    '_'.repeat(width),
    line(header),
    '='.repeat(width),
  ];
  rows.forEach((r, i) => {
    out.push(line([r.name, r.shape, r.params, ...(functional ? [r.connected[0] ?? ''] : [])]));
    for (const extra of r.connected.slice(1)) out.push(line(['', '', '', extra]));
    out.push(i === rows.length - 1 ? '='.repeat(width) : '_'.repeat(width));
  });
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce((n, w) => n + w.size, 0);
  out.push(`Total params: ${fmtInt(total)} (${fmtBytes(total * 4)})`);
  out.push(`Trainable params: ${fmtInt(trainable)} (${fmtBytes(trainable * 4)})`);
  out.push(
    `Non-trainable params: ${fmtInt(total - trainable)} (${fmtBytes((total - trainable) * 4)})`,
  );
  out.push('_'.repeat(width));
  return out.join('\n');
}
