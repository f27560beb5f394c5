/**
 * What fit() and evaluate() check before and while they train, so that a number they report
 * can be trusted: the data hold no NaN or infinity (named by the example's index in the
 * user's own arrays, not its shuffled position), class ids fit the model's output, and a loss
 * that stops being a number stops training with the epoch and batch where it happened.
 */
import type { Model } from '../model/model.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape, NonFiniteError } from '../util/errors.js';
import { firstNonFinite, fmtNonFinite } from '../util/finite.js';
import type { Rows } from './batches.js';

const OFF = 'pass { checkFinite: false } to skip these checks';
const READ_LATE_NOTE =
  'webgpu backend keeps losses on the GPU and reads them every few batches, so as not to stall it';

/** Where in a run a check failed: 'epoch 2, batch 17' (1-based, as the progress bar counts). */
export interface StepPlace {
  epoch?: number;
  batch?: number;
  /** 'validation' for the batches fit evaluates after an epoch. */
  phase?: string;
}

export function fmtPlace(p: StepPlace): string {
  const parts: string[] = [];
  if (p.epoch !== undefined) parts.push(`epoch ${p.epoch + 1}`);
  if (p.batch !== undefined) parts.push(`${p.phase ? `${p.phase} ` : ''}batch ${p.batch + 1}`);
  return parts.join(', ');
}

/**
 * Refuses x or y rows holding NaN or infinity, naming the example by its row in the user's
 * tensor (`rows.start` is where the range checked begins). One pass over the host copy that
 * fit already holds, once per fit: no cost per step.
 */
export function checkFiniteRows(where: string, name: string, rows: Rows): void {
  if (rows.dtype !== 'float32') return;
  const bad = firstNonFinite(rows.values);
  if (bad < 0) return;
  const row = Math.floor(bad / rows.rowSize);
  const i = rows.start + row;
  throw new NonFiniteError(
    `${where}: ${name}[${i}] (example ${i} of your data, of shape ${fmtShape(rows.rowShape)}) holds ${fmtNonFinite(rows.values[bad]!)} at value ${bad - row * rows.rowSize} of its ${rows.rowSize}; found before epoch 1, batch 1. Fix or remove that example, or ${OFF}.`,
  );
}

/** The same check on a batch that a dataset produced (its position in the batch is all we know). */
export function checkFiniteBatch(where: string, name: string, t: Tensor, place: StepPlace): void {
  if (t.dtype !== 'float32') return;
  // Scanned where the backend keeps it (no copy): this runs every step of a dataset's fit.
  const bad = t.storage.backend.firstNonFinite(t.storage);
  if (bad < 0) return;
  const data = t.dataSync();
  const rowSize = t.size / (t.shape[0] || 1);
  const row = Math.floor(bad / rowSize);
  throw new NonFiniteError(
    `${where}: ${fmtPlace(place)}: the batch's ${name} holds ${fmtNonFinite(data[bad]!)} in row ${row} of ${t.shape[0]} (value ${bad - row * rowSize} of ${rowSize}). Fix the data or the pipeline that makes it, or ${OFF}.`,
  );
}

/** The number of classes a model's (first) output scores, when its shape says so. */
export function outputClasses(model: Model): number | null {
  const out = model.outputs[0];
  if (!out) return null;
  const c = out.shape[out.shape.length - 1];
  return typeof c === 'number' && c > 1 ? c : null;
}

/**
 * Integer labels must be class ids of the model's output: 0..classes-1. Checked once over
 * the user's labels so that the message names the label and its index in the user's data.
 */
export function checkClassIds(where: string, rows: Rows, classes: number | null): void {
  if (rows.dtype !== 'int32' || classes === null) return;
  const ids = rows.values;
  for (let r = 0; r < ids.length; r++) {
    const k = ids[r]!;
    if (k < 0 || k >= classes) {
      const i = rows.start + Math.floor(r / rows.rowSize);
      throw new ArgumentError(
        `${where}: label y[${i}] = ${k} (example ${i} of your data) is not a class id in 0..${classes - 1}: the model's output has ${classes} classes. Fix the label, or give the last layer as many units as there are classes.`,
      );
    }
  }
}

/**
 * A loss that is not a number. The check runs only where the data were checked too, so the
 * model went wrong, not the data.
 */
export function nonFiniteLoss(
  where: string,
  loss: number,
  place: StepPlace,
  training: boolean,
  /** The loss was read after the update (a backend whose reads are asynchronous). */
  readLate = false,
): NonFiniteError {
  const cause =
    "the batch's data are finite, so the model's outputs are not: its weights diverged or hold NaN";
  const fix = training
    ? readLate
      ? `The weights were updated by this batch and those after it before its loss was read (the ${READ_LATE_NOTE}). Lower the learning rate, clip gradients (clipNorm) or check the data`
      : 'The weights were not updated by this batch. Lower the learning rate, clip gradients (clipNorm) or check the data'
    : 'Check the weights (a diverged training run?) and the data';
  return new NonFiniteError(
    `${where}: ${fmtPlace(place)}: the loss is ${fmtNonFinite(loss)}; ${cause}. ${fix}; or ${OFF}.`,
  );
}

/** After an epoch: a weight an update made NaN or infinite stops training there. */
export async function checkFiniteWeights(
  where: string,
  model: Model,
  place: StepPlace,
): Promise<void> {
  for (const w of model.weights) {
    const data = await w.data();
    const bad = firstNonFinite(data);
    if (bad >= 0)
      throw new NonFiniteError(
        `${where}: after ${fmtPlace(place)}: weight ${w.name} ${fmtShape(w.shape)} holds ${fmtNonFinite(data[bad]!)} at flat index ${bad}; training diverged. Lower the learning rate or clip gradients (clipNorm); or ${OFF}.`,
      );
  }
}
