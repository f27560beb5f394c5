/**
 * `receptive explain` and `visualize --maximize` as a user runs them (dist/cli/main.js in a
 * child process; `npm run build` first). The picture the command writes is decoded and checked
 * against the library: each image cell holds the image, each heat cell the library's own
 * picture for the same model, image and class. Bad input ends in one line and exit code 1.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as rc from '../../src/index.js';
import { type CliResult, runCli } from '../cli_runner.js';
import { tempDirs } from '../helpers.js';

const dir = tempDirs('receptive-explain-')();

function receptive(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { RECEPTIVE_CACHE: join(dir, 'cache') } });
}

const ok = (r: CliResult) =>
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}\nstdout: ${r.stdout}`);

function assertCleanError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code 1; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace:\n${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
}

const png = (file: string) => rc.vision.decodeImage(new Uint8Array(readFileSync(join(dir, file))));

/** The cell `i` of a one-row grid (2 px gutters) as RGB bytes, undoing the scale. */
function cell(p: rc.vision.RawImage, i: number, size: number, scale: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const x0 = 2 + i * (size * scale + 2);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let k = 0; k < 3; k++)
        out[(y * size + x) * 3 + k] = p.data[((2 + y * scale) * p.width + x0 + x * scale) * 3 + k]!;
  return out;
}

let model: rc.Sequential;
const digits: Uint8Array[] = [];

