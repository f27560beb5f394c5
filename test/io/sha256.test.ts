/** The plain SHA-256 (for pages without Web Crypto) against node:crypto, at every padding edge. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sha256Hex, sha256Plain } from '../../src/io/sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('sha256Plain equals node:crypto for lengths around every block boundary', () => {
  const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537];
  for (const n of lengths) {
    const data = new Uint8Array(n).map((_, i) => (i * 131 + 17) & 255);
    assert.equal(hex(sha256Plain(data)), createHash('sha256').update(data).digest('hex'), `${n}`);
  }
  // The published test vector.
  assert.equal(
    hex(sha256Plain(new TextEncoder().encode('abc'))),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});

test('sha256Hex gives the same digest with and without Web Crypto', async () => {
  const data = new Uint8Array(5000).map((_, i) => (i * 7) & 255);
  const expected = createHash('sha256').update(data).digest('hex');
  assert.equal(await sha256Hex(data), expected);
  const subtle = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
  try {
    assert.equal(await sha256Hex(data), expected);
  } finally {
    Object.defineProperty(globalThis, 'crypto', subtle);
  }
});
