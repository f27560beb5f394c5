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
