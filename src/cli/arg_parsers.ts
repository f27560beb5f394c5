/** Parsers of option values that several commands share, for commander's argParser. */
import { InvalidArgumentError } from 'commander';

/** `--epochs 3`: a positive integer, refused as the command line is read. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer.`);
    return n;
  };
}

/** `--class 0`, `--warmup-epochs 0`: a whole number, 0 or more. */
export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number, 0 or more.`);
    return n;
  };
}

/** `--weight-decay 5e-4`, `--momentum 0.9`: a finite number in [min, max). */
export function numberIn(name: string, min: number, max = Number.POSITIVE_INFINITY) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n >= max)
      throw new InvalidArgumentError(
        `${name} must be a number ${max === Number.POSITIVE_INFINITY ? `of ${min} or more` : `from ${min} up to (not including) ${max}`}, got '${v}'.`,
      );
    return n;
  };
}
