// The playground's end-to-end test: the built site (web/dist) served on 127.0.0.1 with the
// COOP/COEP headers, driven by Playwright (playwright-core: it never downloads a browser)
// through Debian's Chromium. It draws digits and checks LeNet-5's answer and the heat maps of
// why, applies a Sobel kernel and checks the output's pixels, shows what LeNet-5's filters see,
// and trains and sees the loss fall. Then, in a Chromium with WebGPU (SwiftShader), it switches
// the playground to webgpu and checks the adapter shown and the digit's prediction against
// wasm's. E2E_ONLY=text runs only the tests whose names contain it. Screenshots go to
// $E2E_SCREENSHOTS (default /tmp/receptive-e2e). Run by `npm run test:e2e` after build:web.
//
// Every wait is on a condition the page sets (a data attribute, a text), never on elapsed time,
// and the ceilings are generous: on a loaded machine the page, its workers and this script all
// run late, in any order. E2E_CPU_THROTTLE=N slows the page N times (Chromium's CPU throttling)
// to check that, as a loaded machine would.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';
import { WEBGPU_ARGS } from './webgpu_page.mjs';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const shots = process.env.E2E_SCREENSHOTS ?? '/tmp/receptive-e2e';
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });
if (!existsSync(join(dist, 'index.html'))) {
  console.error('web/dist/index.html is missing: run npm run build:web first.');
  process.exit(1);
}
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: apt-get install -y chromium (or set CHROMIUM).`);
  process.exit(1);
}

const results = [];
const only = process.env.E2E_ONLY;
async function test(name, fn) {
  if (only && !name.includes(only)) return;
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(
      `FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n     ${String(e?.stack ?? e)
        .split('\n')
        .slice(0, 4)
        .join('\n     ')}`,
    );
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const started = Date.now();
const server = await serve(dist);
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
/** The most any one step may take (Playwright's default, 30 s, is short for a loaded machine). */
const CEILING = 180_000;
page.setDefaultTimeout(CEILING);
const throttle = Number(process.env.E2E_CPU_THROTTLE ?? 1);
if (throttle > 1) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  console.log(`the page's CPU is throttled ${throttle}x`);
}
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error') pageErrors.push(m.text());
});

await test('the bundle holds no Node-only module', async () => {
  const assets = join(dist, 'assets');
  for (const f of readdirSync(assets).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(join(assets, f), 'utf8');
    for (const bad of ['pngjs', 'node:fs', 'node:crypto', 'cli-progress/lib'])
      assert(!text.includes(bad), `${f} contains '${bad}'`);
  }
});

await test('the page is cross-origin isolated', async () => {
  await page.goto(`${base}#conv`);
  assert(await page.evaluate(() => crossOriginIsolated), 'crossOriginIsolated is false');
});

/** The output canvas's bytes (red channel) at the centre of each output pixel. */
async function outputPixels() {
  return page.evaluate(() => {
    const c = document.querySelector('#conv-output');
    const z = Number(c.dataset.zoom);
    const h = Number(c.dataset.height);
    const w = Number(c.dataset.width);
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const rows = [];
    for (let r = 0; r < h; r++) {
      const row = [];
      for (let col = 0; col < w; col++)
        row.push(data[4 * ((r * z + Math.floor(z / 2)) * c.width + col * z + Math.floor(z / 2))]);
      rows.push(row);
    }
    return { h, w, rows };
  });
}

