/** Inverted dropout: zero each value with probability `rate`, scale the rest by 1 / (1 − rate). */
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { globalRandom, Random } from '../util/random.js';
import { mul } from './elementwise.js';
import { expectFloat, expectTensor } from './util.js';

export interface DropoutOptions {
  /** Makes the mask repeat; without it the library's global generator is used. */
  seed?: number;
  /** Draw the mask from this generator (fit() passes one per step, so runs repeat). */
  rng?: Random;
  /** Drops out only when true (the default here; layers pass their training flag). */
  training?: boolean;
}

/**
 * Inverted dropout: each value is zeroed with probability `rate` and the rest are scaled by
 * 1 / (1 − rate), so the expected value is unchanged and inference needs no rescaling.
 * Returns `x` itself when `rate` is 0 or `options.training` is false.
 *
 * @param rate - the fraction dropped, in [0, 1)
 * @throws ArgumentError if `rate` is outside [0, 1)
 */
export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  expectFloat(expectTensor(x, 'dropout', 'x'), 'dropout', 'x');
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new ArgumentError(`dropout: rate must be in [0, 1), got ${rate}.`);
  }
  if (options.training === false || rate === 0) return x;
  const rng = options.rng ?? (options.seed === undefined ? globalRandom : new Random(options.seed));
  const keep = 1 - rate;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return mul(x, tensor(mask, x.shape));
}
