/**
 * Charts with Vega-Lite (rendered to SVG without a browser) and, in Node, to PNG with resvg.
 * Training curves: loss and accuracy per epoch, training and validation, side by side.
 */
import { ArgumentError } from '../util/errors.js';

export interface Chart {
  svg: string;
  /** PNG bytes (Node only: resvg is a native module). */
  png(): Promise<Uint8Array>;
}

/** Renders a Vega-Lite spec. */
export async function renderVegaLite(spec: Record<string, unknown>): Promise<Chart> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return {
    svg,
    png: async () => {
      const { Resvg } = await import('@resvg/resvg-js');
      return new Uint8Array(
        new Resvg(svg, {
          background: 'white',
          fitTo: { mode: 'zoom', value: 2 },
          font: { loadSystemFonts: true },
        })
          .render()
          .asPng(),
      );
    },
  };
}

/** Loss and accuracy per epoch (training and validation) from a History's record. */
export async function trainingCurves(
  history: Record<string, number[]>,
  options: { title?: string } = {},
): Promise<Chart> {
  const epochs = history.loss?.length ?? 0;
  if (epochs === 0)
    throw new ArgumentError('trainingCurves: the history has no epochs (no "loss" values).');
  const rows: { epoch: number; value: number; metric: string; split: string }[] = [];
  for (const [key, values] of Object.entries(history)) {
    const split = key.startsWith('val_') ? 'validation' : 'training';
    const metric = key.replace(/^val_/, '');
    values.forEach((value, i) => {
      if (Number.isFinite(value)) rows.push({ epoch: i + 1, value, metric, split });
    });
  }
  const metrics = [...new Set(rows.map((r) => r.metric))];
  const panel = (metric: string) => ({
    width: 320,
    height: 220,
    title: metric,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        axis: { tickMinStep: 1, format: 'd' },
        scale: { domainMin: 1 },
      },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: null },
    },
  });
  return renderVegaLite({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(options.title ? { title: options.title } : {}),
    data: { values: rows },
    hconcat: metrics.map(panel),
  });
}