await test('convolution lab: Sobel on a square lights its vertical edges only', async () => {
  await page.selectOption('#conv-image', 'square'); // white 16×16 square at rows/cols 8..23 of 32×32
  await page.selectOption('#conv-kernel', 'sobel-x');
  await page.selectOption('#conv-padding', 'valid');
  await page.fill('#conv-stride', '1');
  await page.fill('#conv-dilation', '1');
  await page.waitForFunction(
    () => document.querySelector('#conv-out-size').textContent === '30×30',
  );
  const formula = await page.textContent('#conv-formula');
  assert(formula.includes('floor((32 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 30'), formula);
  const { h, w, rows } = await outputPixels();
  assert(h === 30 && w === 30, `output ${h}×${w}`);
  // Output (r, c) sees input rows r..r+2, columns c..c+2: the left edge (input columns 7|8)
  // is in columns 6 and 7, the right edge (23|24) in 22 and 23, for rows 8..21.
  for (let r = 8; r <= 21; r++)
    for (const c of [6, 7, 22, 23]) assert(rows[r][c] > 200, `edge (${r},${c}) = ${rows[r][c]}`);
  for (const [r, c] of [
    [2, 2],
    [14, 14],
    [6, 14], // the top edge: horizontal, so sobel-x does not see it
    [22, 14],
    [27, 27],
    [14, 3],
  ])
    assert(rows[r][c] === 0, `flat (${r},${c}) = ${rows[r][c]}`);
  // Hover (14, 7): the window covers input columns 7..9 of rows 13..15: 1·1 + 1·2 + 1·1 = 4.
  const box = await page.locator('#conv-output').boundingBox();
  const z = Number(await page.getAttribute('#conv-output', 'data-zoom'));
  await page.mouse.move(box.x + 7 * z + z / 2, box.y + 14 * z + z / 2);
  await page.waitForFunction(() =>
    document.querySelector('#conv-mac .mac-sum')?.textContent.startsWith('out[14,7]'),
  );
  const mac = await page.textContent('#conv-mac .mac-sum');
  assert(mac.endsWith('= 4'), mac);
  await page.screenshot({ path: join(shots, 'conv-lab.png'), fullPage: true });
  // stride 2, padding 'same': ceil(32 / 2) = 16
  await page.selectOption('#conv-padding', 'same');
  await page.fill('#conv-stride', '2');
  await page.waitForFunction(
    () => document.querySelector('#conv-out-size').textContent === '16×16',
  );
  // dilation 2, valid: 32 - 2·2 = 28
  await page.selectOption('#conv-padding', 'valid');
  await page.fill('#conv-stride', '1');
  await page.fill('#conv-dilation', '2');
  await page.waitForFunction(
    () => document.querySelector('#conv-out-size').textContent === '28×28',
  );
  // An uploaded picture (the README's 192×192 horse, scaled down to at most 96 px) becomes the input.
  await page.setInputFiles(
    '#conv-upload',
    fileURLToPath(new URL('../../docs/images/horse.png', import.meta.url)),
  );
  await page.waitForFunction(() => document.querySelector('#conv-in-size').textContent === '96×96');
  await page.waitForFunction(
    () => document.querySelector('#conv-out-size').textContent === '92×92',
  );
  await page.screenshot({ path: join(shots, 'conv-lab-upload.png'), fullPage: true });
});

async function drawStroke(points, on = page) {
  const box = await on.locator('#draw-canvas').boundingBox();
  const sx = box.width / 280;
  await on.mouse.move(box.x + points[0][0] * sx, box.y + points[0][1] * sx);
  await on.mouse.down();
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    for (let k = 1; k <= 12; k++)
      await on.mouse.move(
        box.x + (x0 + ((x1 - x0) * k) / 12) * sx,
        box.y + (y0 + ((y1 - y0) * k) / 12) * sx,
      );
  }
  await on.mouse.up();
}

async function predicted(on = page) {
  // The prediction is settled once it was made from the drawing as it is now: the page numbers
  // each change of the canvas and tags each prediction with the number it saw. (Two equal
  // readings in a row were not enough: a loaded worker answers an older stroke for seconds.)
  await on.waitForFunction(() => {
    const version = document.querySelector('#draw-canvas').dataset.version;
    const p = document.querySelector('#draw-prediction').dataset;
    return version !== undefined && p.version === version && p.digit !== '';
  });
  return {
    digit: await on.getAttribute('#draw-prediction', 'data-digit'),
    p: Number(await on.getAttribute('#draw-prediction', 'data-probability')),
  };
}

