/**
 * The README's pictures must show on the npm page too. npm renders README.md but resolves
 * relative image paths only against a repository URL, which this package does not have. So
 * each image is an absolute jsDelivr URL of a file inside the published package,
 * https://cdn.jsdelivr.net/npm/receptive@<version>/<path>: jsDelivr serves every file of every
 * published npm version, and the version pins the picture to the release whose README shows it.
 * Checked here: every image link has that form with package.json's version (bump both
 * together), and its path is in the package (`npm pack --dry-run` lists the files) and here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

/** Image sources of Markdown images (`![alt](src)`) and HTML `<img src>`. */
function imageSources(md: string): string[] {
  const markdown = [...md.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)];
  const html = [...md.matchAll(/<img\s[^>]*src\s*=\s*["']([^"']+)["']/gi)];
  return [...markdown, ...html].map((m) => m[1]!);
}

test('the image finder sees Markdown and HTML images', () => {
  assert.deepEqual(imageSources('a ![x](a.png) b <img alt="y" src="b.svg"> ![z](<c d.png> "t")'), [
    'a.png',
    'b.svg',
  ]);
});

test('every README image is a jsDelivr URL of a file in this version of the package', async () => {
  const sources = imageSources(readme);
  assert.ok(sources.length >= 6, `found only ${sources.length} images in README.md`);
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], {
    cwd: repoRoot,
    maxBuffer: 64 << 20,
  });
  const packed = new Set(
    (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path),
  );
  const prefix = `https://cdn.jsdelivr.net/npm/${pkg.name}@${pkg.version}/`;
  for (const src of sources) {
    assert.ok(
      src.startsWith(prefix),
      `README image ${src}: write it as ${prefix}<path in the package>, so that npm's page shows it`,
    );
    const path = src.slice(prefix.length);
    assert.ok(existsSync(join(repoRoot, path)), `README image ${src}: ${path} does not exist`);
    assert.ok(
      packed.has(path),
      `README image ${src}: ${path} is not in the package; add it to "files" in package.json`,
    );
  }
});
