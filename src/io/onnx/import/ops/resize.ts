/**
 * Resize and Upsample of an image's height and width, nearest or linear.
 *
 * Each axis is matched on its own: linear mode maps ONNX's coordinate transformation to one of
 * rc.resize's coordinate modes (with ONNX's own factor where `scales` give one the sizes do not);
 * nearest mode computes which input pixel ONNX's rounding picks for every output pixel and
 * looks for a mode of rc.resize that picks the same ones. Upsampling by whole factors is
 * UpSampling2D (nearest: pixels repeated); the rest is Resizing, one layer, or one per axis where
 * the two axes need different modes.
 */
import { type Interpolation, Resizing, UpSampling2D } from '../../../../nn/layers/pooling.js';
import {
  nearestSource,
  RESIZE_COORDINATES,
  type ResizeCoordinates,
} from '../../../../ops/resize.js';
import { type ImportContext, registerOp } from '../context.js';
import type { OnnxNode } from '../decode.js';

/** How one axis is resized: rc.resize's coordinates and, where needed, ONNX's own factor. */
interface AxisPlan {
  out: number;
  coordinates: ResizeCoordinates;
  factor?: number;
}

/** What a Resize or Upsample node asks for, in ONNX's terms. */
interface Request {
  mode: 'nearest' | 'linear';
  /** coordinate_transformation_mode. */
  ctm: string;
  /** nearest_mode ('floor' for Upsample and Resize-10). */
  rounding: string;
  /** [height, width] factors from `scales`, or undefined where `sizes` give the output. */
  scales?: [number, number];
  /** [height, width] output sizes. */
  out: [number, number];
}

/**
 * ONNX's source coordinate of output pixel i (before rounding or interpolation), in float32
 * arithmetic as ONNX Runtime computes it (where a nearest sample falls on a whole number, the
 * rounding of each step decides the pixel).
 */
