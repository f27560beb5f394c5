/**
 * What only the wasm backend has: the registry's default where WebAssembly SIMD runs, its heap
 * limit (tensors that do not fit stay JS arrays), tensors that move into wasm memory once used
 * often, the global thread setting. Every build (simd, relaxed-SIMD where the engine runs it:
 * Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd) and every memory mode of
 * conformance.ts. Its kernels' values are checked against the reference by the shared
 * conformance suite (conformance*.test.ts); the heap allocator by heap.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Storage } from '../../src/backend/backend.js';
import { backendByName, backendNames } from '../../src/backend/registry.js';
import { WasmBackend, wasmSupported } from '../../src/backend/wasm/wasm_backend.js';
import * as rc from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { js, reference, runOn, wasmModes, wasmVariants } from './conformance.js';
import { assertRel, assertSame, convInfo, randomValues } from './kernel_cases.js';

const rng = new Random(1234);
const randn = (n: number) => randomValues(rng, n);

describe('wasm backend', () => {
  test('WebAssembly SIMD is available here, and the registry offers and defaults to wasm', () => {
    assert.ok(wasmSupported(), 'this engine has no WebAssembly SIMD');
    assert.ok(backendNames().includes('wasm'));
    assert.equal(backendByName('wasm').name, 'wasm');
    if (!process.env.RECEPTIVE_BACKEND) {
      // Without the override the default backend is wasm, or native where its addon loads
      // (when another test file has not switched it; this file never calls setBackend).
      assert.equal(rc.getBackend(), rc.nativeBackendStatus().available ? 'native' : 'wasm');
    }
  });

  // One set of values for every build and mode (the reference runs once).
  const c = convInfo({
    batch: 7,
    inH: 30,
    inW: 30,
    inC: 8,
    outC: 16,
    k: [3, 3],
    padding: 'same',
  });
  const xSize = c.batch * c.inH * c.inW * c.inC;
  const ySize = c.batch * c.outH * c.outW * c.outC;
  const [x, w, dy] = [randn(xSize), randn(3 * 3 * 8 * 16), randn(ySize)];
  const [p, q] = [randn(5 * 200 * 300), randn(5 * 300 * 250)];
  for (const variant of wasmVariants)
    for (const mode of wasmModes) {
      test(`${variant} build, ${mode.name}: with a small heap, tensors that do not fit are JS arrays and results agree`, async () => {
        const small = new WasmBackend({ variant, ...mode.options, heapLimitBytes: 3 * 2 ** 20 });
        small.waitForThreads();
        const cfg = { name: 'small heap', backend: small, scoped: small.resident };
        for (const [msg, inputs, kernel] of [
          ['forward', [x, w], (b, [xs, ws]) => b.conv2d(xs!, ws!, c)],
          ['input', [dy, w], (b, [d, ws]) => b.conv2dBackwardInput(d!, ws!, c)],
          ['filter', [x, dy], (b, [xs, d]) => b.conv2dBackwardFilter(xs!, d!, c)],
          [
            'matmul',
            [p, q],
            (b, [a, bb]) =>
              b.matmul(a!, bb!, { batch: 5, m: 200, n: 250, k: 300, transA: false, transB: true }),
          ],
        ] as const satisfies readonly (readonly [
          string,
          Float32Array[],
          Parameters<typeof runOn>[2],
        ])[]) {
          const expected = reference(msg, inputs, () =>
            js.read(
              kernel(
                js,
                inputs.map((v) => js.write(v, 'float32')),
              ),
            ),
          );
          assertRel(await runOn(cfg, inputs, kernel), expected, `small heap: ${msg}`);
        }
      });
    }

  test('tensors outside scopes are JS arrays; one read by kernels three times moves into wasm memory', () => {
    const be = new WasmBackend();
    if (!be.resident) return;
    const a = be.write(randn(3000), 'float32');
    const b = be.write(randn(3000), 'float32');
    const addr = (s: Storage) => (s as unknown as { addr: number }).addr;
    assert.equal(addr(a), -1);
    const expected = js.read(
      js.binary(
        'add',
        js.write(be.read(a), 'float32'),
        [3000],
        js.write(be.read(b), 'float32'),
        [3000],
        [3000],
      ),
    );
    for (let i = 0; i < 3; i++) {
      const sum = be.binary('add', a, [3000], b, [3000], [3000]);
      assertSame(be.read(sum), expected, `use ${i + 1}`);
      assert.equal(addr(sum), -1, 'an output made outside a scope is a JS array');
    }
    assert.ok(addr(a) >= 0, 'moved into wasm memory after three uses');
    assertSame(be.read(a), be.read(a), 'values survive the move');
    const sum = be.binary('add', a, [3000], b, [3000], [3000]);
    assertSame(be.read(sum), expected, 'after the move');
    // predict-like results leave wasm memory when their scope ends with detach.
    be.beginScope();
    const kept = be.binary('mul', a, [3000], b, [3000], [3000]);
    assert.ok(addr(kept) >= 0);
    be.endScope(new Set([kept]), true);
    assert.equal(addr(kept), -1);
    assert.equal(be.read(kept).length, 3000);
  });

  test('setThreads / getThreads choose the thread count; bad counts get a clear error', () => {
    const wasm = backendByName('wasm');
    const before = wasm.threads ?? 1;
    try {
      rc.setThreads(2);
      assert.equal(wasm.threads, 2);
      rc.setThreads(1);
      assert.equal(wasm.threads, 1);
    } finally {
      rc.setThreads(before);
    }
    assert.throws(() => rc.setThreads(0), /setThreads: expected a whole number ≥ 1, got 0/);
    assert.throws(() => rc.setThreads(1.5), /setThreads/);
  });
});
