#!/usr/bin/env node
// `npm run test:toolchains`: receptive as its users get it, the packed tarball (npm pack, so the
// files list and the exports map are what is tested), in the tools they use:
//  - bundlers: the fixture app (test/toolchains/app.js, which imports 'receptive' and nothing
//    about it is configured) built by Vite, esbuild and webpack 5, each run in Chromium
//    (playwright-core, Debian's /usr/bin/chromium) served with the cross-origin isolation
//    headers and without them (then the wasm backend runs on one thread): build a CNN,
//    predict, train a step and an epoch. Any bundler warning fails, but for bundle sizes;
//  - Node: require('receptive') (CommonJS, Node 20.19+), import, and 'receptive/browser';
//  - TypeScript: consumers type-checked with moduleResolution bundler and nodenext against
//    the tarball's .d.ts, and each entry's declared exports compared with what it exports at
//    run time (the names, and one level into namespaces such as rc.data).
// Offline: the tarball is unpacked into a temporary node_modules beside links to the
// dependencies this repository installed; the bundlers and tsc are this repository's.
// Needs `npm run build` first (dist/). CHROMIUM=path overrides the browser; KEEP=1 keeps the
// temporary folder; `-- vite esbuild` runs only those parts (also: node, types).
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import * as tar from 'tar';
import { serve } from '../web/e2e/server.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(repo, 'test/toolchains');
const only = process.argv.slice(2);
const wanted = (part) => only.length === 0 || only.includes(part);
const started = Date.now();

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push(true);
    console.log(
      `ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${note ? `: ${note}` : ''}`,
    );
  } catch (e) {
    results.push(false);
    console.log(
      `FAIL ${name}\n     ${String(e?.stack ?? e)
        .split('\n')
        .slice(0, 12)
        .join('\n     ')}`,
    );
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

if (!existsSync(join(repo, 'dist/browser.js'))) {
  console.error('dist/ is missing: run npm run build first.');
  process.exit(1);
}

// The package as npm would install it, in a temporary node_modules.
const tmp = mkdtempSync(join(tmpdir(), 'receptive-toolchains-'));
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
    cwd: repo,
    encoding: 'utf8',
  }),
)[0];
const modules = join(tmp, 'node_modules');
mkdirSync(join(modules, 'receptive'), { recursive: true });
await tar.x({ file: join(tmp, packed.filename), cwd: join(modules, 'receptive'), strip: 1 });
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const linked = [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.optionalDependencies ?? {}),
  '@types/node',
];
for (const dep of linked) {
  if (!existsSync(join(repo, 'node_modules', dep))) continue; // an optional one not installed
  mkdirSync(join(modules, dep, '..'), { recursive: true });
  symlinkSync(join(repo, 'node_modules', dep), join(modules, dep), 'dir');
}
console.log(`${packed.filename}: ${packed.entryCount} files, unpacked into ${modules}`);

/** A fixture app's folder: the page and its program (src/index.js, webpack's default entry). */
function appFolder(name) {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  copyFileSync(join(fixtures, 'app.js'), join(dir, 'src/index.js'));
  copyFileSync(join(fixtures, 'index.html'), join(dir, 'index.html'));
  return dir;
}
/** The page for a bundle written to dist/main.js (esbuild, webpack). */
function pageFor(dir) {
  const html = readFileSync(join(dir, 'index.html'), 'utf8').replace('./src/index.js', './main.js');
  assert(html.includes('./main.js'), 'index.html has no ./src/index.js script');
  writeFileSync(join(dir, 'dist/index.html'), html);
}
const kB = (bytes) => `${(bytes / 1000).toFixed(0)} kB`;
/** Warnings a bundler may give any large app; every other warning fails the build. */
const harmless =
  /chunks are larger than|asset size limit|entrypoint size limit|webpack performance/i;

const builds = {
  async vite(dir) {
    const { build, createLogger } = await import('vite');
    const logger = createLogger('warn');
    const warnings = [];
    logger.warn = (msg) => warnings.push(msg);
    logger.warnOnce = (msg) => warnings.push(msg);
    await build({ root: dir, configFile: false, logLevel: 'warn', customLogger: logger });
    return warnings;
  },
  async esbuild(dir) {
    const { build } = await import('esbuild');
    const r = await build({
      entryPoints: [join(dir, 'src/index.js')],
      bundle: true,
      minify: true,
      format: 'esm',
      outfile: join(dir, 'dist/main.js'),
      logLevel: 'silent',
    });
    pageFor(dir);
    return r.warnings.map((w) => w.text);
  },
  async webpack(dir) {
    const webpack = (await import('webpack')).default;
    const stats = await new Promise((resolve, reject) =>
      webpack({ context: dir, mode: 'production', output: { path: join(dir, 'dist') } }).run(
        (err, s) => (err ? reject(err) : resolve(s)),
      ),
    );
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    if (stats.hasErrors()) throw new Error(info.errors.map((e) => e.message).join('\n'));
    pageFor(dir);
    return info.warnings.map((w) => w.message);
  },
};

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
let browser = null;
async function openPage(dist, isolated) {
  browser ??= await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  const server = await serve(dist, 0, { isolated });
  const page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error);
    const error = await page.getAttribute('body', 'data-error');
    assert(!error, `the page failed: ${error}`);
    assert(errors.length === 0, `errors on the page: ${errors.join('\n')}`);
    return JSON.parse(await page.getAttribute('body', 'data-result'));
  } finally {
    await page.close();
    server.close();
  }
}

