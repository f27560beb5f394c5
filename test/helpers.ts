/** Shared test helpers: closeness checks with useful messages, fixtures, the gradient check. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as rc from '../src/index.js';
import { assertClose } from './checks.js';

export { assertClose, withBackend } from './checks.js';

/** The repository root (tests are compiled to build/test, so walk up until package.json). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

/**
 * A maker of temporary folders for one test file, all removed when the file's tests end.
 * Call it at the top level of the file: `const tempDir = tempDirs('receptive-io-');`.
 */
export function tempDirs(prefix = 'receptive-'): () => string {
  const made: string[] = [];
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

/** ../shared next to the repository, where the real datasets live (absent on users' machines). */
export const sharedDir = join(repoRoot, '..', 'shared');

export function readJson<T>(relPath: string): T {
  return JSON.parse(readFileSync(join(repoRoot, relPath), 'utf8')) as T;
}

export function assertTensorClose(
  actual: rc.Tensor,
  expected: rc.Tensor | ArrayLike<number>,
  opts: Parameters<typeof assertClose>[2] = {},
): void {
  if (expected instanceof rc.Tensor) {
    assert.deepEqual(actual.shape, expected.shape, `${opts.msg ?? ''} shape`);
    assertClose(actual.dataSync(), expected.dataSync(), opts);
  } else {
    assertClose(actual.dataSync(), expected, opts);
  }
}
