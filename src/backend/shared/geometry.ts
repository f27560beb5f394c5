/**
 * The convolution and pooling geometry as the fast kernels read it: ConvInfo's and PoolInfo's
 * fields packed into int32s, in one order for every backend. The kernels declare the same
 * order as a struct (native/src/conv_direct.h `Geo`, native/src/pool.cc `PoolGeo`,
 * src/backend/wasm/assembly/conv.ts `ConvGeo`, assembly/pool.ts `PoolGeo`);
 * test/backend/geometry_layout.test.ts reads those sources and checks them against these lists.
 */
import type { ConvInfo, PoolInfo } from '../backend.js';

export const CONV_FIELDS = [
  'batch',
  'inH',
  'inW',
  'inC',
  'outH',
  'outW',
  'outC',
  'kh',
  'kw',
  'strideH',
  'strideW',
  'dilationH',
  'dilationW',
  'padTop',
  'padLeft',
  'padBottom',
  'padRight',
  'groups',
] as const satisfies readonly (keyof ConvInfo)[];

export const POOL_FIELDS = [
  'batch',
  'inH',
  'inW',
  'channels',
  'outH',
  'outW',
  'kh',
  'kw',
  'strideH',
  'strideW',
  'padTop',
  'padLeft',
] as const satisfies readonly (keyof PoolInfo)[];

/** Writes a convolution's geometry into `into` (CONV_FIELDS.length int32s). */
export function packConv(c: ConvInfo, into: Int32Array): Int32Array {
  for (let i = 0; i < CONV_FIELDS.length; i++) into[i] = c[CONV_FIELDS[i]!];
  return into;
}

/** Writes a pooling's geometry into `into` (POOL_FIELDS.length int32s). */
export function packPool(p: PoolInfo, into: Int32Array): Int32Array {
  for (let i = 0; i < POOL_FIELDS.length; i++) into[i] = p[POOL_FIELDS[i]!];
  return into;
}
