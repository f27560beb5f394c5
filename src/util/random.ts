/**
 * A small seedable generator, so that initial weights, shuffles and dropout masks repeat
 * exactly for a given seed on every platform (Math.random cannot be seeded).
 * xoshiro128** by Blackman and Vigna: fast, 32-bit, good statistical quality.
 */
import { ArgumentError } from './errors.js';

/**
 * A seedable random generator (xoshiro128**): the same seed gives the same numbers on every
 * platform. The library draws initial weights, shuffles and dropout masks from a global one
 * ({@link setSeed}); pass your own where an API takes a generator.
 */
export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed: number = Date.now()) {
    this.seed(seed);
  }

  /**
   * Restarts the sequence from `seed`.
   * @throws ArgumentError for a seed that is not a finite number
   */
  seed(seed: number): void {
    // NaN or Infinity would silently become seed 0: every "random" run the same.
    if (typeof seed !== 'number' || !Number.isFinite(seed))
      throw new ArgumentError(`Random: the seed must be a finite number, got ${seed}.`);
    // splitmix32 spreads one seed over the four words of state.
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.spare = null;
  }

  /** The generator's state, to save in a checkpoint and restore with setState. */
  getState(): number[] {
    return [this.s0, this.s1, this.s2, this.s3, this.spare ?? Number.NaN];
  }

  /** Puts back a state from getState (a checkpoint's). */
  setState(state: number[]): void {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    this.spare = state[4] === undefined || Number.isNaN(state[4]) ? null : state[4];
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal, by the Box-Muller transform (two values per pair of uniforms). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles an array in place (Fisher-Yates). */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The library's global generator; `setSeed` makes runs repeatable. */
export const globalRandom = new Random(42);

/**
 * Seeds the library's global generator: initial weights, shuffles and dropout masks then repeat
 * from run to run (on one backend; backends round differently).
 * @throws ArgumentError for a seed that is not a finite number
 */
export function setSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new ArgumentError(`setSeed: the seed must be a finite number, got ${seed}.`);
  globalRandom.seed(seed);
}