await test('draw a digit: a "1" and a "7" are recognized, with feature maps', async () => {
  await page.goto(`${base}#draw`);
  await page.waitForSelector('#draw-canvas[data-ready="true"]');
  await drawStroke([
    [145, 40],
    [138, 240],
  ]);
  const one = await predicted();
  assert(one.digit === '1', `predicted ${one.digit} for a 1`);
  const maps = await page.locator('#draw-maps canvas').count();
  assert(maps === 6 + 6 + 16 + 16, `${maps} feature maps`);
  await page.click('#draw-clear');
  await drawStroke([
    [60, 50],
    [215, 50],
    [115, 245],
  ]);
  const seven = await predicted();
  assert(seven.digit === '7', `predicted ${seven.digit} for a 7`);
  await page.screenshot({ path: join(shots, 'draw-digit.png'), fullPage: true });
});

/** The explanation of the drawing as it is now: its class, the model's input and the three heat maps. */
async function explained(pg = page, backend = undefined) {
  await pg.waitForFunction((want) => {
    const version = document.querySelector('#draw-canvas').dataset.version;
    const e = document.querySelector('#draw-explain').dataset;
    const failed = document.querySelector('#backend-status')?.dataset.failed;
    if (want !== undefined && failed !== undefined) return true; // the assertions below say so
    return (
      version !== undefined &&
      e.version === version &&
      e.class !== '' &&
      (want === undefined || e.backend === want)
    );
  }, backend);
  return pg.evaluate(() => {
    const values = (sel) => Array.from(document.querySelector(sel).values ?? []);
    /** Distinct colours among the canvas's 28 × 28 pixels (the centre of each zoomed pixel). */
    const colours = (sel) => {
      const c = document.querySelector(sel);
      const z = c.width / 28;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let r = 0; r < 28; r++)
        for (let q = 0; q < 28; q++) {
          const i = 4 * ((r * z + Math.floor(z / 2)) * c.width + q * z + Math.floor(z / 2));
          seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        }
      return seen.size;
    };
    const e = document.querySelector('#draw-explain').dataset;
    return {
      backend: e.backend,
      classIndex: Number(e.class),
      layer: e.layer,
      msPredict: Number(e.msPredict),
      msExplain: Number(e.msExplain),
      msEach: [Number(e.msGradcam), Number(e.msSaliency), Number(e.msOcclusion)],
      input: values('#draw-input'),
      heats: Object.fromEntries(
        ['gradcam', 'saliency', 'occlusion'].map((k) => [
          k,
          { values: values(`#draw-${k}`), colours: colours(`#draw-${k}`) },
        ]),
      ),
    };
  });
}

/** Pixels within `radius` of ink (input > 0.3), as a mask of the 28 × 28 input. */
function nearInk(input, radius) {
  const mask = new Array(784).fill(false);
  for (let i = 0; i < 784; i++) {
    if (!(input[i] > 0.3)) continue;
    const y = Math.floor(i / 28);
    const x = i % 28;
    for (let dy = -radius; dy <= radius; dy++)
      for (let dx = -radius; dx <= radius; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && yy < 28 && xx >= 0 && xx < 28) mask[yy * 28 + xx] = true;
      }
  }
  return mask;
}

/** Mean heat inside the mask over mean heat outside it, and the share of all heat inside. */
function heatOn(values, mask) {
  let on = 0;
  let off = 0;
  let nOn = 0;
  for (let i = 0; i < 784; i++) {
    if (mask[i]) {
      on += values[i];
      nOn++;
    } else off += values[i];
  }
  return { ratio: on / nOn / (off / (784 - nOn)), share: on / (on + off) };
}

function checkHeat(name, h) {
  const v = h.values;
  assert(v.length === 784, `${name}: ${v.length} values, not 28 × 28`);
  assert(
    v.every((x) => Number.isFinite(x) && x >= 0 && x <= 1),
    `${name}: values outside 0..1`,
  );
  const mean = v.reduce((s, x) => s + x, 0) / 784;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / 784);
  // Scaled to 0..1 (Grad-CAM's upsampling from 4×4 or 8×8 may miss the peak of 1 a little).
  assert(
    Math.max(...v) > 0.8 && sd > 0.05,
    `${name}: a flat map (max ${Math.max(...v)}, sd ${sd})`,
  );
  assert(h.colours >= 20, `${name}: the canvas shows ${h.colours} colours: blank`);
}

