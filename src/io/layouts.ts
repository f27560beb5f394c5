/**
 * Weight layouts between receptive (NHWC, Keras) and PyTorch / ONNX (NCHW), as axis
 * permutations of row-major arrays. Permuting copies values, never rounds: conversions are
 * bit-exact both ways.
 *
 * | weight                  | receptive                     | PyTorch / ONNX               |
 * | ----------------------- | ----------------------------- | ---------------------------- |
 * | convolution             | HWIO [kh, kw, in/groups, out] | OIHW [out, in/groups, kh, kw] |
 * | depthwise convolution   | [kh, kw, in, multiplier]      | [in·multiplier, 1, kh, kw]   |
 * | transposed convolution  | [kh, kw, out, in]             | [in, out, kh, kw]            |
 * | dense / linear          | [in, out]                     | [out, in]                    |
 * | dense after a flatten   | [h·w·c, out] (NHWC order)     | [out, c·h·w] (NCHW order)    |
 */
import { ShapeError } from '../util/errors.js';

/** Receptive HWIO (and transposed [kh, kw, out, in]) → OIHW ([in, out, kh, kw]). */
export const HWIO_TO_OIHW = [3, 2, 0, 1];
/** OIHW → HWIO. */
export const OIHW_TO_HWIO = [2, 3, 1, 0];
/** Depthwise [kh, kw, in, m] ↔ [in, m, kh, kw] (its own inverse); then reshape to [in·m, 1, kh, kw]. */
export const DEPTHWISE_PERM = [2, 3, 0, 1];

/** Transposes a row-major array: out axis k is input axis perm[k]. */
export function permute<A extends Float32Array | Float64Array>(
  data: A,
  shape: number[],
  perm: number[],
): A {
  const out = new (data.constructor as new (n: number) => A)(data.length);
  permuteInto(out, data, data.length, shape, perm);
  return out;
}

/**
 * permute of little-endian float32 values read straight from bytes at any offset (an ONNX
 * file's raw data, which need not be 4-byte aligned): no aligned copy made first.
 */
export function permuteFloat32Bytes(
  bytes: Uint8Array,
  shape: number[],
  perm: number[],
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >>> 2);
  permuteInto(out, view, out.length, shape, perm);
  return out;
}

/** permute into `out` from an array, or from a DataView of little-endian float32 values. */
function permuteInto(
  out: Float32Array | Float64Array,
  from: Float32Array | Float64Array | DataView,
  length: number,
  shape: number[],
  perm: number[],
): void {
  const size = shape.reduce((a, d) => a * d, 1);
  if (length !== size || perm.length !== shape.length)
    throw new ShapeError(
      `permute: ${length} values do not fit shape [${shape.join(', ')}] with perm [${perm.join(', ')}].`,
    );
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    inStrides[k] = s;
    s *= shape[k]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!);
  const view = from instanceof DataView ? from : null;
  const data = from instanceof DataView ? null : from;
  if (rank === 0) out[0] = view ? view.getFloat32(0, true) : data![0]!;
  if (size === 0 || rank === 0) return;
  // The last output axis in a tight loop, the others counted like an odometer. Where that axis
  // is not the input's last (a transpose), it goes in blocks of 16: each pass over the other
  // axes then reads 16 rows of the input in order and writes 16 adjacent values, rather than
  // one value per cache line both ways (a 25088×4096 Gemm weight: several times faster).
  const last = rank - 1;
  const n = outShape[last]!;
  const step = strides[last]!;
  const block = step === 1 ? n : 16;
  const idx = new Array<number>(rank).fill(0);
  for (let j0 = 0; j0 < n; j0 += block) {
    const j1 = Math.min(n, j0 + block);
    idx.fill(0);
    let src = 0;
    for (let i = 0; i < size; i += n) {
      // Two copies of the loop, so that each stays monomorphic.
      if (data) for (let j = j0, s = src + j0 * step; j < j1; j++, s += step) out[i + j] = data[s]!;
      else
        for (let j = j0, s = (src + j0 * step) * 4; j < j1; j++, s += step * 4)
          out[i + j] = view!.getFloat32(s, true);
      for (let k = last - 1; k >= 0; k--) {
        idx[k]!++;
        src += strides[k]!;
        if (idx[k]! < outShape[k]!) break;
        src -= strides[k]! * outShape[k]!;
        idx[k] = 0;
      }
    }
  }
}

export function permutedShape(shape: number[], perm: number[]): number[] {
  return perm.map((p) => shape[p]!);
}

/** A dense kernel [h·w·c, out] that follows a flatten of [h, w, c] → PyTorch's [out, c·h·w]. */
export function denseAfterFlattenToTorch(
  kernel: Float32Array,
  [h, w, c]: [number, number, number],
  out: number,
): Float32Array {
  return permute(kernel, [h, w, c, out], [3, 2, 0, 1]);
}

/** PyTorch's [out, c·h·w] linear weight after a flatten of NCHW maps → receptive's [h·w·c, out]. */
export function denseAfterFlattenFromTorch(
  weight: Float32Array,
  [h, w, c]: [number, number, number],
  out: number,
): Float32Array {
  return permute(weight, [out, c, h, w], [2, 3, 1, 0]);
}
