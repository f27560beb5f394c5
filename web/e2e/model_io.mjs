// Models in a real browser: src/browser.ts bundled by esbuild into a bare page (served by
// server.mjs with the playground's headers) and driven by Playwright through Debian's Chromium.
// It checks what Node cannot: model.save('indexeddb://…') and rc.loadModel back (also after a
// reload), model.save('downloads://…') giving the two files that rc.loadModel reads back over
// http, model.exportOnnx('downloads://….onnx'), the async tensor readers, and the errors for
// what a browser lacks. `node web/e2e/model_io.mjs`; needs no build (it bundles the sources).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const site = mkdtempSync(join(tmpdir(), 'receptive-model-io-'));
await build({
  stdin: {
    contents: "import * as rc from './src/browser.ts'; globalThis.rc = rc;",
    resolveDir: repo,
    loader: 'js',
  },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(site, 'bundle.js'),
  logLevel: 'warning',
});
writeFileSync(
  join(site, 'index.html'),
  '<!doctype html><meta charset="utf-8"><title>receptive model I/O</title><script type="module" src="bundle.js"></script>',
);

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push(false);
    console.log(
      `FAIL ${name}\n     ${String(e?.stack ?? e)
        .split('\n')
        .slice(0, 4)
        .join('\n     ')}`,
    );
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const server = await serve(site);
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'],
});
const context = await browser.newContext({ acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(120_000);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const downloads = [];
page.on('download', (d) => downloads.push(d));
const open = async () => {
  await page.goto(base);
  await page.waitForFunction(() => globalThis.rc !== undefined);
};
await open();

/** Builds a small CNN from a seed, in the page, as `globalThis.model`, and an input `x`. */
const makeModel = (seed = 3) =>
  page.evaluate((seed) => {
    const { rc } = globalThis;
    rc.setSeed(seed);
    globalThis.model = new rc.Sequential([
      new rc.layers.Conv2D({
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        inputShape: [8, 8, 1],
      }),
      new rc.layers.Flatten(),
      new rc.layers.Dense({ units: 3, activation: 'softmax' }),
    ]);
    globalThis.x = rc.tensor(
      Array.from({ length: 128 }, (_, i) => Math.sin(i)),
      [2, 8, 8, 1],
    );
  }, seed);
/** The predictions on `x` of the model loaded from `source` (or of globalThis.model). */
const predictions = (source) =>
  page.evaluate(async (source) => {
    const m = source ? await globalThis.rc.loadModel(source) : globalThis.model;
    return [...(await m.predict(globalThis.x).data())];
  }, source);
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

await test('await x.data() and await x.array() in the browser', async () => {
  const got = await page.evaluate(async () => {
    const x = globalThis.rc.tensor([1, 2.5, 3, 4], [2, 2]);
    const d = await x.data();
    return { d: [...d], f32: d instanceof Float32Array, a: await x.array() };
  });
  assert(
    JSON.stringify(got) === '{"d":[1,2.5,3,4],"f32":true,"a":[[1,2.5],[3,4]]}',
    JSON.stringify(got),
  );
});

let expected;
await test('indexeddb://: save, load back identical predictions, and again after a reload', async () => {
  await makeModel();
  expected = await predictions(null);
  assert(expected.length === 6, `${expected}`);
  await page.evaluate(() => globalThis.model.save('indexeddb://e2e-cnn'));
  assert(same(await predictions('indexeddb://e2e-cnn'), expected), 'differs after loading');
  await open();
  await makeModel(7); // x is the same; the model is another, and unused
  const again = await predictions('indexeddb://e2e-cnn');
  assert(same(again, expected), `differs after a reload: ${again} vs ${expected}`);
  // Saving another model under the name replaces it.
  const other = await predictions(null);
  assert(!same(other, expected), 'two seeds gave the same model');
  await page.evaluate(() => globalThis.model.save('indexeddb://e2e-cnn'));
  assert(same(await predictions('indexeddb://e2e-cnn'), other), 'not replaced');
  await makeModel(3);
});

await test('what a browser lacks, or a missing name, is an error that says what to use', async () => {
  const errors = await page.evaluate(async () => {
    const out = [];
    for (const f of [
      () => globalThis.rc.loadModel('indexeddb://no-such-model'),
      () => globalThis.model.save('models/cnn'),
      () => globalThis.model.save('https://example.com/cnn'),
    ])
      await f().then(
        () => out.push('no error'),
        (e) => out.push(`${e.constructor.name}: ${e.message}`),
      );
    return out;
  });
  assert(
    /^ModelFileError: .*no model named 'no-such-model'.*'indexeddb:\/\/e2e-cnn'/.test(errors[0]),
    errors[0],
  );
  assert(
    /^IOError: .*file-system paths are not supported.*indexeddb:\/\/name.*downloads:\/\/name/.test(
      errors[1],
    ),
    errors[1],
  );
  assert(/^IOError: .*'https:\/\/' targets are not supported/.test(errors[2]), errors[2]);
});

await test('downloads://: name.json and name.safetensors, which loadModel reads back over http', async () => {
  downloads.length = 0;
  await page.evaluate(() => globalThis.model.save('downloads://e2e-cnn'));
  const t0 = Date.now();
  while (downloads.length < 2 && Date.now() - t0 < 30_000) await page.waitForTimeout(50);
  const names = downloads.map((d) => d.suggestedFilename()).sort();
  assert(names.join() === 'e2e-cnn.json,e2e-cnn.safetensors', `downloads: ${names}`);
  const dir = join(site, 'downloaded');
  mkdirSync(dir, { recursive: true });
  for (const d of downloads) await d.saveAs(join(dir, d.suggestedFilename()));
  const doc = JSON.parse(readFileSync(join(dir, 'e2e-cnn.json'), 'utf8'));
  assert(doc.weights.file === 'e2e-cnn.safetensors', `model.json names ${doc.weights.file}`);
  // A URL relative to the page, with progress.
  const { preds, progress } = await page.evaluate(async () => {
    const progress = [];
    const m = await globalThis.rc.loadModel('downloaded/e2e-cnn.json', {
      onProgress: (f) => progress.push(f),
    });
    return { preds: [...(await m.predict(globalThis.x).data())], progress };
  });
  assert(same(preds, expected), `differs: ${preds} vs ${expected}`);
  assert(progress[0] === 0 && progress.at(-1) === 1, `progress ${progress}`);
  assert(
    progress.every((f, i) => i === 0 || f > progress[i - 1]),
    `progress ${progress}`,
  );
});

await test("exportOnnx('downloads://name.onnx') downloads the ONNX file", async () => {
  downloads.length = 0;
  await page.evaluate(() => globalThis.model.exportOnnx('downloads://e2e-cnn.onnx'));
  const t0 = Date.now();
  while (downloads.length < 1 && Date.now() - t0 < 30_000) await page.waitForTimeout(50);
  assert(downloads.length === 1, `${downloads.length} downloads`);
  assert(downloads[0].suggestedFilename() === 'e2e-cnn.onnx', downloads[0].suggestedFilename());
  const file = join(site, 'e2e-cnn.onnx');
  await downloads[0].saveAs(file);
  const bytes = readFileSync(file);
  // ModelProto: field 1 (ir_version) first, a varint; the graph holds the Conv and Gemm nodes.
  assert(bytes.length > 500 && bytes[0] === 0x08, `${bytes.length} bytes, first ${bytes[0]}`);
  assert(bytes.includes('Conv') && bytes.includes('Gemm'), 'no Conv/Gemm node in the file');
});

await test('no errors on the page', async () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
});

await browser.close();
server.close();
rmSync(site, { recursive: true, force: true });
const passed = results.filter(Boolean).length;
console.log(`model I/O e2e: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