const updates = [];
await test('draw a digit: Grad-CAM, saliency and occlusion over the drawing; occlusion on the strokes', async () => {
  await page.goto(`${base}#draw`);
  await page.waitForSelector('#draw-canvas[data-ready="true"]');
  for (const [digit, strokes] of [
    [
      '1',
      [
        [
          [145, 40],
          [138, 240],
        ],
      ],
    ],
    [
      '7',
      [
        [
          [60, 50],
          [215, 50],
          [115, 245],
        ],
      ],
    ],
    [
      '0',
      [
        [
          [140, 40],
          [200, 80],
          [210, 170],
          [150, 240],
          [85, 200],
          [75, 110],
          [140, 40],
        ],
      ],
    ],
  ]) {
    await page.click('#draw-clear');
    for (const s of strokes) await drawStroke(s);
    const p = await predicted();
    const e = await explained();
    assert(p.digit === digit, `predicted ${p.digit} for a ${digit}`);
    assert(e.classIndex === Number(digit), `explained ${e.classIndex}, predicted ${digit}`);
    for (const k of ['gradcam', 'saliency', 'occlusion'])
      checkHeat(`${k} of a ${digit}`, e.heats[k]);
    // Known answer: hiding ink is what lowers the class's probability, so occlusion's heat
    // lies on the strokes (not so Grad-CAM's, which finds LeNet-5's evidence in the empty
    // space around them as often as on them; saliency lies beside the strokes too).
    const on = heatOn(e.heats.occlusion.values, nearInk(e.input, 0));
    const near = heatOn(e.heats.occlusion.values, nearInk(e.input, 1));
    const sal = heatOn(e.heats.saliency.values, nearInk(e.input, 2));
    const cam = heatOn(e.heats.gradcam.values, nearInk(e.input, 0));
    console.log(
      `     a ${digit}: occlusion ${on.ratio.toFixed(2)}x as hot on the ink as off it (${(100 * near.share).toFixed(0)}% of it within 1 px); saliency ${sal.ratio.toFixed(2)}x within 2 px; Grad-CAM ${cam.ratio.toFixed(2)}x on the ink`,
    );
    assert(on.ratio > 2, `occlusion of a ${digit}: only ${on.ratio.toFixed(2)}x as hot on the ink`);
    assert(
      near.share > 0.6,
      `occlusion of a ${digit}: ${near.share.toFixed(2)} of the heat near the ink`,
    );
  }
  await page.screenshot({ path: join(shots, 'draw-explain.png'), fullPage: true });
  // Another class: the same drawing (a 0) explained for 6.
  const before = await explained();
  await page.selectOption('#draw-explain-class', '6');
  const six = await explained();
  assert(six.classIndex === 6, `explained ${six.classIndex} after choosing 6`);
  const diff = six.heats.gradcam.values.reduce(
    (s, x, i) => s + Math.abs(x - before.heats.gradcam.values[i]),
    0,
  );
  assert(diff / 784 > 0.02, `Grad-CAM of 6 is that of 0 (mean difference ${diff / 784})`);
  checkHeat('gradcam of 6', six.heats.gradcam);
  await page.selectOption('#draw-explain-class', '');
  // Another layer: Grad-CAM at the second convolution (8×8 maps) instead of the last pooling (4×4).
  const last = await explained();
  assert(last.layer === 'average_pooling2d_1', `the default Grad-CAM layer is ${last.layer}`);
  await page.selectOption('#draw-gradcam-layer', 'conv2d_1');
  const conv = await explained();
  assert(
    conv.layer === 'conv2d_1' && conv.classIndex === 0,
    `${conv.layer}, class ${conv.classIndex}`,
  );
  checkHeat('gradcam at conv2d_1', conv.heats.gradcam);
  await page.selectOption('#draw-gradcam-layer', '');
  // The worker's time per update, with and without the heat maps: the MNIST test digits.
  await page.click('#draw-clear');
  const samples = page.locator('#draw-samples button');
  await page.waitForFunction(() => document.querySelectorAll('#draw-samples button').length === 10);
  for (let round = 0; round < 2; round++)
    for (let i = 0; i < 10; i++) {
      await samples.nth(i).click();
      await predicted();
      const e = await explained();
      updates.push([e.msPredict, e.msExplain, ...e.msEach]);
    }
  const median = (i) => updates.map((u) => u[i]).sort((x, y) => x - y)[updates.length >> 1];
  console.log(
    `     worker time per update (median of ${updates.length}): ${median(0).toFixed(1)} ms for the prediction and feature maps, ${median(1).toFixed(1)} ms more for the heat maps (Grad-CAM ${median(2).toFixed(1)}, saliency ${median(3).toFixed(1)}, occlusion ${median(4).toFixed(1)})`,
  );
});

