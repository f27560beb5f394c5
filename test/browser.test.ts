/**
 * src/browser.ts, the entry for bundlers (the playground, the package's `browser` condition):
 * it re-exports the library's own functions, and nothing it loads, however deep, statically or
 * on use (import()), needs Node: a browser bundler must build it with no configuration.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as browser from '../src/browser.js';
import * as rc from '../src/index.js';

test('a browser bundler builds the browser entry from its own modules alone', async () => {
  // esbuild follows every import a bundler would, import() included, and fails on a Node module
  // (node:fs, readline) or one it cannot find; every module it bundles must be ours, or one of
  // the few packages made for browsers that the entry means to load.
  const entry = fileURLToPath(new URL('../src/browser.js', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  }).catch((e: { errors?: { text: string; location?: { file: string } | null }[] }) => {
    const errors = e.errors?.map((m) => `${m.location?.file}: ${m.text}`) ?? [String(e)];
    assert.fail(`the browser entry does not bundle:\n${errors.join('\n')}`);
  });
  const modules = Object.keys(result.metafile.inputs);
  assert.ok(modules.length > 50, `only ${modules.length} modules bundled: the check is broken`);
  for (const lazy of ['io/handlers/indexeddb.js', 'io/onnx/export.js'])
    assert.ok(
      modules.some((m) => m.endsWith(lazy)),
      `${lazy} is not in the bundle: are dynamic imports followed?`,
    );
  // protobufjs (and its long) encodes ONNX files, loaded when exportOnnx is called.
  const packages = new Set(
    modules
      .filter((m) => m.includes('node_modules/'))
      .map((m) => m.split('node_modules/').pop()!.split('/')[0]!),
  );
  assert.deepEqual([...packages].sort(), ['long', 'protobufjs'], 'npm packages in the bundle');
  assert.deepEqual(
    // '(disabled):fs': a module a package's own "browser" field maps to nothing (protobufjs)
    modules.filter(
      (m) => !m.includes('node_modules/') && !m.includes('src/') && !m.startsWith('(disabled):'),
    ),
    [],
    'modules from outside the library',
  );
});

test('the browser entry exports the same functions as the main entry', () => {
  for (const [name, value] of Object.entries(browser)) {
    if (name === 'data' || name === 'vision') continue;
    assert.equal(value, (rc as Record<string, unknown>)[name], name);
  }
  assert.equal(browser.data.parseIdx, rc.data.parseIdx);
  assert.equal(browser.data.Dataset, rc.data.Dataset);
  for (const [name, value] of Object.entries(browser.vision))
    assert.equal(value, (rc.vision as Record<string, unknown>)[name], `vision.${name}`);
  const y = browser.conv2d(
    browser.reshape(browser.tensor([2, 4, 1, 5, 9, 7, 3, 8, 6]), [1, 3, 3, 1]),
    browser.reshape(browser.tensor([-1, 0, 1, -1, 2, 2, 0, 1, -1]), [3, 3, 1, 1]),
  );
  assert.equal(y.item(), 28);
});
