/** Parsing of the convolution arguments that `convolve` and `explain-conv` share. */
import { InvalidArgumentError, Option } from 'commander';
import type { Padding } from '../ops/conv_geometry.js';
import type { Tensor } from '../tensor.js';
import { byName, fromArray, kernelNames } from '../vision/kernels.js';

/** `--stride 2` or `--stride 2,1` (rows, columns). */
export function intPair(name: string) {
  return (v: string): [number, number] => {
    const p = v.split(/[,x]/).map(Number);
    if ((p.length !== 1 && p.length !== 2) || p.some((n) => !Number.isInteger(n) || n < 1))
      throw new InvalidArgumentError(
        `${name} must be a positive integer or two (rows,cols), e.g. 2 or 2,1.`,
      );
    return [p[0]!, p[1] ?? p[0]!];
  };
}

/** `--stride` / `--dilation`: N or rows,cols, default 1. */
export function pairOption(flags: string, help: string): Option {
  return new Option(flags, `${help}: N or rows,cols`)
    .argParser(intPair(flags.split(' ')[0]!))
    .default([1, 1], '1');
}

/** `--at 0,1`: a row and column, from 0. */
export function position(name: string) {
  return (v: string): [number, number] => {
    const p = v.split(',').map(Number);
    if (p.length !== 2 || p.some((n) => !Number.isInteger(n) || n < 0))
      throw new InvalidArgumentError(`${name} must be row,col (integers from 0), e.g. 0,1.`);
    return [p[0]!, p[1]!];
  };
}

/** `--padding same|valid|N`. */
export function padding(v: string): Padding {
  if (v === 'same' || v === 'valid') return v;
  const n = Number(v);
  if (Number.isInteger(n) && n >= 0) return n;
  throw new InvalidArgumentError("must be 'same', 'valid' or a number of pixels (e.g. 1).");
}

/** A 2-D array of numbers from the command line: "[[-1,0,1],[-2,0,2],[-1,0,1]]". */
export function matrix(name: string) {
  return (v: string): number[][] => {
    let m: unknown;
    try {
      m = JSON.parse(v);
    } catch {
      throw new InvalidArgumentError(`${name} must be rows of numbers like "[[2,4,1],[5,9,7]]".`);
    }
    if (
      !Array.isArray(m) ||
      m.length === 0 ||
      !m.every(
        (r) => Array.isArray(r) && r.length === (m as unknown[][])[0]!.length && r.length > 0,
      ) ||
      !(m as unknown[][]).flat().every((x) => typeof x === 'number' && Number.isFinite(x))
    )
      throw new InvalidArgumentError(
        `${name} must be a non-empty rectangle of numbers like "[[2,4,1],[5,9,7]]", got ${v}.`,
      );
    return m as number[][];
  };
}

/** `--kernel sobel-x` (a name) or `--kernel "[[...],[...]]"` (numbers): the kernel and its values. */
export function kernelArg(v: string): { name: string; tensor: Tensor; values: number[][] } {
  const trimmed = v.trim();
  if (trimmed.startsWith('[')) {
    const values = matrix('--kernel')(trimmed);
    return { name: 'custom', tensor: fromArray(values, '--kernel'), values };
  }
  let t: Tensor;
  try {
    t = byName(trimmed);
  } catch {
    throw new InvalidArgumentError(
      `unknown kernel '${v}'. Known: ${kernelNames().join(', ')}, gaussian-SIZE[-SIGMA], or numbers like "[[-1,0,1],[-2,0,2],[-1,0,1]]".`,
    );
  }
  const [kh, kw] = t.shape as [number, number];
  const flat = Array.from(t.dataSync());
  const values = Array.from({ length: kh }, (_, i) => flat.slice(i * kw, (i + 1) * kw));
  return { name: trimmed, tensor: t, values };
}
