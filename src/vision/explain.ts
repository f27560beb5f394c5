/**
 * A convolution written out the way the course notes do it: for one output position, every
 * multiply-accumulate term, and the output-size formula with the numbers filled in. Plain
 * numbers (not tensors), since it is for small examples read by people.
 */
import { axisGeometry, type Padding } from '../ops/conv_geometry.js';
import { ArgumentError, ShapeError } from '../util/errors.js';

/** A number as people write it: integers as they are, others to at most 4 decimals. */
export function fmtNumber(v: number): string {
  if (Object.is(v, -0)) return '0';
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

/** A convolution's size along one axis. */
export interface AxisSize {
  /** The output size. */
  out: number;
  /** Padding before (top / left). */
  padBefore: number;
  /** Padding after (bottom / right). */
  padAfter: number;
  /** 'floor((32 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 30' */
  arithmetic: string;
}

/** The output size along one axis and its arithmetic, DESIGN.md's formula with the numbers in. */
export function outputSize(
  inSize: number,
  k: number,
  stride: number,
  dilation: number,
  padding: Padding,
  axis: 0 | 1 = 0,
): AxisSize {
  const g = axisGeometry(inSize, k, stride, dilation, padding, axis);
  const pad = g.padBefore + g.padAfter;
  const arithmetic = `floor((${inSize} + ${pad} - ${dilation}·(${k} - 1) - 1) / ${stride}) + 1 = ${g.out}`;
  return { ...g, arithmetic };
}

/** The formula itself, for the line above the numbers. */
export const OUTPUT_SIZE_FORMULA = 'out = floor((in + pad - dilation·(k - 1) - 1) / stride) + 1';

/** How padding was chosen, in words: "'same' (1 before, 1 after)". */
export function describePadding(padding: Padding, h: AxisSize, w: AxisSize): string {
  const sides = (a: AxisSize) => `${a.padBefore} before, ${a.padAfter} after`;
  const name = typeof padding === 'string' ? `'${padding}'` : JSON.stringify(padding);
  return h.padBefore === w.padBefore && h.padAfter === w.padAfter
    ? `${name} (${sides(h)})`
    : `${name} (rows: ${sides(h)}; columns: ${sides(w)})`;
}

/** Options of {@link explainConv}: the convolution's, as {@link conv2d} takes them. */
export interface ExplainOptions {
  /**
   * One number or [rows, columns].
   * @default 1
   */
  strides?: number | [number, number];
  /**
   * See {@link Padding}.
   * @default 'valid'
   */
  padding?: Padding;
  /**
   * One number or [rows, columns].
   * @default 1
   */
  dilationRate?: number | [number, number];
  /** The output position to write out; by default all of them when there are at most 9, else [0, 0]. */
  at?: [number, number];
}

function checkMatrix(m: number[][], what: string): void {
  if (
    !Array.isArray(m) ||
    m.length === 0 ||
    !m.every((r) => Array.isArray(r) && r.length === m[0]!.length && r.length > 0) ||
    !m.flat().every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw new ArgumentError(
      `explainConv: the ${what} must be a non-empty rectangle of finite numbers like [[2,4,1],[5,9,7],[3,8,6]], got ${JSON.stringify(m)}.`,
    );
  }
}

const pairOf = (v: number | [number, number] | undefined, name: string): [number, number] => {
  const p: [number, number] = Array.isArray(v) ? v : [v ?? 1, v ?? 1];
  if (!p.every((x) => Number.isInteger(x) && x >= 1))
    throw new ArgumentError(
      `explainConv: ${name} must be positive integers, got ${JSON.stringify(v)}.`,
    );
  return p;
};

/**
 * Cross-correlates a 2-D image with a 2-D kernel (what conv2d computes) and writes it out:
 * the output-size arithmetic, each explained position as `(x·w) + (x·w) + ... = sum`, and the
 * whole output. Padded pixels appear as 0 terms.
 */
export function explainConv(
  image: number[][],
  kernel: number[][],
  options: ExplainOptions = {},
): {
  /** The output values, [rows][columns]. */
  output: number[][];
  /** The write-up, lines joined by newlines. */
  text: string;
} {
  checkMatrix(image, 'image');
  checkMatrix(kernel, 'kernel');
  const [sh, sw] = pairOf(options.strides, 'strides');
  const [dh, dw] = pairOf(options.dilationRate, 'dilationRate');
  const padding = options.padding ?? 'valid';
  const H = image.length;
  const W = image[0]!.length;
  const KH = kernel.length;
  const KW = kernel[0]!.length;
  const h = outputSize(H, KH, sh, dh, padding, 0);
  const w = outputSize(W, KW, sw, dw, padding, 1);
  const lines = [
    `Input ${H}×${W}, kernel ${KH}×${KW}, stride ${sh === sw ? sh : `${sh}×${sw}`}, dilation ${dh === dw ? dh : `${dh}×${dw}`}, padding ${describePadding(padding, h, w)}`,
    OUTPUT_SIZE_FORMULA,
    `  height: ${h.arithmetic}`,
    `  width:  ${w.arithmetic}`,
  ];
  if (h.out < 1 || w.out < 1) {
    throw new ShapeError(
      `explainConv: the ${KH}×${KW} kernel (dilation ${dh}×${dw}) does not fit in the ${H}×${W} image with padding ${JSON.stringify(padding)}:\n${lines.join('\n')}\nUse padding 'same' or a smaller kernel.`,
    );
  }
  lines.push(`Output ${h.out}×${w.out}`, '');
  const pixel = (y: number, x: number) => (y >= 0 && y < H && x >= 0 && x < W ? image[y]![x]! : 0);
  const terms = (r: number, c: number) => {
    const out: [number, number][] = [];
    for (let i = 0; i < KH; i++)
      for (let j = 0; j < KW; j++)
        out.push([
          pixel(r * sh - h.padBefore + i * dh, c * sw - w.padBefore + j * dw),
          kernel[i]![j]!,
        ]);
    return out;
  };
  const output = Array.from({ length: h.out }, (_, r) =>
    Array.from({ length: w.out }, (_, c) => terms(r, c).reduce((s, [x, k]) => s + x * k, 0)),
  );
  let positions: [number, number][];
  if (options.at) {
    const [r, c] = options.at;
    if (
      !(Number.isInteger(r) && Number.isInteger(c) && r >= 0 && r < h.out && c >= 0 && c < w.out)
    ) {
      throw new ArgumentError(
        `explainConv: position ${r},${c} is outside the ${h.out}×${w.out} output (rows 0..${h.out - 1}, columns 0..${w.out - 1}).`,
      );
    }
    positions = [[r, c]];
  } else if (h.out * w.out <= 9) {
    positions = output.flatMap((row, r) => row.map((_, c) => [r, c] as [number, number]));
  } else {
    positions = [[0, 0]];
  }
  for (const [r, c] of positions) {
    const sum = terms(r, c)
      .map(([x, k]) => `(${fmtNumber(x)}·${fmtNumber(k)})`)
      .join(' + ');
    lines.push(`out[${r},${c}] = ${sum} = ${fmtNumber(output[r]![c]!)}`);
  }
  if (!options.at && h.out * w.out > 9) lines.push('(give --at row,col for another position)');
  const cells = output.map((row) => row.map(fmtNumber));
  const width = Math.max(...cells.flat().map((s) => s.length));
  lines.push(
    '',
    'Output:',
    ...cells.map((row) => `  ${row.map((s) => s.padStart(width)).join('  ')}`),
  );
  return { output, text: lines.join('\n') };
}