await test('what filters see: maximizeActivation grids of both convolutions and the classes', async () => {
  await page.goto(`${base}#filters`);
  await page.click('#filters-run');
  await page.waitForSelector('#filters-grids[data-done="true"]');
  for (const [group, count] of [
    ['conv2d', 6],
    ['conv2d_1', 16],
    ['classes', 10],
  ]) {
    const cells = await page.evaluate((g) => {
      return Array.from(document.querySelectorAll(`[data-group="${g}"] figure`)).map((f) => {
        const c = f.querySelector('canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lo = 255;
        let hi = 0;
        for (let i = 0; i < d.length; i += 4) {
          lo = Math.min(lo, d[i]);
          hi = Math.max(hi, d[i]);
        }
        const k = f.querySelector('canvas.kernel');
        return {
          start: Number(c.dataset.start),
          end: Number(c.dataset.end),
          lo,
          hi,
          image: Array.from(c.values),
          kernel: k ? { weights: Array.from(k.values), bias: Number(k.dataset.bias) } : null,
        };
      });
    }, group);
    assert(cells.length === count, `${group}: ${cells.length} images, not ${count}`);
    for (const [i, c] of cells.entries()) {
      // Plain images are right for the first convolution (below); the others see patterns.
      if (group !== 'conv2d')
        assert(c.hi - c.lo > 100, `${group} ${i}: a flat image (${c.lo}..${c.hi})`);
      assert(c.end >= c.start - 1e-3, `${group} ${i}: activation fell from ${c.start} to ${c.end}`);
    }
    if (group === 'conv2d') {
      // Known answer: a plain image of grey level v makes a first-layer filter (tanh, 5×5 on the
      // grey input) output tanh(v·Σw + b) everywhere, largest at v = 1 if Σw > 0, else at v = 0.
      // The ascent must do at least that well, and its image lean the same way.
      for (const [i, c] of cells.entries()) {
        assert(c.kernel?.weights.length === 25, `conv2d ${i}: no 5×5 weights beside the image`);
        const sw = c.kernel.weights.reduce((s, w) => s + w, 0);
        const plain = Math.max(Math.tanh(c.kernel.bias), Math.tanh(sw + c.kernel.bias));
        const mean = c.image.reduce((s, v) => s + v, 0) / c.image.length;
        assert(c.end >= plain - 0.02, `conv2d ${i}: ${c.end} < ${plain}, a plain image's`);
        assert(sw > 0 === mean > 0.5, `conv2d ${i}: Σw = ${sw}, yet the image's mean is ${mean}`);
      }
    }
    const gain = cells.reduce((s, c) => s + c.end - c.start, 0) / count;
    console.log(`     ${group}: activation raised by ${gain.toFixed(2)} on average`);
    assert(gain > (group === 'classes' ? 5 : 0.3), `${group}: activations rose by ${gain} only`);
  }
  await page.screenshot({ path: join(shots, 'filters.png'), fullPage: true });
});

await test('train live: the loss falls; pause, resume and stop work', async () => {
  await page.goto(`${base}#train`);
  // A run far longer than this test (20 epochs of 60,000): on a loaded machine the worker can
  // train hundreds of batches before the page has drawn the 60th, and a short run would end
  // (or sit in its evaluation) before the pause below arrives.
  await page.selectOption('#train-size', '60000');
  await page.fill('#train-epochs', '20');
  await page.click('#train-start');
  const chart = '#train-chart';
  await page.waitForFunction(
    (sel) => Number(document.querySelector(sel).dataset.batches ?? 0) >= 60,
    chart,
  );
  const first = Number(await page.getAttribute(chart, 'data-loss-first'));
  const recent = Number(await page.getAttribute(chart, 'data-loss-recent'));
  assert(first > 1.5, `first losses ${first}: an untrained net should be near ln 10 = 2.3`);
  assert(recent < 0.6 * first, `loss fell only from ${first} to ${recent}`);
  // Cross-origin isolated: the wasm backend runs its kernels on every core of this machine.
  // (From the attribute set when the worker started: the status line itself may be showing an
  // evaluation, without the thread count, by the time it is read.)
  const threads = Number(await page.getAttribute('#train-status', 'data-threads'));
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const status = await page.textContent('#train-status');
  assert(
    threads === Math.min(cores, 8),
    `status says ${threads} threads on ${cores} cores: ${status}`,
  );
  await page.click('#train-pause');
  await page.waitForFunction(() =>
    document.querySelector('#train-status').textContent.startsWith('Paused'),
  );
  const n1 = Number(await page.getAttribute(chart, 'data-batches'));
  await page.waitForTimeout(700);
  const n2 = Number(await page.getAttribute(chart, 'data-batches'));
  assert(n1 === n2, `paused, yet batches went from ${n1} to ${n2}`);
  await page.screenshot({ path: join(shots, 'train-live.png'), fullPage: true });
  await page.click('#train-pause'); // resume
  await page.waitForFunction(
    (n) => Number(document.querySelector('#train-chart').dataset.batches) > n,
    n2,
  );
  const filters = await page.locator('#train-filters canvas').count();
  assert(filters === 6, `${filters} first-layer filters shown`);
  await page.click('#train-stop');
  await page.waitForFunction(() => !document.querySelector('#train-start').disabled);
});

await test('architectures: the zoo lists every network and builds ResNet-18 with its parameter count', async () => {
  await page.goto(`${base}#zoo`);
  await page.waitForSelector('#zoo-table[data-model="lenet5"]');
  assert(
    (await page.getAttribute('#zoo-table', 'data-total')) === '44426',
    'LeNet-5 is not 44,426',
  );
  assert((await page.locator('#zoo-model option').count()) >= 20, 'few models listed');
  await page.selectOption('#zoo-model', 'resnet18-cifar');
  await page.waitForSelector('#zoo-table[data-model="resnet18-cifar"]');
  const summary = await page.textContent('#zoo-summary');
  const total = Number(await page.getAttribute('#zoo-table', 'data-total'));
  assert(
    summary.includes(`Total params: ${total.toLocaleString('en-US')}`),
    'the summary disagrees with the table',
  );
  await page.screenshot({ path: join(shots, 'architectures.png'), fullPage: true });
});

await test('no errors on the page', async () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
});

