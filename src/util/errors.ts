/**
 * Every error receptive raises is a ReceptiveError. Subclasses say what kind of mistake it was,
 * so that callers can catch a family (`instanceof ShapeError`) and people can read the message:
 * it names the op or layer, what was expected, what was given, and what to do.
 */
export class ReceptiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Tensor shapes that cannot work together (ranks, channels, broadcasting, sizes). */
export class ShapeError extends ReceptiveError {}

/** An argument of the wrong kind or out of range (a negative size, a non-integer, an unknown name). */
export class ArgumentError extends ReceptiveError {}

/** A tensor of the wrong dtype (float32 where int32 labels were expected, or the reverse). */
export class DTypeError extends ReceptiveError {}

/** A value that should be finite is NaN or infinite. */
export class NonFiniteError extends ReceptiveError {}

/** A backend that does not exist or could not start, or a tensor used across backends. */
export class BackendError extends ReceptiveError {}

/** Gradients asked for where none can exist (backward on a non-scalar, or with nothing recorded). */
export class GradientError extends ReceptiveError {}

/**
 * An ONNX model that cannot be imported: a node whose operator (or setting) has no receptive
 * form, a shape that cannot be fixed at import, or bytes that are not an ONNX model.
 */
export class OnnxImportError extends ReceptiveError {}

/**
 * A Keras or TensorFlow.js model that cannot be built in receptive: a layer class or option
 * with no receptive form (the message names the layer, the class or option, and what is
 * supported), or a file that is not such a model.
 */
export class KerasImportError extends ReceptiveError {}

/**
 * A file or folder could not be read or written (disk full, permission denied, a missing
 * folder, a file where a folder should be). The message names the user's path, never a
 * temporary name; `path` and `code` (the system's, e.g. 'ENOSPC') are there for programs.
 */
export class IOError extends ReceptiveError {
  constructor(
    message: string,
    /** The user's path the operation was on. */
    readonly path?: string,
    /** The system's error code (`'ENOSPC'`, `'EACCES'`, ...), when there was one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * A feature needs an npm package that is not installed (receptive keeps its heavy extras, such as
 * the Vega-Lite charts, optional). The message names the package(s) and the command that
 * installs them; `packages` lists them for programs.
 */
export class MissingPackageError extends ReceptiveError {
  constructor(
    message: string,
    /** The npm packages to install. */
    readonly packages: readonly string[],
  ) {
    super(message);
  }
}

/** Describes a shape for messages: [2, 28, 28, 1]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
