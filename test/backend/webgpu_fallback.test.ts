/**
 * WebGPU where there is none (Node: no navigator.gpu): `await rc.setBackend('webgpu')` says why
 * once, on console.warn, and runs on wasm. The backend itself is tested in Chromium
 * (web/e2e/webgpu.mjs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendByName } from '../../src/backend/registry.js';
import * as rc from '../../src/index.js';

test("setBackend('webgpu') in Node falls back to wasm with a warning that says why, once", async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const before = rc.getBackend();
  try {
    assert.equal(await rc.setBackend('webgpu'), 'wasm');
    assert.equal(rc.getBackend(), 'wasm');
    assert.equal(warn.mock.callCount(), 1);
    assert.match(
      String(warn.mock.calls[0]!.arguments[0]),
      /webgpu is not available here \(this environment has no WebGPU \(navigator\.gpu is missing[^)]*\)\); using wasm\.$/,
    );
    // Asked again: wasm again, without a second warning.
    assert.equal(await rc.setBackend('webgpu'), 'wasm');
    assert.equal(warn.mock.callCount(), 1);
    // It never started: asking for it by name says how it starts.
    assert.throws(() => backendByName('webgpu'), /call `await rc\.setBackend\('webgpu'\)` first/);
  } finally {
    await rc.setBackend(before);
  }
});

test('a setBackend call made while webgpu is starting wins over it', async () => {
  const before = rc.getBackend();
  try {
    const starting = rc.setBackend('webgpu');
    await rc.setBackend('js');
    assert.equal(await starting, 'js');
    assert.equal(rc.getBackend(), 'js');
  } finally {
    await rc.setBackend(before);
  }
});
