/**
 * The test helpers that also run in a browser page, where the conformance suite runs on webgpu
 * (web/e2e/webgpu.mjs): no Node modules here. test/helpers.ts re-exports them.
 */
import assert from 'node:assert/strict';
import { getBackend, setBackend } from '../src/backend/registry.js';

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

/** Runs fn with a backend selected, restoring the previous one after. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = getBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}
