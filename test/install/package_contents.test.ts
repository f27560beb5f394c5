/**
 * What `npm install receptive` brings: the tarball's files (`npm pack --dry-run`, after
 * `npm run build`) and the dependencies. The chart packages are optional peers, loaded on first
 * use; nothing in src/ imports them, or tar, when receptive is imported.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;
const OPTIONAL = ['@resvg/resvg-js', 'vega', 'vega-lite'];

test('the tarball: a LICENSE, the wasm kernels once (in the JavaScript), no source maps', () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/index.js'), 'dist/ is built: run `npm run build` first');
  assert.ok(files.includes('LICENSE'));
  assert.match(
    readFileSync(join(repoRoot, 'LICENSE'), 'utf8'),
    /^MIT License\n\nCopyright \(c\) 2026 the receptive authors\n/,
  );
  assert.ok(files.includes('dist/backend/wasm/kernels_wasm.generated.js'));
  assert.deepEqual(
    files.filter((f) => f.endsWith('.wasm')),
    [],
    'no second copy of the kernels',
  );
  // The maps would point at src/, which is not shipped.
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
  );
  assert.ok(files.includes('scripts/build-native.mjs') && files.includes('native/binding.gyp'));
  assert.deepEqual(
    files.filter((f) => /^(src|test|build|bench|web)\//.test(f)),
    [],
  );
});

test('vega, vega-lite and resvg are optional peer dependencies, installed here for the tests', () => {
  for (const name of OPTIONAL) {
    assert.equal(pkg.dependencies![name], undefined, `${name} is not a dependency`);
    assert.equal(typeof pkg.peerDependencies![name], 'string', `${name} is a peer dependency`);
    assert.deepEqual(pkg.peerDependenciesMeta![name], { optional: true });
    assert.equal(pkg.devDependencies![name], pkg.peerDependencies![name]);
  }
  assert.equal(pkg.scripts!.install, 'node scripts/build-native.mjs');
});

test('no module of src/ imports the optional packages or tar when receptive loads', () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? sources(join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [join(dir, e.name)]
          : [],
    );
  const heavy = [...OPTIONAL, 'tar'].map((p) => p.replace(/[/.-]/g, '\\$&')).join('|');
  // `import … from 'vega'`, `export … from 'vega'`, `import 'vega'` (types only are fine).
  // (No parentheses between the keyword and the name: those are code, not an import statement.)
  const eager = new RegExp(`^\\s*(import|export)\\b[^;()]*?['"](${heavy})['"]`, 'm');
  const offenders = sources(join(repoRoot, 'src')).filter((f) => {
    const text = readFileSync(f, 'utf8').replace(/^\s*import\s+type\b[^;]*;/gm, '');
    return eager.test(text);
  });
  assert.deepEqual(offenders, []);
  // tar: only where a CIFAR-10 archive is unpacked, on first use.
  const tarUsers = sources(join(repoRoot, 'src')).filter((f) =>
    /import\(['"]tar['"]\)/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    tarUsers.map((f) => f.slice(repoRoot.length + 1)),
    [join('src', 'data', 'cifar10.ts')],
  );
});
