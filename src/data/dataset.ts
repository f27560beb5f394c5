/**
 * A lazy data pipeline, in the spirit of tf.data: from arrays or a generator, then
 * shuffle, map, take, skip, batch and prefetch. Nothing is materialized beyond what the
 * step in progress needs. A batched Dataset is what fit() and evaluate() accept.
 *
 *   const train = Dataset.fromImageSet(mnist.train).shuffle(1).map(augment).batch(128);
 *   await model.fit(train, { epochs: 10 });
 */
import { type Tensor, tensor } from '../tensor.js';
import type { Batch, BatchSource } from '../train/batches.js';
import { ArgumentError, ShapeError } from '../util/errors.js';
import { checkOptions } from '../util/options.js';
import { Random } from '../util/random.js';
import type { ImageSet } from './image_set.js';

/** One example: x values with their shape, and a label (a class id or a target vector). */
export interface Example {
  /** The input's values, row-major. */
  x: Float32Array;
  /** The input's shape (an image: [height, width, channels]). */
  shape: number[];
  /** A class id, or a target vector (one-hot or regression values). */
  y: number | Float32Array;
}

/** A count of elements: a non-negative integer, or Infinity for "all". */
function count(n: number, op: string, name: string): void {
  if (typeof n !== 'number' || !(Number.isInteger(n) || n === Infinity) || n < 0)
    throw new ArgumentError(
      `${op}: ${name} must be a non-negative integer (a number of elements), got ${n}.`,
    );
}

/** Seeds are integers: NaN or 1.5 would silently give the same order as another seed. */
function seedOf(seed: number, op: string): void {
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    throw new ArgumentError(`${op}: the seed must be an integer, got ${seed}.`);
}

type Source<T> = (epoch: number) => AsyncIterable<T> | Iterable<T>;

/** Where an element passes through {@link Dataset.map}: the epoch, and its position in it. */
export interface MapPlace {
  /** The epoch being iterated (0 first). */
  epoch: number;
  /** The element's position in this epoch's stream, from 0. */
  index: number;
}

/**
 * A lazy data pipeline, in the spirit of tf.data: from arrays or a generator, then shuffle,
 * map, take, skip, batch and prefetch. Each operation returns a new Dataset; nothing is
 * materialized beyond what the step in progress needs. `batch()` gives what fit and evaluate take.
 *
 * @example
 * ```ts
 * const { train } = await rc.data.loadMnist();
 * const ds = rc.data.Dataset.fromImageSet(train).shuffle(1).batch(128);
 * await model.fit(ds, { epochs: 1 });
 * ```
 */
export class Dataset<T = Example> {
  /**
   * @param source makes the elements of one epoch (the epoch number seeds per-epoch randomness)
   * @param size the number of elements, when known
   */
  constructor(
    private readonly source: Source<T>,
    readonly size?: number,
  ) {}

  /** Examples from an ImageSet (bytes), scaled to 0..1 on the fly: 4× less memory than float tensors. */
  static fromImageSet(set: ImageSet, options: { scale?: number } = {}): Dataset<Example> {
    checkOptions('Dataset.fromImageSet', options, ['scale']);
    const scale = options.scale ?? 1 / 255;
    const px = set.shape[0] * set.shape[1] * set.shape[2];
    const n = set.labels.length;
    return new Dataset<Example>(function* () {
      for (let i = 0; i < n; i++) {
        const x = new Float32Array(px);
        for (let k = 0; k < px; k++) x[k] = set.images[i * px + k]! * scale;
        yield { x, shape: [...set.shape], y: set.labels[i]! };
      }
    }, n);
  }