function checkResult(r, isolated) {
  assert(r.backend === 'wasm', `backend ${r.backend}, expected wasm`);
  assert(r.crossOriginIsolated === isolated, `crossOriginIsolated is ${r.crossOriginIsolated}`);
  if (!isolated) assert(r.threads === 1, `${r.threads} threads without isolation`);
  assert(String(r.predictionShape) === '8,3', `prediction of shape [${r.predictionShape}]`);
  assert(
    r.rowSums.every((s) => Math.abs(s - 1) < 1e-5),
    `softmax rows sum to ${r.rowSums}, not 1`,
  );
  for (const k of ['stepLoss', 'epochLoss'])
    assert(Number.isFinite(r[k]) && r[k] > 0 && r[k] < 5, `${k} ${r[k]}`);
  assert(r.weightsChanged, 'training left the weights as they were');
  assert(!r.nodeOnly, 'the page got the Node entry (rc.nativeBackendStatus or rc.data.loadMnist)');
  return `${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}, loss ${r.stepLoss.toFixed(3)}`;
}

for (const name of Object.keys(builds)) {
  if (!wanted(name)) continue;
  const dir = appFolder(name);
  await check(`${name}: builds the app that imports 'receptive'`, async () => {
    const warnings = (await builds[name](dir)).filter((w) => !harmless.test(w));
    assert(warnings.length === 0, `warnings:\n${warnings.join('\n')}`);
    const js = readdirSync(join(dir, 'dist'), { recursive: true }).filter((f) => f.endsWith('.js'));
    const bytes = js.reduce((n, f) => n + readFileSync(join(dir, 'dist', f)).length, 0);
    const gz = js.reduce(
      (n, f) => n + gzipSync(readFileSync(join(dir, 'dist', f)), { level: 9 }).length,
      0,
    );
    return `${js.length} script(s), ${kB(bytes)}, ${kB(gz)} gzipped`;
  });
  if (!existsSync(join(dir, 'dist/index.html'))) continue;
  for (const isolated of [true, false])
    await check(
      `${name}: runs in Chromium ${isolated ? 'cross-origin isolated' : 'without COOP/COEP'}`,
      async () => checkResult(await openPage(join(dir, 'dist'), isolated), isolated),
    );
}
await browser?.close();

if (wanted('esbuild'))
  await check(
    'size of the whole browser entry, minified (esbuild) and gzipped (level 9)',
    async () => {
      // Every export, so nothing is shaken out: what an app that uses all of receptive carries.
      // Split as Vite and webpack split it: what receptive loads on demand (ONNX export, model
      // saving and loading) in chunks of their own.
      const { build } = await import('esbuild');
      writeFileSync(join(tmp, 'everything.js'), "export * from 'receptive';\n");
      const r = await build({
        entryPoints: [join(tmp, 'everything.js')],
        bundle: true,
        minify: true,
        splitting: true,
        format: 'esm',
        outdir: join(tmp, 'everything'),
        absWorkingDir: tmp, // the metafile's paths are relative to it
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const sizes = (files) =>
        `${kB(files.reduce((n, f) => n + f.contents.length, 0))} minified, ${kB(
          files.reduce((n, f) => n + gzipSync(f.contents, { level: 9 }).length, 0),
        )} gzipped`;
      // Loaded at start: the entry's chunk and the chunks it imports statically, transitively.
      const outputs = r.metafile.outputs;
      const byName = new Map(r.outputFiles.map((f) => [f.path.slice(tmp.length + 1), f]));
      const start = new Set();
      const visit = (name) => {
        if (start.has(name)) return;
        start.add(name);
        for (const i of outputs[name].imports) if (i.kind === 'import-statement') visit(i.path);
      };
      visit(Object.keys(outputs).find((o) => outputs[o].entryPoint));
      const atStart = [...byName].filter(([n]) => start.has(n)).map(([, f]) => f);
      const onDemand = [...byName].filter(([n]) => !start.has(n)).map(([, f]) => f);
      assert(atStart.length + onDemand.length === Object.keys(outputs).length, 'chunks mislaid');
      return `loaded at start ${sizes(atStart)}; on demand ${sizes(onDemand)}`;
    },
  );

/** Runs node in the temporary folder (where 'receptive' resolves to the tarball). */
function node(args) {
  return execFileSync(process.execPath, args, { cwd: tmp, encoding: 'utf8' }).trim();
}

if (wanted('node')) {
  await check("node: require('receptive') (CommonJS) gives the Node entry", () => {
    const out = node([
      '-e',
      "const rc = require('receptive'); console.log(typeof rc.nativeBackendStatus, typeof rc.data.loadMnist, rc.sum(rc.tensor([1, 2, 3])).item())",
    ]);
    assert(out === 'function function 6', `got: ${out}`);
    return out;
  });
  await check("node: import 'receptive' and 'receptive/browser' (ES modules)", () => {
    const out = node([
      '--input-type=module',
      '-e',
      "import * as rc from 'receptive'; import * as b from 'receptive/browser'; console.log(typeof rc.nativeBackendStatus, typeof b.nativeBackendStatus, b.Sequential === rc.Sequential)",
    ]);
    assert(out === 'function undefined true', `got: ${out}`);
  });
}

/** Type-checks the files in `dir` with a tsconfig of these compiler options (this repo's tsc). */
function tsc(dir, compilerOptions, files) {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        skipLibCheck: false,
        ...compilerOptions,
      },
      files,
    }),
  );
  try {
    execFileSync(join(repo, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`tsc -p ${dir}:\n${e.stdout}${e.stderr}`);
  }
}