before(async () => {
  rc.setSeed(7);
  model = rc.models.lenet5();
  await model.save(join(dir, 'lenet'));
  // Two strokes: a vertical bar (a one) and a bar with a top (a seven).
  for (const top of [false, true]) {
    const d = new Uint8Array(28 * 28);
    for (let y = 4; y < 24; y++) for (let x = 13; x < 16; x++) d[y * 28 + x] = 255;
    if (top) for (let y = 4; y < 7; y++) for (let x = 6; x < 16; x++) d[y * 28 + x] = 255;
    digits.push(d);
    writeFileSync(
      join(dir, `d${digits.length}.png`),
      rc.vision.encodePng({ width: 28, height: 28, channels: 1, data: d }),
    );
  }
  // A model without a spatial layer: Grad-CAM has nothing to weigh.
  const flat = new rc.Sequential([
    new rc.layers.Flatten({ inputShape: [28, 28, 1] }),
    new rc.layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
  await flat.save(join(dir, 'flat'));
});

const input = (d: Uint8Array) =>
  rc.tensor(
    Float32Array.from(d, (v) => v / 255),
    [1, 28, 28, 1],
  );

test('explain: top classes, the class explained, and each image beside its heat map', async () => {
  const r = await receptive(['explain', 'lenet', 'd1.png', 'd2.png', '-o', 'cam.png']);
  ok(r);
  const cam = await rc.vision.gradCam(model, rc.concat([input(digits[0]!), input(digits[1]!)], 0));
  assert.equal(cam.layer, 'average_pooling2d_1');
  for (const [i, f] of ['d1.png', 'd2.png'].entries())
    assert.match(
      r.stdout,
      new RegExp(
        `${f}:\\n(  \\d +\\d+\\.\\d\\d%\\n){3}  Grad-CAM of class ${cam.classIndex[i]} \\(\\d+\\.\\d\\d%\\) at layer average_pooling2d_1, the predicted class`,
      ),
    );
  assert.match(r.stdout, /Wrote cam\.png \(\d+×\d+\)/);
  const p = png('cam.png');
  // 4 cells of 28 px scaled by 4 (about 112 px), 2 px gutters, one row.
  assert.deepEqual([p.width, p.height, p.channels], [4 * 112 + 5 * 2, 112 + 2 * 2, 3]);
  for (let i = 0; i < 2; i++) {
    const grey = cell(p, 2 * i, 28, 4);
    assert.deepEqual(
      Array.from({ length: 28 * 28 }, (_, j) => grey[j * 3]!),
      Array.from(digits[i]!),
      `cell ${2 * i} is image ${i}`,
    );
    assert.deepEqual(
      cell(p, 2 * i + 1, 28, 4),
      cam.picture[i]!.data,
      `cell ${2 * i + 1} is its Grad-CAM`,
    );
  }
});

test('explain: every method, a chosen class and layer, occlusion settings', async () => {
  const x = input(digits[1]!);
  const want: Record<string, rc.vision.RawImage> = {
    'gradcam++': (
      await rc.vision.gradCam(model, x, { classIndex: 3, layer: 'conv2d_1', method: 'gradcam++' })
    ).picture[0]!,
    saliency: (await rc.vision.saliency(model, x, { classIndex: 3 })).picture[0]!,
    smoothgrad: (await rc.vision.saliency(model, x, { classIndex: 3, smoothGrad: true }))
      .picture[0]!,
    'integrated-gradients': (await rc.vision.integratedGradients(model, x, { classIndex: 3 }))
      .picture[0]!,
    occlusion: (await rc.vision.occlusion(model, x, { classIndex: 3, patch: 7, stride: 7 }))
      .picture[0]!,
  };
  const titles: Record<string, string> = {
    'gradcam++': 'Grad-CAM\\+\\+ of class three \\(\\d+\\.\\d\\d%\\) at layer conv2d_1\\n',
    saliency: 'saliency of class three',
    smoothgrad: 'SmoothGrad of class three',
    'integrated-gradients': 'integrated gradients of class three',
    occlusion: 'occlusion of class three',
  };
  const names = 'zero,one,two,three,four,five,six,seven,eight,nine';
  for (const [method, picture] of Object.entries(want)) {
    const args = [
      'explain',
      'lenet',
      'd2.png',
      '--method',
      method,
      '--class',
      method === 'saliency' ? '3' : 'three',
      '--classes',
      names,
      '--scale',
      '2',
      '-o',
      `${method}.png`,
    ];
    if (method === 'gradcam++') args.push('--layer', 'conv2d_1');
    if (method === 'occlusion') args.push('--patch', '7', '--stride', '7');
    const r = await receptive(args);
    ok(r);
    assert.match(r.stdout, new RegExp(titles[method]!), r.stdout);
    assert.doesNotMatch(r.stdout, /the predicted class/);
    const p = png(`${method}.png`);
    assert.deepEqual([p.width, p.height], [2 * 56 + 3 * 2, 56 + 2 * 2]);
    assert.deepEqual(cell(p, 1, 28, 2), picture.data, `${method}: the library's picture`);
  }
});

test('explain: bad input ends in one line and exit 1, nothing written', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--method', 'lime'],
      /'lime' is invalid\. Allowed choices are gradcam, gradcam\+\+, saliency, smoothgrad, integrated-gradients, occlusion/,
    ],
    [['--class', '10'], /--class: "10" is not a class of this model; give a number in 0\.\.9/],
    [['--class', 'seven'], /--class: "seven" is not a class .* 0\.\.9\.$/m],
    [
      ['--layer', 'dense'],
      /no layer 'dense' with a spatial output .*feature maps: conv2d, average_pooling2d, conv2d_1, average_pooling2d_1/,
    ],
    [['--method', 'saliency', '--layer', 'conv2d'], /only Grad-CAM weighs a layer/],
    [['--patch', '5'], /--patch and --stride are for --method occlusion/],
    [['--classes', 'a,b'], /2 names given, but the model scores 10 classes/],
  ];
  for (const [extra, pattern] of cases)
    assertCleanError(
      await receptive(['explain', 'lenet', 'd1.png', ...extra, '-o', 'bad.png']),
      pattern,
    );
  assertCleanError(
    await receptive(['explain', 'flat', 'd1.png', '-o', 'bad.png']),
    /Grad-CAM weighs the feature maps of a layer with a spatial output .* this model has none; try --method saliency/,
  );
  assertCleanError(await receptive(['explain', 'lenet', 'nope.png', '-o', 'bad.png']), /nope\.png/);
  assert.ok(!existsSync(join(dir, 'bad.png')), 'nothing written on failure');
  // Saliency needs no spatial layer.
  ok(await receptive(['explain', 'flat', 'd1.png', '--method', 'saliency', '-o', 'flat.png']));
});