  /** Examples from the rows of x (features) and y (int32 class ids or target rows). */
  static fromArrays(x: Tensor, y: Tensor): Dataset<Example> {
    if (x.shape[0] !== y.shape[0])
      throw new ShapeError(`Dataset.fromArrays: x has ${x.shape[0]} rows but y has ${y.shape[0]}.`);
    const xs = x.dataSync();
    const ys = y.dataSync();
    const n = x.shape[0]!;
    const rowShape = x.shape.slice(1);
    const px = xs.length / n;
    const py = ys.length / n;
    const intLabels = y.dtype === 'int32' && y.rank === 1;
    return new Dataset<Example>(function* () {
      for (let i = 0; i < n; i++) {
        yield {
          x: Float32Array.from(xs.subarray(i * px, (i + 1) * px)),
          shape: rowShape,
          y: intLabels ? ys[i]! : Float32Array.from(ys.subarray(i * py, (i + 1) * py)),
        };
      }
    }, n);
  }

  /** Elements from a generator function, called once per epoch. */
  static fromGenerator<U>(
    make: (epoch: number) => AsyncIterable<U> | Iterable<U>,
    size?: number,
  ): Dataset<U> {
    if (typeof make !== 'function')
      throw new ArgumentError(
        `Dataset.fromGenerator: expects a function (epoch) => iterable, got ${typeof make}.`,
      );
    if (size !== undefined && (!Number.isInteger(size) || size < 0))
      throw new ArgumentError(
        `Dataset.fromGenerator: size must be a non-negative integer (the number of elements), got ${size}.`,
      );
    return new Dataset<U>(make, size);
  }

  /** The elements of one epoch, in order (the epoch number seeds per-epoch shuffling and maps). */
  async *iterate(epoch = 0): AsyncGenerator<T> {
    for await (const e of this.source(epoch)) yield e;
  }

  /** `for await (const e of dataset)`: the elements of epoch 0. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate(0);
  }

  /**
   * Each element through `fn`. `rng` is a generator seeded per epoch (by `options.seed`, default
   * 0), so random augmentations differ between epochs yet repeat from run to run; `place` says
   * which epoch it is and where the element comes in it (an image's identity when the map comes
   * before `shuffle`, as `augment.alternatingFlip` needs).
   * @throws ArgumentError if fn is not a function or the seed is not an integer
   */
  map<U>(
    fn: (e: T, rng: Random, place: MapPlace) => U,
    options: { seed?: number } = {},
  ): Dataset<U> {
    checkOptions('Dataset.map', options, ['seed']);
    if (typeof fn !== 'function')
      throw new ArgumentError(
        `Dataset.map: expects a function (example, rng) => example, got ${typeof fn}.`,
      );
    if (options.seed !== undefined) seedOf(options.seed, 'Dataset.map');
    const self = this;
    // Per-epoch generator, so random augmentations differ each epoch yet repeat for a seed.
    return new Dataset<U>(async function* (epoch) {
      const rng = new Random((options.seed ?? 0) * 1000003 + epoch);
      let index = 0;
      for await (const e of self.iterate(epoch)) yield fn(e, rng, { epoch, index: index++ });
    }, this.size);
  }

  /**
   * The first n elements (Infinity: all).
   * @throws ArgumentError if n is not a non-negative integer or Infinity
   */
  take(n: number): Dataset<T> {
    count(n, 'Dataset.take', 'n');
    const self = this;
    return new Dataset<T>(
      async function* (epoch) {
        if (n <= 0) return;
        let i = 0;
        for await (const e of self.iterate(epoch)) {
          yield e;
          if (++i >= n) return;
        }
      },
      this.size === undefined ? undefined : Math.min(n, this.size),
    );
  }

  /**
   * All but the first n elements.
   * @throws ArgumentError if n is not a non-negative integer or Infinity
   */
  skip(n: number): Dataset<T> {
    count(n, 'Dataset.skip', 'n');
    const self = this;
    return new Dataset<T>(
      async function* (epoch) {
        let i = 0;
        for await (const e of self.iterate(epoch)) if (i++ >= n) yield e;
      },
      this.size === undefined ? undefined : Math.max(0, this.size - n),
    );
  }