if (wanted('types')) {
  const ts = join(tmp, 'ts');
  mkdirSync(ts);
  writeFileSync(join(ts, 'package.json'), '{ "type": "module" }');
  // The browser subset, for a bundled app: no Node types needed (types: []), and the Node-only
  // parts are absent, as at run time.
  writeFileSync(
    join(ts, 'browser.ts'),
    `import * as rc from 'receptive';
import * as b from 'receptive/browser';
const m: rc.Sequential = new b.Sequential([new rc.layers.Dense({ units: 2, inputShape: [3] })]);
m.predict(rc.zeros([1, 3]));
void b.data.parseIdx;
// @ts-expect-error the browser entry has no file-system loaders
rc.data.loadMnist();
// @ts-expect-error nor the native backend
rc.nativeBackendStatus();
`,
  );
  // The Node entry: all of it.
  writeFileSync(
    join(ts, 'node.ts'),
    `import * as rc from 'receptive';
rc.nativeBackendStatus();
void rc.data.loadMnist;
void rc.vision;
`,
  );
  writeFileSync(
    join(ts, 'node_require.cts'),
    `import rc = require('receptive');
rc.nativeBackendStatus();
`,
  );
  await check(
    "types: moduleResolution bundler, 'receptive' and 'receptive/browser' give the browser subset",
    () =>
      tsc(
        ts,
        { module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] },
        ['browser.ts'],
      ),
  );
  await check(
    "types: moduleResolution bundler with customConditions ['node'] gives the Node entry",
    () =>
      tsc(
        ts,
        {
          module: 'ESNext',
          moduleResolution: 'bundler',
          customConditions: ['node'],
          lib: ['ES2022', 'DOM'],
          types: ['node'],
        },
        ['node.ts'],
      ),
  );
  await check('types: module nodenext gives the Node entry, to import and to require', () =>
    tsc(
      ts,
      { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022', 'DOM'], types: ['node'] },
      ['node.ts', 'node_require.cts'],
    ),
  );
  await check("types: each entry's declared exports are the names it has at run time", () => {
    // The run-time names, from Node: each export, and each export of its namespaces (rc.data).
    const names = JSON.parse(
      node([
        '--input-type=module',
        '-e',
        `const out = {};
for (const [entry, spec] of [['node', 'receptive'], ['browser', 'receptive/browser']]) {
  const m = await import(spec);
  out[entry] = { '': Object.keys(m) };
  for (const [k, v] of Object.entries(m)) {
    const proto = v && typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
    if (proto === null || proto === Object.prototype) out[entry][k] = Object.keys(v);
  }
}
console.log(JSON.stringify(out));`,
      ]),
    );
    const union = (keys) =>
      keys.length ? keys.map((k) => JSON.stringify(k)).join(' | ') : 'never';
    let text = `import type * as node from 'receptive';
import type * as browser from 'receptive/browser';
type Same<Declared, Runtime> = [Exclude<Declared, Runtime>, Exclude<Runtime, Declared>] extends [never, never]
  ? 'same'
  : { declaredButMissing: Exclude<Declared, Runtime>; presentButUndeclared: Exclude<Runtime, Declared> };
`;
    let n = 0;
    for (const [entry, spaces] of Object.entries(names))
      for (const [space, keys] of Object.entries(spaces)) {
        const type = space ? `(typeof ${entry})[${JSON.stringify(space)}]` : `typeof ${entry}`;
        text += `export const check${n++}: Same<keyof ${type}, ${union(keys)}> = 'same'; // ${entry}${space ? `.${space}` : ''}\n`;
      }
    writeFileSync(join(ts, 'names.ts'), text);
    tsc(
      ts,
      { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022', 'DOM'], types: ['node'] },
      ['names.ts'],
    );
    return `${n} export lists compared (${Object.keys(names.node).length - 1} namespaces in the Node entry, ${Object.keys(names.browser).length - 1} in the browser one)`;
  });
}

if (process.env.KEEP) console.log(`kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
const passed = results.filter(Boolean).length;
console.log(
  `toolchains: ${passed} passed, ${results.length - passed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)`,
);
process.exit(passed === results.length && results.length > 0 ? 0 : 1);
