/**
 * Charts with Vega-Lite (rendered to SVG without a browser) and, in Node, to PNG with resvg.
 * Training curves: loss and accuracy per epoch, training and validation, side by side.
 *
 * vega, vega-lite and @resvg/resvg-js are optional packages, loaded on first use. Without vega
 * the training curves and the confusion matrix are drawn by receptive's own SVG charts
 * (svg_charts.ts), with a notice once; without resvg, `png()` is a MissingPackageError that says
 * what to install. renderVegaLite, which takes any spec, needs vega.
 */
import { ArgumentError, MissingPackageError } from '../util/errors.js';
import { importPackages, noticeOnce } from '../util/optional_packages.js';
import { lineChartsSvg, type Panel } from './svg_charts.js';

/** A chart: its SVG text, and PNG bytes on request. */
export interface Chart {
  /** The chart as SVG markup (a complete `<svg>` document). */
  svg: string;
  /**
   * PNG bytes (Node only: resvg is a native module). Needs the optional package
   * @resvg/resvg-js: without it, a MissingPackageError that says so.
   */
  png(): Promise<Uint8Array>;
}

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');
type Resvg = typeof import('@resvg/resvg-js');

/** A chart of an SVG: its PNG is drawn by resvg when asked for. */
export function svgChart(svg: string): Chart {
  return {
    svg,
    png: async () => {
      const [{ Resvg }] = (await importPackages('Chart.png', 'drawing a chart as PNG', [
        '@resvg/resvg-js',
      ])) as [Resvg];
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

/** Renders a Vega-Lite spec. Needs the optional packages vega and vega-lite. */
export async function renderVegaLite(spec: Record<string, unknown>): Promise<Chart> {
  const [vega, { compile }] = (await importPackages('renderVegaLite', 'drawing a Vega-Lite chart', [
    'vega',
    'vega-lite',
  ])) as [Vega, VegaLite];
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svgChart(svg);
}

/**
 * renderVegaLite(spec), or where vega is not installed the chart that `builtIn` draws, after a
 * notice (once) that says what receptive drew instead and how to get the Vega-Lite chart.
 */
export async function vegaLiteOr(
  spec: Record<string, unknown>,
  builtIn: () => string,
): Promise<Chart> {
  try {
    return await renderVegaLite(spec);
  } catch (e) {
    if (!(e instanceof MissingPackageError)) throw e;
    noticeOnce(
      `receptive: ${e.packages.join(' and ')} ${e.packages.length > 1 ? 'are' : 'is'} not installed, so charts are drawn by receptive's own SVG code; for Vega-Lite's: npm install vega vega-lite`,
    );
    return svgChart(builtIn());
  }
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
  // The same panels for the built-in chart: training first, then validation, as Vega-Lite orders them.
  const panels = (): Panel[] =>
    metrics.map((metric) => ({
      metric,
      series: (['training', 'validation'] as const)
        .map((split) => ({
          name: split,
          values: history[split === 'training' ? metric : `val_${metric}`] ?? [],
        }))
        .filter((s) => s.values.some(Number.isFinite)),
    }));
  return vegaLiteOr(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      ...(options.title ? { title: options.title } : {}),
      data: { values: rows },
      hconcat: metrics.map(panel),
    },
    () => lineChartsSvg(panels(), options),
  );
}
