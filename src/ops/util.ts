/** Helpers every op file shares: argument checks, wrapping kernel results, undoing broadcasts. */
import type { Backend, Storage } from '../backend/backend.js';
import { backend } from '../backend/registry.js';
import { scalar, Tensor } from '../tensor.js';
import {
  ArgumentError,
  BackendError,
  DTypeError,
  fmtShape,
  NonFiniteError,
  ShapeError,
} from '../util/errors.js';
import { sameShape } from '../util/shape.js';

/** A tensor or a plain number (which becomes a float32 scalar). */
export type TensorOrNumber = Tensor | number;

/** Checks that `x` is a Tensor on the current backend, optionally of a given rank and dtype. */
export function expectTensor(
  x: unknown,
  op: string,
  arg: string,
  opts: { rank?: number | number[]; dtype?: 'float32' | 'int32' } = {},
): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(
      `${op}: ${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}. Make one with rc.tensor(values, shape).`,
    );
  }
  const current = backend();
  if (x.storage.backend !== current) {
    throw new BackendError(
      `${op}: ${arg} ${fmtShape(x.shape)} lives on the '${x.storage.backend.name}' backend, but the current backend is '${current.name}'. ` +
        'Tensors made before setBackend() belong to the old backend: recreate them, or copy with rc.tensor(x.dataSync(), x.shape).',
    );
  }
  if (opts.rank !== undefined) {
    const ranks = typeof opts.rank === 'number' ? [opts.rank] : opts.rank;
    if (!ranks.includes(x.rank)) {
      throw new ShapeError(
        `${op}: ${arg} must have rank ${ranks.join(' or ')}, got rank ${x.rank} (shape ${fmtShape(x.shape)}).` +
          (ranks.includes(4) && x.rank === 3
            ? ' For a single image, add a batch axis: rc.expandDims(x, 0).'
            : ''),
      );
    }
  }
  if (opts.dtype && x.dtype !== opts.dtype) {
    throw new DTypeError(`${op}: ${arg} must be ${opts.dtype}, got ${x.dtype}.`);
  }
  return x;
}

export function asTensor(x: TensorOrNumber, op: string, arg: string): Tensor {
  if (typeof x === 'number') return scalar(x);
  return expectTensor(x, op, arg);
}

/** Float32 required (most ops); int32 label tensors must be converted explicitly. */
export function expectFloat(x: Tensor, op: string, arg: string): Tensor {
  if (x.dtype !== 'float32') {
    throw new DTypeError(
      `${op}: ${arg} must be float32, got ${x.dtype}. Convert with rc.cast(x, 'float32').`,
    );
  }
  return x;
}

/**
 * The backend that runs the op: the current one (rc.setBackend). Inputs made on another
 * backend are refused by the backend's own check, with a message naming both.
 */
export function be(): Backend {
  return backend();
}

export function wrap(s: Storage, shape: number[]): Tensor {
  return new Tensor(s, shape, s.dtype);
}

export function expectSameShape(a: Tensor, b: Tensor, op: string, an: string, bn: string): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(
      `${op}: ${an} and ${bn} must have the same shape, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}.`,
    );
  }
}

export function expectFiniteNumber(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new NonFiniteError(`${op}: ${name} must be a finite number, got ${String(v)}.`);
  }
  return v;
}

/**
 * Keeps a tensor made inside a step scope (predict, evaluate, a training step) from being
 * freed when the scope ends: for values cached across calls. The garbage collector frees it.
 */
export function persistTensor(t: Tensor): Tensor {
  be().persist?.(t.storage);
  return t;
}
