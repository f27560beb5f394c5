/**
 * The charts where the optional packages are not installed (vega, vega-lite, @resvg/resvg-js):
 * receptive's own SVG charts stand in, with one notice; the PNG and renderVegaLite say which
 * package to install. The packages are hidden through the loader's test seam.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import * as rc from '../../src/index.js';
import { importPackages, setPackageImporter } from '../../src/util/optional_packages.js';

const { vision } = rc;

/** Node's own import, but the named packages fail as a missing package does. */
function hide(...names: string[]) {
  setPackageImporter(async (name) => {
    if (names.includes(name)) {
      const e = new Error(`Cannot find package '${name}' imported from /somewhere/plots.js`);
      (e as Error & { code: string }).code = 'ERR_MODULE_NOT_FOUND';
      throw e;
    }
    return import(name);
  });
}

/** Runs `f` and returns what it printed with console.warn. */
async function warnings<T>(f: () => Promise<T>): Promise<{ result: T; warned: string[] }> {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warned.push(args.join(' '));
  try {
    return { result: await f(), warned };
  } finally {
    console.warn = original;
  }
}

afterEach(() => setPackageImporter());

const history = {
  loss: [1.0, 0.7, 0.5],
  accuracy: [0.5, 0.75, 0.9],
  val_loss: [0.9, 0.8, Number.NaN],
  val_accuracy: [0.6, 0.7, 0.8],
};

test('without vega: the training curves are receptive’s own chart, after one notice naming the packages', async () => {
  hide('vega', 'vega-lite', '@resvg/resvg-js');
  const first = await warnings(() =>
    vision.trainingCurves(history, { title: 'lenet5 on <mnist>' }),
  );
  const second = await warnings(() => vision.trainingCurves(history));
  assert.equal(first.warned.length + second.warned.length, 1, 'one notice in all');
  assert.match(first.warned[0] ?? second.warned[0]!, /vega and vega-lite are not installed/);
  assert.match(first.warned[0] ?? second.warned[0]!, /npm install vega vega-lite/);
  const svg = first.result.svg;
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.includes('lenet5 on &lt;mnist&gt;'), 'the title, escaped');
  for (const text of ['>loss<', '>accuracy<', '>training<', '>validation<', '>epoch<'])
    assert.ok(svg.includes(text), `the chart shows ${text}`);
  // Two panels of two lines; the validation loss has a gap where its value is NaN (two points).
  const lines = [...svg.matchAll(/<g class="series" data-name="(\w+)">\n<path d="([^"]+)"/g)];
  assert.deepEqual(
    lines.map((m) => m[1]),
    ['training', 'validation', 'training', 'validation'],
  );
  assert.equal(lines[1]![2]!.split(/[ML]/).filter(Boolean).length, 2);
  assert.equal((svg.match(/<circle/g) ?? []).length, 3 + 2 + 3 + 3 + 2, 'points and legend marks');
});

test('without resvg: png() is a MissingPackageError that names @resvg/resvg-js and the command', async () => {
  hide('@resvg/resvg-js');
  const chart = await vision.trainingCurves(history);
  await assert.rejects(chart.png(), (e: unknown) => {
    assert.ok(e instanceof rc.MissingPackageError);
    assert.deepEqual(e.packages, ['@resvg/resvg-js']);
    assert.match(
      e.message,
      /^Chart\.png: drawing a chart as PNG needs the npm package @resvg\/resvg-js, which is not installed\. Install with: npm install @resvg\/resvg-js$/,
    );
    return true;
  });
});

test('without vega: renderVegaLite (any spec) is a MissingPackageError naming both packages', async () => {
  hide('vega', 'vega-lite');
  await assert.rejects(vision.renderVegaLite({ mark: 'point' }), (e: unknown) => {
    assert.ok(e instanceof rc.MissingPackageError);
    assert.deepEqual(e.packages, ['vega', 'vega-lite']);
    assert.match(
      e.message,
      /renderVegaLite: .*vega and vega-lite, which are not installed.*npm install vega vega-lite/,
    );
    return true;
  });
});

test('without vega: the confusion matrix is a heatmap with every count in its cell', async () => {
  hide('vega', 'vega-lite');
  const { result: cm } = await warnings(() =>
    vision.confusionMatrix([0, 1, 1, 1, 0], [0, 1, 1, 0, 0], ['cat', 'dog']),
  );
  const svg = cm.chart.svg;
  assert.match(svg, /^<svg/);
  for (const text of ['cat', 'dog', 'true class', 'predicted class', '80.00% right of 5'])
    assert.ok(svg.includes(text), `the chart shows '${text}'`);
  const counts = [...svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(counts, [2, 0, 1, 2], 'row by row: true cat, then true dog');
  // The largest count is the darkest cell, written in white; an empty cell is near white.
  const cells = [...svg.matchAll(/<rect x="\d+" y="\d+" width="\d+" height="\d+" fill="([^"]+)"/g)];
  assert.equal(cells[0]![1], 'rgb(8,48,107)');
  assert.equal(cells[1]![1], 'rgb(247,251,255)');
});

test('without vega: the training report still has its curves and confusion matrix', async () => {
  hide('vega', 'vega-lite', '@resvg/resvg-js');
  const model = new rc.Sequential([
    new rc.layers.Flatten({ inputShape: [2, 2, 1] }),
    new rc.layers.Dense({ units: 2, activation: 'softmax' }),
  ]);
  const { result: html } = await warnings(() =>
    vision.trainingReport(
      model,
      rc.ones([4, 2, 2, 1]),
      rc.tensor([0, 1, 0, 1], [4], 'int32'),
      history,
    ),
  );
  assert.ok(html.includes('Training curves') && html.includes('Confusion matrix'));
  assert.equal((html.match(/<svg/g) ?? []).length, 2);
});

test('a package that is there but fails to load is not called missing', async () => {
  setPackageImporter(async () => {
    throw new SyntaxError('Unexpected token in vega.js');
  });
  await assert.rejects(vision.renderVegaLite({ mark: 'point' }), SyntaxError);
  // A dependency of the package missing: said as Node says it, with the package to reinstall.
  setPackageImporter(async () => {
    const e = new Error("Cannot find package 'd3-array' imported from /x/vega/index.js");
    (e as Error & { code: string }).code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  });
  await assert.rejects(
    importPackages('op', 'doing it', ['vega']),
    /op: doing it needs the npm package vega, which is not installed \(Cannot find package 'd3-array'.*\)\. Install with: npm install vega$/,
  );
});