  /**
   * Shuffles within a buffer of `bufferSize` elements (the whole dataset by default, when its
   * size is known), with a new, repeatable order each epoch.
   */
  shuffle(seed: number, bufferSize = Math.max(1, this.size ?? 10_000)): Dataset<T> {
    const self = this;
    seedOf(seed, 'Dataset.shuffle');
    if (!(bufferSize >= 1) || !(Number.isInteger(bufferSize) || bufferSize === Infinity))
      throw new ArgumentError(
        `Dataset.shuffle: bufferSize must be a positive integer, got ${bufferSize}.`,
      );
    return new Dataset<T>(async function* (epoch) {
      const rng = new Random(seed * 7919 + epoch);
      const buf: T[] = [];
      for await (const e of self.iterate(epoch)) {
        if (buf.length < bufferSize) {
          buf.push(e);
          continue;
        }
        const j = rng.int(buf.length);
        yield buf[j]!;
        buf[j] = e;
      }
      rng.shuffle(buf);
      yield* buf;
    }, this.size);
  }

  /** Pulls up to `n` elements ahead while the consumer works (overlaps decoding with training). */
  prefetch(n = 2): Dataset<T> {
    const self = this;
    if (!Number.isInteger(n) || n < 1)
      throw new ArgumentError(`Dataset.prefetch: n must be a positive integer, got ${n}.`);
    return new Dataset<T>(async function* (epoch) {
      const it = self.iterate(epoch);
      const queue: Promise<IteratorResult<T>>[] = [];
      for (let i = 0; i < n; i++) queue.push(it.next());
      while (true) {
        const r = await queue.shift()!;
        if (r.done) return;
        queue.push(it.next());
        yield r.value;
      }
    }, this.size);
  }

  /** Groups examples into batches of tensors; the result feeds fit() and evaluate(). */
  batch(
    this: Dataset<Example>,
    batchSize: number,
    options: { dropRemainder?: boolean; numClasses?: number } = {},
  ): BatchedDataset {
    checkOptions('Dataset.batch', options, ['dropRemainder', 'numClasses']);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new ArgumentError(
        `Dataset.batch: batchSize must be a positive integer, got ${batchSize}.`,
      );
    return new BatchedDataset(this, batchSize, options.dropRemainder ?? false);
  }
}

function stack(examples: Example[]): Batch {
  const first = examples[0]!;
  const px = first.x.length;
  const x = new Float32Array(examples.length * px);
  examples.forEach((e, i) => {
    if (e.x.length !== px)
      throw new ShapeError(
        `Dataset.batch: example ${i} has ${e.x.length} values but the first has ${px}; resize the images to one size.`,
      );
    x.set(e.x, i * px);
  });
  let y: Tensor;
  if (typeof first.y === 'number') {
    y = tensor(
      Int32Array.from(examples, (e) => e.y as number),
      [examples.length],
      'int32',
    );
  } else {
    const k = first.y.length;
    const ys = new Float32Array(examples.length * k);
    for (const [i, e] of examples.entries()) ys.set(e.y as Float32Array, i * k);
    y = tensor(ys, [examples.length, k]);
  }
  return { x: tensor(x, [examples.length, ...first.shape]), y };
}

/** A Dataset of batches: a BatchSource for fit() and evaluate(). */
export class BatchedDataset implements BatchSource {
  readonly size?: number;
  readonly steps?: number;
  constructor(
    private readonly examples: Dataset<Example>,
    /** Examples per batch. */
    readonly batchSize: number,
    /** Whether a last, smaller batch is left out. */
    readonly dropRemainder: boolean,
  ) {
    if (examples.size !== undefined) {
      this.size = examples.size;
      this.steps = dropRemainder
        ? Math.floor(examples.size / batchSize)
        : Math.ceil(examples.size / batchSize);
    }
  }

  async *batches(epoch = 0): AsyncGenerator<Batch> {
    let buf: Example[] = [];
    for await (const e of this.examples.iterate(epoch)) {
      buf.push(e);
      if (buf.length === this.batchSize) {
        yield stack(buf);
        buf = [];
      }
    }
    if (buf.length > 0 && !this.dropRemainder) yield stack(buf);
  }

  /** `for await (const { x, y } of batches)`: the batches of epoch 0. */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.batches(0);
  }
}
