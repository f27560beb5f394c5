/** receptive's own SVG charts: round ticks, points where their values put them, valid SVG. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImage } from '../../src/data/image_codec.js';
import { svgChart } from '../../src/vision/plots.js';
import { heatmapSvg, lineChartsSvg, niceTicks } from '../../src/vision/svg_charts.js';

test('niceTicks: steps of 1, 2 or 5 times a power of ten, the domain widened to whole ticks', () => {
  assert.deepEqual(niceTicks(0.23, 0.91), {
    domain: [0.2, 1],
    ticks: [0.2, 0.4, 0.6000000000000001, 0.8, 1],
    decimals: 1,
  });
  const loss = niceTicks(0.0312, 0.0497);
  assert.deepEqual(
    loss.domain.map((v) => +v.toFixed(6)),
    [0.03, 0.05],
  );
  assert.equal(loss.decimals, 3);
  assert.equal(loss.ticks.length, 5);
  // Epochs: whole steps only, however few.
  assert.deepEqual(niceTicks(1, 3, 2, true).ticks, [1, 2, 3]);
  assert.deepEqual(niceTicks(1, 50, 6, true).ticks, [0, 10, 20, 30, 40, 50]);
  // One value (a loss that did not move): a band around it, not a division by zero.
  const flat = niceTicks(2, 2);
  assert.ok(flat.domain[0] < 2 && flat.domain[1] > 2, JSON.stringify(flat));
  assert.ok(flat.ticks.every(Number.isFinite));
});

test('lineChartsSvg: a point per finite value, placed by its epoch and value', () => {
  const svg = lineChartsSvg([{ metric: 'loss', series: [{ name: 'training', values: [1, 0.5] }] }]);
  // Plot area: x from 58 to 58 + 320, y from 30 (value 1) down to 30 + 220 (value 0.5).
  const dots = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  assert.deepEqual(dots.slice(0, 2), [
    [58, 30],
    [378, 250],
  ]);
  assert.ok(svg.includes('>0.5<') && svg.includes('>1.0<'), 'y ticks');
  // One epoch: one point in the middle of the panel, tick 1 under it.
  const one = lineChartsSvg([{ metric: 'loss', series: [{ name: 'training', values: [0.3] }] }]);
  assert.match(one, /<circle cx="218" /);
  assert.match(one, />1<\/text>/);
});

test('the charts are valid SVG: resvg draws them', async (t) => {
  const svg = lineChartsSvg(
    [
      {
        metric: 'loss',
        series: [
          { name: 'training', values: [2.3, 0.8, 0.4, 0.3] },
          { name: 'validation', values: [1.1, 0.6, 0.5, 0.45] },
        ],
      },
      { metric: 'accuracy', series: [{ name: 'training', values: [0.3, 0.8, 0.9, 0.93] }] },
    ],
    { title: 'A & B' },
  );
  const heat = heatmapSvg(
    [
      [5, 1],
      [0, 7],
    ],
    ['airplane', 'automobile'],
    { title: 'Confusion', cell: 48 },
  );
  for (const s of [svg, heat]) {
    let png: Uint8Array;
    try {
      png = await svgChart(s).png();
    } catch (e) {
      if ((e as Error).name === 'MissingPackageError')
        return t.skip('@resvg/resvg-js is not installed');
      throw e;
    }
    const image = decodeImage(png);
    const width = Number(/width="(\d+)"/.exec(s)![1]);
    assert.equal(image.width, width * 2, 'drawn at twice the size');
  }
});
