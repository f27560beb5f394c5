/**
 * Where models are saved and loaded from (io/router.ts): http(s) URLs served by a local server
 * (progress, 404, bad JSON, truncated weights, relative weight paths), the downloads:// pair read
 * back from a folder, and clear errors for targets that Node does not have (IndexedDB, downloads).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as rc from '../../src/index.js';
import { tempDirs } from '../helpers.js';

const { layers } = rc;
const tempDir = tempDirs('receptive-model-io-');

function smallCnn(): rc.Sequential {
  return new rc.Sequential([
    new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
    new layers.MaxPooling2D({ poolSize: 2 }),
    new layers.Flatten(),
    new layers.Dense({ units: 64, activation: 'relu' }),
    new layers.Dense({ units: 3, activation: 'softmax' }),
  ]);
}

rc.setSeed(11);
const model = smallCnn();
const x = rc.randn([2, 12, 12, 1]);
const expected = model.predict(x).dataSync();
const root = tempDir();
const modelDir = join(root, 'cnn');

/** What the server does on a path: a file from `root`, or a special answer. */
type Special = (res: import('node:http').ServerResponse) => void;
const specials = new Map<string, Special>();
const requests: string[] = [];
let server: Server;
let base: string;

before(async () => {
  await model.save(modelDir);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    requests.push(path);
    const special = specials.get(path);
    if (special) return special(res);
    let body: Buffer;
    try {
      body = readFileSync(join(root, path));
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // In pieces, so that progress has something to follow.
    res.writeHead(200, { 'content-length': body.length });
    let at = 0;
    const step = () => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 4096));
      at += 4096;
      setImmediate(step);
    };
    step();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const bits = (m: rc.Model) => m.predict(x).dataSync();

test('loadModel over http: the folder URL or model.json URL, identical predictions, progress to 1', async () => {
  for (const url of [`${base}/cnn/`, `${base}/cnn`, `${base}/cnn/model.json`]) {
    const seen: number[] = [];
    const loaded = await rc.loadModel(url, { onProgress: (f) => seen.push(f) });
    assert.deepEqual(bits(loaded), expected, url);
    assert.equal(seen[0], 0, url);
    assert.equal(seen.at(-1), 1, url);
    assert.ok(
      seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f > seen[i - 1]!)),
      `monotone: ${seen.join(' ')}`,
    );
    // The weights (~100 KB, sent 4 KB at a time) are followed by bytes, not only at the end.
    assert.ok(seen.filter((f) => f > 0 && f < 1).length >= 5, `${url}: ${seen.join(' ')}`);
  }
  // Without a callback it loads the same.
  assert.deepEqual(bits(await rc.loadModel(`${base}/cnn/`)), expected);
});

test('without a Content-Length, progress still starts at 0 and ends at 1', async () => {
  const doc = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as rc.ModelFile;
  const weights = readFileSync(join(modelDir, doc.weights.file));
  specials.set(`/cnn/${doc.weights.file}`, (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked
    res.end(weights);
  });
  try {
    const seen: number[] = [];
    const loaded = await rc.loadModel(`${base}/cnn/`, { onProgress: (f) => seen.push(f) });
    assert.deepEqual(bits(loaded), expected);
    assert.deepEqual(seen, [0, 1]);
  } finally {
    specials.clear();
  }
});

test('weight paths in model.json are resolved against the URL of model.json', async () => {
  const dir = join(root, 'nested', 'deep');
  mkdirSync(dir, { recursive: true });
  const doc = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as rc.ModelFile;
  writeFileSync(
    join(root, 'nested', 'w.safetensors'),
    readFileSync(join(modelDir, doc.weights.file)),
  );
  doc.weights.file = '../w.safetensors';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
  requests.length = 0;
  const loaded = await rc.loadModel(`${base}/nested/deep/model.json`);
  assert.deepEqual(bits(loaded), expected);
  assert.deepEqual(requests, ['/nested/deep/model.json', '/nested/w.safetensors']);
});

/** Asserts that loading `url` fails with an error of `type` whose message has every pattern. */
async function assertFails(
  url: string,
  type: new (...a: never[]) => Error,
  ...patterns: (string | RegExp)[]
): Promise<void> {
  await assert.rejects(rc.loadModel(url), (e: Error) => {
    assert.ok(e instanceof type, `${e.name}: ${e.message}`);
    assert.ok(e instanceof rc.ReceptiveError);
    for (const p of patterns)
      if (typeof p === 'string') assert.ok(e.message.includes(p), `'${p}' in: ${e.message}`);
      else assert.match(e.message, p);
    return true;
  });
}