await browser.close();

// A Chromium of its own: WebGPU's switches (SwiftShader, the software adapter) replace
// --disable-gpu, which the tests above keep.
await test('webgpu: the backend switch shows the adapter, and Draw a digit predicts and explains as on wasm', async () => {
  const gpuBrowser = await chromium.launch({
    executablePath,
    args: [
      ...WEBGPU_ARGS,
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  try {
    const p = await gpuBrowser.newPage({ viewport: { width: 1280, height: 900 } });
    p.setDefaultTimeout(CEILING);
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await p.goto(`${base}#draw`);
    await p.waitForSelector('#draw-canvas[data-ready="true"]');
    await drawStroke(
      [
        [60, 50],
        [215, 50],
        [115, 245],
      ],
      p,
    );
    const onWasm = await predicted(p);
    // The probabilities, and every feature map's values (the convolutions' and poolings' outputs).
    const probsOf = () =>
      p.evaluate(() => {
        const d = document.querySelector('#draw-prediction').dataset;
        const maps = Array.from(document.querySelectorAll('#draw-maps canvas'), (c) =>
          Array.from(c.values),
        );
        return { backend: d.backend, probs: JSON.parse(d.probs), maps };
      });
    const wasm = await probsOf();
    assert(wasm.backend === 'wasm', `the first prediction ran on ${wasm.backend}`);
    const heatsOnWasm = await explained(p, 'wasm');
    await p.selectOption('#backend', 'webgpu');
    // The worker answers the switch with the backend it got (webgpu, or why not).
    await p.waitForFunction(() => {
      const d = document.querySelector('#backend-status').dataset;
      return d.backend !== undefined && d.pending === undefined;
    });
    const shown = await p.evaluate(() => {
      const el = document.querySelector('#backend-status');
      return { text: el.textContent, ...el.dataset };
    });
    console.log(`     beside the switch: "${shown.text}"`);
    await p.screenshot({ path: join(shots, 'webgpu-switch.png') });
    // The adapter stays named if an error on it already sent the page back to wasm.
    assert(
      shown.vendor === 'google' && shown.architecture === 'swiftshader',
      `the switch shows "${shown.text}": adapter ${shown.vendor} / ${shown.architecture}, not google / swiftshader`,
    );
    // The same drawing, predicted again on webgpu (or the error that sent the page back to wasm).
    await p.waitForFunction(() => {
      const version = document.querySelector('#draw-canvas').dataset.version;
      const d = document.querySelector('#draw-prediction').dataset;
      const failed = document.querySelector('#backend-status').dataset.failed;
      return failed !== undefined || (d.version === version && d.backend === 'webgpu');
    });
    const failed = await p.getAttribute('#backend-status', 'data-failed');
    assert(failed === null, `webgpu failed, the page went back to wasm: ${failed}`);
    const onGpu = await predicted(p);
    const gpu = await probsOf();
    await p.screenshot({ path: join(shots, 'webgpu-draw-digit.png'), fullPage: true });
    assert(onGpu.digit === onWasm.digit, `webgpu predicted ${onGpu.digit}, wasm ${onWasm.digit}`);
    const worst = Math.max(...gpu.probs.map((v, i) => Math.abs(v - wasm.probs[i])));
    console.log(
      `     a ${onGpu.digit} on webgpu: probabilities within ${worst.toExponential(1)} of wasm's`,
    );
    assert(worst <= 1e-3, `webgpu's probabilities differ from wasm's by ${worst}`);
    assert(gpu.maps.length === 44 && wasm.maps.length === 44, `${gpu.maps.length} feature maps`);
    // Each map within 1e-4 of its largest |value| on wasm (the conformance suite's tolerance).
    let worstMap = 0;
    for (const [k, want] of wasm.maps.entries()) {
      const scale = Math.max(1e-6, ...want.map(Math.abs));
      const off = Math.max(...gpu.maps[k].map((v, i) => Math.abs(v - want[i]))) / scale;
      assert(off <= 1e-4, `feature map ${k}: webgpu differs from wasm by ${off} of its scale`);
      worstMap = Math.max(worstMap, off);
    }
    console.log(
      `     its 44 feature maps within ${worstMap.toExponential(1)} of their scale of wasm's`,
    );
    // The heat maps, explained on webgpu too: each within 1e-3 of wasm's (they are scaled to 0..1).
    const heatsOnGpu = await explained(p, 'webgpu');
    assert(heatsOnGpu.backend === 'webgpu', `the heat maps ran on ${heatsOnGpu.backend}`);
    assert(heatsOnGpu.classIndex === heatsOnWasm.classIndex, 'the same class explained');
    for (const k of ['gradcam', 'saliency', 'occlusion']) {
      const want = heatsOnWasm.heats[k].values;
      const got = heatsOnGpu.heats[k].values;
      assert(want.length === 784 && got.length === 784, `${k}: ${got.length} values`);
      const off = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
      assert(off <= 1e-3, `${k} on webgpu differs from wasm's by ${off}`);
      console.log(`     ${k} on webgpu within ${off.toExponential(1)} of wasm's`);
    }
    assert(errors.length === 0, errors.join('\n'));
  } finally {
    await gpuBrowser.close();
  }
});

server.close();
const passed = results.filter((r) => r.ok).length;
console.log(`screenshots in ${shots}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`e2e: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
