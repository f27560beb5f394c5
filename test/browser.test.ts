/**
 * src/browser.ts, the entry for bundlers (the playground): it re-exports the library's own
 * functions, and nothing it imports, however deep, needs Node (no node:* module, no npm package).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import * as browser from '../src/browser.js';
import * as rc from '../src/index.js';

/** The modules a file loads when it runs: static imports and re-exports that are not type-only. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const statement = /^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gms;
  for (const m of text.matchAll(statement)) if (!m[1]) out.push(m[2]!);
  return out;
}

test('nothing that src/browser.ts imports needs Node', () => {
  const src = resolve('src');
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith('.')) {
        bare.set(spec, file.slice(src.length + 1));
        continue;
      }
      const ts = join(dirname(file), spec).replace(/\.js$/, '.ts');
      assert.ok(existsSync(ts), `${file} imports ${spec}, which is not a source file`);
      visit(ts);
    }
  };
  visit(join(src, 'browser.ts'));
  assert.ok(seen.size > 50, `only ${seen.size} modules found: the import scan is broken`);
  assert.deepEqual(
    [...bare].map(([spec, from]) => `${spec} (from ${from})`),
    [],
    'the browser entry must load no npm package and no node: module',
  );
});

test('nothing that src/browser.ts can load, even on demand, is a node: module', () => {
  // Dynamic imports are followed too: a bundler resolves them at build time, and webpack fails
  // on a node: module even where no code path reaches it in a browser.
  const src = resolve('src');
  const seen = new Set<string>();
  const nodeModules: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specs = [
      ...runtimeImports(file),
      ...[...text.matchAll(/(?<!typeof )\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      if (spec.startsWith('node:'))
        nodeModules.push(`${spec} (from ${file.slice(src.length + 1)})`);
      if (!spec.startsWith('.')) continue;
      visit(join(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  };
  visit(join(src, 'browser.ts'));
  assert.ok(seen.has(join(src, 'io', 'handlers', 'indexeddb.ts')), 'the scan missed the handlers');
  assert.ok(seen.has(join(src, 'io', 'onnx', 'export.ts')), 'the scan missed dynamic imports');
  assert.deepEqual(nodeModules, []);
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