test('visualize --maximize: the grid of what excites each filter, start and end as the library gives them', async () => {
  const r = await receptive([
    'visualize',
    'lenet',
    '--maximize',
    'conv2d_1',
    '--filters',
    '0,3,5',
    '--steps',
    '16',
    '-o',
    'max.png',
  ]);
  ok(r);
  const lib = await rc.vision.maximizeActivation(model, {
    layer: 'conv2d_1',
    filter: [0, 3, 5],
    steps: 16,
  });
  const lines = r.stdout.trim().split('\n');
  assert.match(
    lines[0]!,
    /conv2d_1: mean activation of each filter, at the start and after 16 steps/,
  );
  [0, 3, 5].forEach((f, i) => {
    const want = `  conv2d_1 filter ${f}: ${lib.start[i]!.toFixed(3)} -> ${lib.end[i]!.toFixed(3)}`;
    assert.ok(lines[i + 1]!.startsWith(want), `${lines[i + 1]} starts with ${want}`);
    assert.ok(lib.end[i]! > lib.start[i]!, `filter ${f} rises`);
  });
  const p = png('max.png');
  assert.deepEqual(
    [p.width, p.height, p.channels],
    [lib.picture.width, lib.picture.height, lib.picture.channels],
  );
  assert.deepEqual(p.data, lib.picture.data);
  // The centre unit of each filter instead of its mean.
  const m = await receptive([
    'visualize',
    'lenet',
    '--maximize',
    'conv2d_1',
    '--filters',
    '3',
    '--steps',
    '16',
    '--objective',
    'centre',
    '-o',
    'centre.png',
  ]);
  ok(m);
  const mid = await rc.vision.maximizeActivation(model, {
    layer: 'conv2d_1',
    filter: 3,
    steps: 16,
    objective: 'centre',
  });
  assert.match(m.stdout, /conv2d_1: centre unit of each filter, at the start and after 16 steps/);
  assert.ok(
    m.stdout.includes(
      `  conv2d_1 filter 3: ${mid.start[0]!.toFixed(3)} -> ${mid.end[0]!.toFixed(3)}`,
    ),
    m.stdout,
  );
  assert.deepEqual(png('centre.png').data, mid.picture.data);
  // A class's score.
  const c = await receptive([
    'visualize',
    'lenet',
    '--maximize',
    'output',
    '--class',
    '7',
    '--steps',
    '8',
    '-o',
    'seven.png',
  ]);
  ok(c);
  assert.match(
    c.stdout,
    /class score \(logit\), at the start and after 8 steps[^\n]*\n {2}class 7: -?\d+\.\d{3} -> -?\d+\.\d{3}/,
  );
});

test('visualize --maximize: bad input ends in one line and exit 1', async () => {
  const cases: [string[], RegExp][] = [
    [['--maximize', 'nope'], /no layer named 'nope'\. Layers with image-like outputs: conv2d/],
    [
      ['--maximize', 'conv2d', '--filters', '1,x'],
      /--filters: "1,x" is not a list of filter numbers/,
    ],
    [['--maximize', 'conv2d', '--filters', '6'], /filter must be an integer in 0\.\.5, got 6/],
    [
      ['--maximize', 'conv2d', '--class', '3'],
      /--class raises a class's score; give --maximize output/,
    ],
    [['--maximize', 'output', '--class', '10'], /classIndex must be an integer in 0\.\.9, got 10/],
    [['--steps', '3', '--filters'], /--class, --steps and --objective go with --maximize/],
    [['--objective', 'centre', '--filters'], /--objective go with --maximize/],
    [
      ['--maximize', 'conv2d', '--objective', 'max'],
      /objective must be 'mean' or 'centre', got "max"/,
    ],
    [['--filters', 'one.png'], /a list of filters goes with --maximize/],
  ];
  for (const [extra, pattern] of cases)
    assertCleanError(await receptive(['visualize', 'lenet', ...extra, '-o', 'bad.png']), pattern);
  assert.ok(!existsSync(join(dir, 'bad.png')), 'nothing written on failure');
});
