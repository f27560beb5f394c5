/** Shared test helpers: closeness checks with useful messages, fixtures, the gradient check. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as rc from '../src/index.js';

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

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the first offending index. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { atol?: number; rtol?: number; msg?: string } = {},
): void {
  const { atol = 1e-5, rtol = 1e-5, msg = '' } = opts;
  assert.equal(
    actual.length,
    expected.length,
    `${msg} length ${actual.length} vs ${expected.length}`,
  );
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${msg} mismatch at index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
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

/** Runs fn with a backend selected, restoring the previous one after. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = rc.getBackend();
  rc.setBackend(name);
  try {
    return fn();
  } finally {
    rc.setBackend(prev);
  }
}
