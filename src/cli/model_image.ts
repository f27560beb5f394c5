/**
 * An image file as a saved model sees it, and the classes it gives: what `predict`,
 * `visualize` and `explain` share. The image is converted and resized to the model's input,
 * and a warning says so, since predictions on a changed image can be off.
 */
import { decodeImage, type RawImage, resizeBilinear } from '../data/image_codec.js';
import { readFileChecked } from '../io/files.js';
import { outputActivation } from '../model/head.js';
import type { Model } from '../model/model.js';
import { softmax } from '../ops/activations.js';
import { type Tensor, tensor } from '../tensor.js';
import { ArgumentError, fmtShape } from '../util/errors.js';
import { convertChannels } from '../vision/images.js';

/** The model's input size per example, checked to be an image's: [height, width, 1 or 3]. */
export function imageInputShape(model: Model, command: string): [number, number, 1 | 3] {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const [h, w, c] = shape as [number, number, number];
  if (shape.length !== 3 || (c !== 1 && c !== 3))
    throw new ArgumentError(
      `${command}: the model's input is ${fmtShape(shape)} per example; ${command} feeds it an image, which needs [height, width, 1 or 3 channels].`,
    );
  return [h, w, c];
}

/**
 * Reads a PNG or JPEG and fits it to the model's input: its channels, its size (bilinear).
 * Returns the image as fitted and the model's input `[1, h, w, c]` (values 0..1).
 */
export async function readModelImage(
  model: Model,
  file: string,
  command: string,
): Promise<{ image: RawImage; x: Tensor }> {
  const [h, w, c] = imageInputShape(model, command);
  let img = decodeImage(await readFileChecked(file, command), { name: file });
  const was = `${img.height}×${img.width}, ${img.channels === 1 ? 'grey' : 'RGB'}`;
  const changes: string[] = [];
  if (img.channels !== c) {
    changes.push(c === 1 ? 'converted to grey' : 'its grey copied to 3 channels');
    img = convertChannels(img, c);
  }
  if (img.height !== h || img.width !== w) {
    changes.push(`resized to ${h}×${w}`);
    img = resizeBilinear(img, h, w);
  }
  if (changes.length > 0)
    console.error(
      `receptive: warning: ${file} (${was}) was ${changes.join(' and ')} to fit the model's input ${h}×${w}×${c}; predictions on a changed image can be off.`,
    );
  const x = tensor(
    Float32Array.from(img.data, (v) => v / 255),
    [1, h, w, c],
  );
  return { image: img, x };
}

/**
 * `--classes a,b,c` as names, checked against the number of classes the model scores (before
 * anything is read, so a typo costs nothing).
 */
export function classNames(
  model: Model,
  list: string | undefined,
  command: string,
): string[] | undefined {
  if (list === undefined) return undefined;
  const names = String(list).split(',');
  const out = model.outputs[0]!.shape;
  const scored = out[out.length - 1];
  if (names.length !== scored)
    throw new ArgumentError(
      `${command} --classes: ${names.length} name${names.length === 1 ? '' : 's'} given, but the model scores ${scored} classes. Give ${scored} comma-separated names, in the order of the training classes.`,
    );
  return names;
}

/** The model's class probabilities for one input (logits, as imported models often give, through softmax). */
export function probabilities(model: Model, x: Tensor): Float32Array {
  const y = model.predict(x);
  const act = outputActivation(model);
  return (act === 'softmax' || act === 'sigmoid' ? y : softmax(y)).dataSync() as Float32Array;
}

/** The k most probable classes as lines `name  12.34%`, most probable first. */
export function topClassLines(probs: ArrayLike<number>, names?: string[], k = 5): string[] {
  return Array.from(probs, (p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([p, i]) => `${(names?.[i] ?? String(i)).padEnd(12)} ${(p * 100).toFixed(2)}%`);
}