test('a 404, bad JSON, a foreign JSON or a refused connection is an error naming the URL', async () => {
  await assertFails(`${base}/nothing/`, rc.IOError, `${base}/nothing/model.json`, /HTTP 404/);
  specials.set('/bad/model.json', (res) => res.writeHead(200).end('{"format": "receptive-m'));
  specials.set('/foreign/model.json', (res) => res.writeHead(200).end('{"modelTopology": {}}'));
  specials.set('/oops/model.json', (res) => res.writeHead(500, 'Internal Server Error').end());
  try {
    await assertFails(
      `${base}/bad/`,
      rc.ModelFileError,
      `${base}/bad/model.json`,
      /not valid JSON/,
    );
    await assertFails(
      `${base}/foreign/model.json`,
      rc.ModelFileError,
      `${base}/foreign/model.json`,
      /not a receptive model file/,
    );
    await assertFails(`${base}/oops/`, rc.IOError, `${base}/oops/model.json`, /HTTP 500/);
  } finally {
    specials.clear();
  }
  // A port nothing listens on (the server's own port, once closed, is not free to reuse safely).
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assertFails(
    `http://127.0.0.1:${port}/m/`,
    rc.IOError,
    `http://127.0.0.1:${port}/m/model.json`,
    /cannot fetch/,
  );
});

test('truncated weights: cut short against the Content-Length, or complete but short, name the URL', async () => {
  const doc = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as rc.ModelFile;
  const weights = readFileSync(join(modelDir, doc.weights.file));
  const url = `${base}/cnn/${doc.weights.file}`;
  // The connection closes after half of the announced bytes.
  specials.set(`/cnn/${doc.weights.file}`, (res) => {
    res.writeHead(200, { 'content-length': weights.length });
    res.write(weights.subarray(0, weights.length >> 1), () => res.destroy());
  });
  try {
    await assertFails(`${base}/cnn/`, rc.IOError, url);
    // A server that announces the short length: the checksum catches it.
    specials.set(`/cnn/${doc.weights.file}`, (res) => {
      res.writeHead(200, { 'content-length': weights.length - 100 });
      res.end(weights.subarray(0, weights.length - 100));
    });
    await assertFails(`${base}/cnn/`, rc.ModelFileError, url, /fails its checksum/);
  } finally {
    specials.clear();
  }
});

test('the downloads:// pair (name.json, name.safetensors) loads from the path of name.json', async () => {
  const dir = tempDir();
  await model.save(dir);
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as rc.ModelFile;
  renameSync(join(dir, doc.weights.file), join(dir, 'cnn.safetensors'));
  doc.weights.file = 'cnn.safetensors';
  writeFileSync(join(dir, 'cnn.json'), JSON.stringify(doc));
  assert.deepEqual(bits(await rc.loadModel(join(dir, 'cnn.json'))), expected);
});

test('targets that Node does not have, or nothing has, are errors that say what is supported', async () => {
  const says =
    (...patterns: RegExp[]) =>
    (e: Error) => {
      assert.ok(e instanceof rc.IOError, `${e.name}: ${e.message}`);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    };
  await assert.rejects(
    rc.loadModel('indexeddb://cnn'),
    says(/'indexeddb:\/\/' needs a browser/, /Supported here: .*directory.*http\(s\) URL/),
  );
  await assert.rejects(
    model.save('indexeddb://cnn'),
    says(/\.save: cannot use 'indexeddb:\/\/cnn'/, /needs a browser/, /directory/),
  );
  await assert.rejects(model.save('downloads://cnn'), says(/needs a browser/));
  await assert.rejects(model.exportOnnx('downloads://cnn.onnx'), says(/needs a browser/));
  await assert.rejects(
    rc.loadModel('ftp://host/cnn'),
    says(/'ftp:\/\/' targets are not supported/),
  );
  // http(s) loads but does not save.
  await assert.rejects(
    model.save(`${base}/cnn/`),
    says(/'http:\/\/' targets are not supported/, /Supported here: a directory path/),
  );
  for (const bad of [undefined, null, 42, '', {}]) {
    await assert.rejects(rc.loadModel(bad as unknown as string), rc.ArgumentError, String(bad));
    await assert.rejects(model.save(bad as unknown as string), rc.ArgumentError, String(bad));
  }
  await assert.rejects(
    rc.loadModel(modelDir, { onProgress: 'yes' as unknown as () => void }),
    /onProgress must be a function/,
  );
});
