/**
 * Where fit() and evaluate() get their batches: arrays held as tensors (shuffled each epoch),
 * or any source that yields { x, y } batches (the data pipeline in src/data is one).
 */
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import type { Random } from '../util/random.js';

/** One batch of examples. */
export interface Batch {
  /** Inputs, batch axis first. */
  x: Tensor;
  /** Targets, batch axis first. */
  y: Tensor;
}

/** Anything that can hand out an epoch of batches. */
export interface BatchSource {
  /** Batches per epoch, when known (for the progress bar). */
  readonly steps?: number;
  /** Examples per epoch, when known. */
  readonly size?: number;
  /** The batches of one epoch (the epoch lets a source shuffle repeatably). */
  batches(epoch: number): AsyncIterable<Batch> | Iterable<Batch>;
}

export function isBatchSource(v: unknown): v is BatchSource {
  return typeof v === 'object' && v !== null && typeof (v as BatchSource).batches === 'function';
}

/** Rows of a tensor kept as a host array, so batches can be gathered in any order. */
export class Rows {
  readonly values: Float32Array | Int32Array;
  readonly rowShape: number[];
  readonly rowSize: number;
  readonly dtype: 'float32' | 'int32';
  constructor(
    t: Tensor,
    readonly start: number,
    readonly count: number,
  ) {
    this.rowShape = t.shape.slice(1);
    this.rowSize = this.rowShape.reduce((a, b) => a * b, 1);
    this.dtype = t.dtype;
    this.values = t.dataSync().subarray(start * this.rowSize, (start + count) * this.rowSize);
  }
  gather(idx: ArrayLike<number>): Tensor {
    const out =
      this.dtype === 'int32'
        ? new Int32Array(idx.length * this.rowSize)
        : new Float32Array(idx.length * this.rowSize);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i]!;
      out.set(this.values.subarray(r * this.rowSize, (r + 1) * this.rowSize), i * this.rowSize);
    }
    return tensor(out, [idx.length, ...this.rowShape], this.dtype);
  }
}

/** Batches from x and y tensors (rows start..start+count), reshuffled every epoch if asked. */
export class TensorBatches implements BatchSource {
  /** The inputs, by example (host copies: fit's data checks scan them, no second copy). */
  readonly xs: Rows;
  /** The targets, by example. */
  readonly ys: Rows;
  readonly size: number;
  readonly steps: number;

  constructor(
    x: Tensor,
    y: Tensor,
    /** Examples per batch (the last batch may have fewer). */
    readonly batchSize: number,
    /** The generator that orders each epoch (null: keep the order). */
    readonly shuffle: ((epoch: number) => Random) | null,
    range: [number, number] = [0, x.shape[0] ?? 0],
  ) {
    this.xs = new Rows(x, range[0], range[1] - range[0]);
    this.ys = new Rows(y, range[0], range[1] - range[0]);
    this.size = range[1] - range[0];
    this.steps = Math.ceil(this.size / batchSize);
  }

  /** The batches of one epoch; `skip` leaves out the first ones (resuming mid-epoch). */
  *batches(epoch = 0, skip = 0): Iterable<Batch> {
    const order = Int32Array.from({ length: this.size }, (_, i) => i);
    if (this.shuffle) this.shuffle(epoch).shuffle(order);
    for (let b = skip * this.batchSize; b < this.size; b += this.batchSize) {
      const idx = order.subarray(b, Math.min(b + this.batchSize, this.size));
      yield { x: this.xs.gather(idx), y: this.ys.gather(idx) };
    }
  }
}

/** Checks x and y agree on the number of examples and are not empty. */
export function checkXY(where: string, x: Tensor, y: Tensor): void {
  if (x.rank < 1 || y.rank < 1)
    throw new ShapeError(
      `${where}: x and y need a batch axis, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}.`,
    );
  if (x.shape[0] !== y.shape[0]) {
    throw new ShapeError(
      `${where}: x has ${x.shape[0]} examples (${fmtShape(x.shape)}) but y has ${y.shape[0]} (${fmtShape(y.shape)}); they must match.`,
    );
  }
  if (x.shape[0] === 0)
    throw new ArgumentError(
      `${where}: there are no examples to train on (x is ${fmtShape(x.shape)}).`,
    );
}
