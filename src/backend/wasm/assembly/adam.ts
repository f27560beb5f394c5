/**
 * One Adam step over n values in a single pass (instead of about ten elementwise kernels, each
 * reading and writing whole tensors). Every operation rounds to float32 in the order
 * optim/adam.ts composes its ops, so the results equal the composed ops' bit for bit; for that
 * reason this never uses the relaxed build's fused multiply-add.
 *   m' = m·b1 + g·c1                 (c1 = 1 − b1, c2 = 1 − b2, as float32 scalars)
 *   v' = v·b2 + (g·g)·c2
 *   s  = v', or max(vMax, v') with AMSGrad (vMax ≠ 0), written to vMaxOut
 *   p' = p − (m' / (sqrt(s) / sqrtBias2 + eps))·stepSize
 */
export function adamUpdate(
  n: i32,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vMax: usize,
  pOut: usize,
  mOut: usize,
  vOut: usize,
  vMaxOut: usize,
  b1: f32,
  b2: f32,
  c1: f32,
  c2: f32,
  eps: f32,
  sqrtBias2: f32,
  stepSize: f32,
): void {
  const B1 = f32x4.splat(b1);
  const B2 = f32x4.splat(b2);
  const C1 = f32x4.splat(c1);
  const C2 = f32x4.splat(c2);
  const E = f32x4.splat(eps);
  const S2 = f32x4.splat(sqrtBias2);
  const LR = f32x4.splat(stepSize);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const gv = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), B1), f32x4.mul(gv, C1));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), B2), f32x4.mul(f32x4.mul(gv, gv), C2));
    let s = v1;
    if (vMax != 0) {
      s = f32x4.max(v128.load(vMax + o), v1);
      v128.store(vMaxOut + o, s);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(s), S2), E);
    v128.store(pOut + o, f32x4.sub(v128.load(p + o), f32x4.mul(f32x4.div(m1, denom), LR)));
    v128.store(mOut + o, m1);
    v128.store(vOut + o, v1);
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gv = load<f32>(g + o);
    const m1: f32 = load<f32>(m + o) * b1 + gv * c1;
    const v1: f32 = load<f32>(v + o) * b2 + gv * gv * c2;
    let s = v1;
    if (vMax != 0) {
      s = max(load<f32>(vMax + o), v1);
      store<f32>(vMaxOut + o, s);
    }
    const denom: f32 = sqrt<f32>(s) / sqrtBias2 + eps;
    store<f32>(pOut + o, load<f32>(p + o) - (m1 / denom) * stepSize);
    store<f32>(mOut + o, m1);
    store<f32>(vOut + o, v1);
  }
}
