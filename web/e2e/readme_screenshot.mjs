// Makes the README's picture of the playground (docs/images/playground.png): a hand-drawn 3 in
// "Draw a digit", its prediction, heat maps and feature maps. Needs web/dist (npm run build:web). Usage:
//   node web/e2e/readme_screenshot.mjs docs/images/playground.png
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const out = process.argv[2] ?? 'docs/images/playground.png';
const server = await serve(fileURLToPath(new URL('../dist', import.meta.url)));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage({
  viewport: { width: 1200, height: 800 },
  deviceScaleFactor: 0.7,
});
await page.goto(`${base}#draw`);
await page.waitForSelector('#draw-canvas[data-ready="true"]');
const box = await page.locator('#draw-canvas').boundingBox();
const s = box.width / 280;
async function stroke(points) {
  await page.mouse.move(box.x + points[0][0] * s, box.y + points[0][1] * s);
  await page.mouse.down();
  for (let i = 1; i < points.length; i++)
    for (let k = 1; k <= 15; k++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      await page.mouse.move(
        box.x + (x0 + ((x1 - x0) * k) / 15) * s,
        box.y + (y0 + ((y1 - y0) * k) / 15) * s,
      );
    }
  await page.mouse.up();
}
await stroke([
  [80, 60],
  [130, 35],
  [190, 50],
  [200, 95],
  [150, 130],
  [120, 135],
]);
await stroke([
  [150, 130],
  [205, 170],
  [200, 225],
  [140, 250],
  [80, 230],
]);
// The prediction and heat maps of the drawing as it is (the page tags them with its version).
await page.waitForFunction(() => {
  const version = document.querySelector('#draw-canvas').dataset.version;
  return document.querySelector('#draw-explain').dataset.version === version;
});
const bottom = await page.evaluate(
  () => document.querySelector('#tab-draw').getBoundingClientRect().bottom,
);
await page.screenshot({
  path: out,
  fullPage: true,
  clip: { x: 0, y: 0, width: 1200, height: bottom + 8 },
});
await browser.close();
server.close();
console.log(`wrote ${out}`);