function onnxSource(ctm: string, i: number, inSize: number, outSize: number, s: number): number {
  const f = Math.fround;
  const scale = f(s);
  switch (ctm) {
    case 'half_pixel':
      return f(f(f(i + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outSize > 1 ? f(f(f(i + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outSize > 1 ? f(f(i * (inSize - 1)) / (outSize - 1)) : 0;
    case 'asymmetric':
      return f(i / scale);
    case 'tf_half_pixel_for_nn':
      return f(f(i + 0.5) / scale);
    default:
      return Number.NaN;
  }
}

/** The shortest decimal with the same float32 value (0.6000000238418579 → 0.6): the factor as written. */
function asWritten(s: number): number {
  for (let p = 1; p <= 9; p++) {
    const v = Number(s.toPrecision(p));
    if (Math.fround(v) === Math.fround(s)) return v;
  }
  return s;
}

/** ONNX's nearest_mode rounding. */
function roundOnnx(x: number, rounding: string): number {
  switch (rounding) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_ceil':
      return Math.floor(x + 0.5);
    default: // round_prefer_floor
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
  }
}

/** The plan for one axis, or a reason it has none. */
function planAxis(r: Request, a: 0 | 1, inSize: number): AxisPlan | string {
  const out = r.out[a];
  const given = r.scales?.[a];
  const s = given === undefined ? out / inSize : asWritten(given);
  // ONNX's factor where it is not the sizes' ratio (a float32 factor off by rounding is not).
  const own = Math.abs(s * inSize - out) > 1e-5 * out ? s : undefined;
  // align_corners divides by the output length less one: ONNX's reference takes it unrounded
  // (in·scale), ONNX Runtime the rounded length; they give different images, so neither is taken.
  if (r.ctm === 'align_corners' && own !== undefined)
    return `coordinate_transformation_mode 'align_corners' with scales ${given} whose product with the ${a === 0 ? 'height' : 'width'} ${inSize} is not whole (ONNX Runtime and ONNX's reference differ there; give sizes instead)`;
  if (r.mode === 'linear') {
    const coordinates: ResizeCoordinates | undefined =
      r.ctm === 'align_corners' || (r.ctm === 'pytorch_half_pixel' && out === 1)
        ? 'align-corners'
        : r.ctm === 'half_pixel' || r.ctm === 'pytorch_half_pixel'
          ? 'half-pixel'
          : r.ctm === 'asymmetric'
            ? 'asymmetric'
            : undefined;
    if (!coordinates)
      return `coordinate_transformation_mode '${r.ctm}' in linear mode (supported: half_pixel, pytorch_half_pixel, align_corners, asymmetric)`;
    return coordinates === 'align-corners'
      ? { out, coordinates }
      : { out, coordinates, factor: own };
  }
  const want = Array.from({ length: out }, (_, i) => {
    const x = onnxSource(r.ctm, i, inSize, out, s);
    return Math.min(Math.max(roundOnnx(x, r.rounding), 0), inSize - 1);
  });
  if (want.some(Number.isNaN))
    return `coordinate_transformation_mode '${r.ctm}' (supported: half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn)`;
  for (const factor of own === undefined ? [undefined] : [undefined, own])
    for (const coordinates of RESIZE_COORDINATES)
      if (want.every((src, i) => src === nearestSource(i, inSize, out, coordinates, factor)))
        return { out, coordinates, factor };
  return `nearest_mode '${r.rounding}' with coordinate_transformation_mode '${r.ctm}' picks input pixels [${want.join(', ')}] along the ${a === 0 ? 'height' : 'width'}, which no resizing mode of receptive picks`;
}

function resizeImage(node: OnnxNode, cx: ImportContext, r: Request): void {
  const v = cx.tensorInput(node, 0);
  const shape = cx.onnxShape(v);
  const [h, w] = [shape[2], shape[3]];
  if (shape.length !== 4 || !h || !w)
    throw cx.error(
      `only the height and width of 4-D images of known size can be resized, got [${shape.map((d) => d ?? '?').join(', ')}].`,
    );
  if (r.out.some((d) => !Number.isInteger(d) || d < 1 || d > 65536))
    throw cx.error(`its output size [${r.out.join(', ')}] is not 1 to 65536 pixels a side.`);
  const plans = [planAxis(r, 0, h), planAxis(r, 1, w)];
  for (const p of plans) if (typeof p === 'string') throw cx.error(`${p}.`);
  const [ph, pw] = plans as [AxisPlan, AxisPlan];
  const x = cx.toNhwc(v);
  const interpolation: Interpolation = r.mode === 'linear' ? 'bilinear' : 'nearest';
  // Whole factors: UpSampling2D (nearest: pixels repeated, where ONNX picks floor(i / k);
  // bilinear: one coordinate mode on both axes, the factors the sizes' own).
  const k = [ph.out / h, pw.out / w];
  const whole = k.every((f) => Number.isInteger(f) && f >= 1);
  const repeats =
    r.mode === 'nearest' &&
    [ph, pw].every((p, a) =>
      Array.from({ length: p.out }, (_, i) => i).every(
        (i) =>
          nearestSource(i, [h, w][a]!, p.out, p.coordinates, p.factor) === Math.floor(i / k[a]!),
      ),
    );
  const blends =
    r.mode === 'linear' &&
    ph.coordinates === pw.coordinates &&
    ph.factor === undefined &&
    pw.factor === undefined;
  if (whole && (repeats || blends)) {
    const layer = new UpSampling2D({
      name: cx.layerName(node.name),
      size: [k[0]!, k[1]!],
      interpolation,
      ...(repeats ? {} : { coordinates: ph.coordinates }),
    });
    cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
    return;
  }
  const layerFor = (
    name: string,
    size: [number, number],
    coordinates: ResizeCoordinates,
    scale?: [number, number],
  ) =>
    new Resizing({
      name: cx.layerName(name),
      height: size[0],
      width: size[1],
      interpolation,
      coordinates,
      ...(scale ? { scale } : {}),
    });
  const scaleOf = (p: AxisPlan, inSize: number) => p.factor ?? p.out / inSize;
  let t = x.t;
  if (ph.coordinates === pw.coordinates) {
    const scale: [number, number] | undefined =
      ph.factor !== undefined || pw.factor !== undefined
        ? [scaleOf(ph, h), scaleOf(pw, w)]
        : undefined;
    t = cx.apply(layerFor(node.name, [ph.out, pw.out], ph.coordinates, scale), t);
  } else {
    // Different modes per axis: the height first, then the width (resizing is separable).
    const sh: [number, number] | undefined = ph.factor !== undefined ? [ph.factor, 1] : undefined;
    const sw: [number, number] | undefined = pw.factor !== undefined ? [1, pw.factor] : undefined;
    t = cx.apply(layerFor(`${node.name}_height`, [ph.out, w], ph.coordinates, sh), t);
    t = cx.apply(layerFor(node.name, [ph.out, pw.out], pw.coordinates, sw), t);
  }
  cx.setOutput(node, cx.tensor(t, { kind: 'nhwc' }));
}

/** The mode attribute: nearest or linear ('bilinear' is Upsample-1's name for linear). */
function modeOf(node: OnnxNode, cx: ImportContext): 'nearest' | 'linear' {
  const mode = cx.attr<string>(node, 'mode', 'nearest');
  if (mode === 'nearest') return 'nearest';
  if (mode === 'linear' || mode === 'bilinear') return 'linear';
  throw cx.error(`mode '${mode}': only nearest and linear (bilinear) resizing are supported.`);
}

/** [height, width] factors of 4-D scales (batch and channels must stay). */
function imageScales(cx: ImportContext, scales: number[]): [number, number] {
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1)
    throw cx.error(
      `scales [${scales.join(', ')}]: only the height and width of an image can be resized.`,
    );
  if (!scales.every((s) => Number.isFinite(s) && s > 0))
    throw cx.error(`scales [${scales.join(', ')}] must be positive.`);
  return [scales[2]!, scales[3]!];
}

/** Output sizes from factors, as ONNX Runtime computes them (float32 product, truncated). */
function sizesFrom(
  cx: ImportContext,
  node: OnnxNode,
  [sh, sw]: [number, number],
): [number, number] {
  const s = cx.onnxShape(cx.tensorInput(node, 0));
  return [
    Math.floor(Math.fround(sh * (s[2] ?? Number.NaN))),
    Math.floor(Math.fround(sw * (s[3] ?? Number.NaN))),
  ];
}

registerOp('Upsample', (node, cx) => {
  const mode = modeOf(node, cx);
  const raw =
    cx.opset < 9 ? cx.attr<number[]>(node, 'scales') : [...cx.constInput(node, 1, 'scales').data];
  if (!raw) throw cx.error('it has no scales.');
  const scales = imageScales(cx, raw);
  if (mode === 'nearest' && scales.some((s) => s < 1))
    throw cx.error(
      `scales [${raw.join(', ')}]: nearest downsampling by Upsample is not supported.`,
    );
  // Upsample's coordinates are asymmetric, nearest rounds down.
  const r: Request = {
    mode,
    ctm: 'asymmetric',
    rounding: 'floor',
    scales,
    out: sizesFrom(cx, node, scales),
  };
  resizeImage(node, cx, r);
});

registerOp('Resize', (node, cx) => {
  const mode = modeOf(node, cx);
  // Resize-10 has Upsample's rules: asymmetric coordinates, nearest rounds down (upsampling).
  const old = cx.opset < 11;
  const ctm = old
    ? 'asymmetric'
    : cx.attr<string>(node, 'coordinate_transformation_mode', 'half_pixel');
  const rounding = old ? 'floor' : cx.attr<string>(node, 'nearest_mode', 'round_prefer_floor');
  if (cx.attr<number>(node, 'antialias', 0) !== 0) throw cx.error('antialias is not supported.');
  if (node.attrs.has('axes') || node.attrs.has('keep_aspect_ratio_policy'))
    throw cx.error('the axes and keep_aspect_ratio_policy attributes are not supported.');
  const scalesAt = old ? 1 : 2;
  const sc = node.inputs[scalesAt] ? cx.constInput(node, scalesAt, 'scales') : undefined;
  if (sc && sc.data.length > 0) {
    const scales = imageScales(cx, [...sc.data]);
    if (old && mode === 'nearest' && scales.some((s) => s < 1))
      throw cx.error(
        `scales [${[...sc.data].join(', ')}]: nearest downsampling by Resize-10 is not supported.`,
      );
    resizeImage(node, cx, { mode, ctm, rounding, scales, out: sizesFrom(cx, node, scales) });
    return;
  }
  if (old || !node.inputs[3]) throw cx.error('it has neither scales nor sizes.');
  const sizes = [...cx.constInput(node, 3, 'sizes').data];
  const shape = cx.onnxShape(cx.tensorInput(node, 0));
  if (sizes.length !== 4 || sizes[1] !== shape[1] || (shape[0] !== null && sizes[0] !== shape[0]))
    throw cx.error(
      `sizes [${sizes.join(', ')}] for an input [${shape.map((d) => d ?? '?').join(', ')}]: only the height and width of an image can be resized.`,
    );
  resizeImage(node, cx, { mode, ctm, rounding, out: [sizes[2]!, sizes[3]!] });
});
