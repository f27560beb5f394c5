/**
 * One geometry description for every fast kernel: the int32 order that
 * src/backend/shared/geometry.ts packs is the order each kernel's struct declares. Read from
 * the sources themselves, so a field added on one side and not the other fails here, not as a
 * convolution that silently reads the wrong stride.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONV_FIELDS, POOL_FIELDS } from '../../src/backend/shared/geometry.js';
import { repoRoot } from '../helpers.js';

const source = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

/** Field names of a C++ `struct Name { int64_t a, b, ...; };`. */
function cppFields(text: string, name: string): string[] {
  const m = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(text);
  assert.ok(m, `struct ${name} found`);
  return m[1]!
    .replace(/int64_t/g, '')
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Field names of an AssemblyScript `class Name { a: i32; ... }`. */
function asFields(text: string, name: string): string[] {
  const m = new RegExp(`class ${name} \\{([^}]*)\\}`).exec(text);
  assert.ok(m, `class ${name} found`);
  return [...m[1]!.matchAll(/(\w+): i32;/g)].map((f) => f[1]!);
}

test('convolution geometry: the C++ Geo and the AssemblyScript ConvGeo declare CONV_FIELDS, in order', () => {
  const header = source('native/src/conv_direct.h');
  assert.deepEqual(cppFields(header, 'Geo'), [...CONV_FIELDS]);
  assert.match(header, new RegExp(`GEO_FIELDS = ${CONV_FIELDS.length};`));
  assert.deepEqual(asFields(source('src/backend/wasm/assembly/conv.ts'), 'ConvGeo'), [
    ...CONV_FIELDS,
  ]);
});

test('pooling geometry: the C++ PoolGeo and the AssemblyScript PoolGeo declare POOL_FIELDS, in order', () => {
  const pool = source('native/src/pool.cc');
  assert.deepEqual(cppFields(pool, 'PoolGeo'), [...POOL_FIELDS]);
  assert.match(pool, new RegExp(`ints\\(v, ${POOL_FIELDS.length}, "pool geometry"\\)`));
  assert.deepEqual(asFields(source('src/backend/wasm/assembly/pool.ts'), 'PoolGeo'), [
    ...POOL_FIELDS,
  ]);
});
