// Runs a TypeScript entry in Chromium with WebGPU (on its software adapter, SwiftShader, where
// the machine has no GPU): the entry is bundled by esbuild into a bare page, served by
// server.mjs, and must set `globalThis.__result` to a promise of something JSON can carry; this
// resolves with it. Page errors and console errors reject. Used by the WebGPU tests
// (webgpu.mjs) and handy on its own while writing kernels:
//   node web/e2e/webgpu_page.mjs path/to/entry.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Chromium's switches that expose WebGPU headless, on SwiftShader where there is no GPU. */
export const WEBGPU_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-first-run',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

/**
 * An esbuild plugin that bundles another file in place of a module: `redirects` maps a bare
 * module name ('node:test') or a file of the repository without its extension ('src/index',
 * however it is imported: '../../src/index.js') to the file, relative to the repository, to
 * bundle instead.
 */
function redirectPlugin(redirects) {
  return {
    name: 'redirect',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        let key = args.path;
        if (key.startsWith('.') || isAbsolute(key)) {
          const file = resolve(args.resolveDir, key);
          key = relative(repo, file.slice(0, file.length - extname(file).length));
        }
        const to = redirects[key];
        return to === undefined ? undefined : { path: resolve(repo, to) };
      });
    },
  };
}

/**
 * Bundles `entry` (a file path), opens it in Chromium and returns what `globalThis.__result`
 * resolves to. `timeoutMs` bounds the wait; `onLog` sees the page's console lines; `alias` is
 * esbuild's (bare package names), `redirects` redirectPlugin's; `query` ('?a=b') is the page's
 * URL query; `chromiumArgs` adds switches.
 */
export async function runInChromium(
  entry,
  { timeoutMs = 600_000, onLog, alias, redirects, query = '', chromiumArgs = [] } = {},
) {
  const site = mkdtempSync(join(tmpdir(), 'receptive-webgpu-'));
  const server = await serve(site);
  let browser;
  try {
    await build({
      entryPoints: [resolve(entry)],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(site, 'bundle.js'),
      logLevel: 'warning',
      absWorkingDir: repo,
      alias,
      plugins: redirects ? [redirectPlugin(redirects)] : [],
    });
    writeFileSync(
      join(site, 'index.html'),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>receptive webgpu</title><script type="module" src="bundle.js"></script>',
    );
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [...WEBGPU_ARGS, ...chromiumArgs],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(timeoutMs);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.stack ?? e.message));
    page.on('console', (m) => {
      onLog?.(m.text());
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/${query}`);
    await page.waitForFunction(() => globalThis.__result !== undefined, null, {
      timeout: timeoutMs,
    });
    const result = await page.evaluate(() => globalThis.__result);
    if (errors.length > 0 && result === undefined) throw new Error(errors.join('\n'));
    return { result, errors };
  } finally {
    await browser?.close();
    server.close();
    rmSync(site, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = process.argv[2];
  if (!entry) {
    console.error('usage: node web/e2e/webgpu_page.mjs ENTRY.ts');
    process.exit(2);
  }
  const { result, errors } = await runInChromium(entry, {
    onLog: (l) => console.log(`[page] ${l}`),
  });
  console.log(JSON.stringify(result, null, 2));
  if (errors.length > 0) {
    console.error(errors.join('\n'));
    process.exit(1);
  }
}
