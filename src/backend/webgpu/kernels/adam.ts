/**
 * One Adam step of one parameter in WGSL, with the float32 operations of optim/adam.ts's
 * composed version in their order (each scalar rounded to float32 as a written tensor is):
 * m = m·β1 + g·(1 − β1); v = v·β2 + g²·(1 − β2); second = v, or max(vMax, v) with AMSGrad;
 * p = p − (m / (sqrt(second) / sqrtBias2 + ε))·stepSize.
 * Without AMSGrad it is one pass (4 inputs, 3 outputs). With it, 9 storage buffers would exceed
 * a shader's 8, so a first pass makes m, v and vMax and a second the parameter.
 */
import type { AdamScalars, Storage } from '../../backend.js';
import { bindings, type GpuRuntime, linearGroups, type Param } from '../gpu_runtime.js';
import { linearMain } from './elementwise.js';

const MOMENT_PARAMS: [string, 'u32' | 'f32'][] = [
  ['n', 'u32'],
  ['beta1', 'f32'],
  ['oneMinusBeta1', 'f32'],
  ['beta2', 'f32'],
  ['oneMinusBeta2', 'f32'],
  ['sqrtBias2', 'f32'],
  ['epsilon', 'f32'],
  ['stepSize', 'f32'],
];

/** The moments' WGSL: `m1` and `v1` from m, v and g at index i. */
const MOMENTS = `let g = grad[i];
  let m1 = m[i] * p.beta1 + g * p.oneMinusBeta1;
  let v1 = v[i] * p.beta2 + (g * g) * p.oneMinusBeta2;
  mOut[i] = m1;
  vOut[i] = v1;`;

/** The new parameter's WGSL from `param` (the old value), `m1` and `second`. */
const STEP = `let denom = sqrt(second) / p.sqrtBias2 + p.epsilon;
  pOut[i] = param - (m1 / denom) * p.stepSize;`;

/** Math.max's NaN rule, as elementwise's maximum. */
const MAX = 'select(select(a, b, b > a), a + b, a != a || b != b)';

export function adamUpdate(
  rt: GpuRuntime,
  p: Storage,
  g: Storage,
  m: Storage,
  v: Storage,
  vMax: Storage | null,
  h: AdamScalars,
): { p: Storage; m: Storage; v: Storage; vMax: Storage | null } | null {
  const n = p.size;
  const params: Param[] = [
    ['u32', n],
    ['f32', h.beta1],
    ['f32', 1 - h.beta1],
    ['f32', h.beta2],
    ['f32', 1 - h.beta2],
    ['f32', h.sqrtBias2],
    ['f32', h.epsilon],
    ['f32', h.stepSize],
  ];
  const out = { size: n, dtype: 'float32' as const };
  if (!vMax) {
    const [p1, m1, v1] = rt.run({
      key: 'adam',
      wgsl: () =>
        `${bindings(
          [
            ['pIn', 'f32'],
            ['grad', 'f32'],
            ['m', 'f32'],
            ['v', 'f32'],
          ],
          [
            ['pOut', 'f32'],
            ['mOut', 'f32'],
            ['vOut', 'f32'],
          ],
          MOMENT_PARAMS,
        )}\n${linearMain(`${MOMENTS}\n  let second = v1;\n  let param = pIn[i];\n  ${STEP}`)}`,
      inputs: [p, g, m, v],
      outputs: [out, out, out],
      params,
      groups: linearGroups(n),
    });
    return { p: p1!, m: m1!, v: v1!, vMax: null };
  }
  const [m1, v1, vMax1] = rt.run({
    key: 'adam_amsgrad_moments',
    wgsl: () =>
      `${bindings(
        [
          ['grad', 'f32'],
          ['m', 'f32'],
          ['v', 'f32'],
          ['vMax', 'f32'],
        ],
        [
          ['mOut', 'f32'],
          ['vOut', 'f32'],
          ['vMaxOut', 'f32'],
        ],
        MOMENT_PARAMS,
      )}\n${linearMain(`${MOMENTS}\n  let a = vMax[i];\n  let b = v1;\n  vMaxOut[i] = ${MAX};`)}`,
    inputs: [g, m, v, vMax],
    outputs: [out, out, out],
    params,
    groups: linearGroups(n),
  });
  const [p1] = rt.run({
    key: 'adam_amsgrad_step',
    wgsl: () =>
      `${bindings(
        [
          ['pIn', 'f32'],
          ['mNew', 'f32'],
          ['vMaxNew', 'f32'],
        ],
        [['pOut', 'f32']],
        MOMENT_PARAMS,
      )}\n${linearMain(`let param = pIn[i];\n  let m1 = mNew[i];\n  let second = vMaxNew[i];\n  ${STEP}`)}`,
    inputs: [p, m1!, vMax1!],
    outputs: [out],
    params,
    groups: linearGroups(n),
  });
  return { p: p1!, m: m1!, v: v1!, vMax: vMax1! };
}
