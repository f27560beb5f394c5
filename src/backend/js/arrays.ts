/** The js backend computes in float32 normally and in float64 for gradient checks. */
export type FloatArray = Float32Array | Float64Array;
export type NumArray = Float32Array | Float64Array | Int32Array;
export type Alloc = (size: number) => FloatArray;
