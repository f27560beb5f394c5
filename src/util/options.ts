/**
 * The options objects and names users pass, checked in one place. An unknown key (a typo such
 * as `activaton`, a Keras spelling such as `kernel_size`) is an ArgumentError that names the
 * closest known key; a name from Keras's snake_case vocabulary ('glorot_uniform',
 * 'categorical_crossentropy') finds the camelCase entry it means.
 */
import { ArgumentError } from './errors.js';

/** A camelCase name in Keras's snake_case, as a type: 'glorotUniform' → 'glorot_uniform'. */
export type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Keras's snake_case (and its class names) in receptive's camelCase: glorot_uniform →
 * glorotUniform, sparse_categorical_crossentropy → sparseCategoricalCrossentropy,
 * GlorotUniform → glorotUniform. camelCase comes back unchanged.
 */
export function camelName(name: string): string {
  const camel = name.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/**
 * The known name closest to `given`: its camelCase spelling, the same letters in another case,
 * or one within a few edits (2, or 3 for long names). Undefined when nothing is close.
 */
export function closestName(given: string, known: readonly string[]): string | undefined {
  const camel = camelName(given);
  if (known.includes(camel)) return camel;
  const lower = given.toLowerCase().replace(/[_-]/g, '');
  const sameLetters = known.find((k) => k.toLowerCase().replace(/[_-]/g, '') === lower);
  if (sameLetters) return sameLetters;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(given.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= (given.length >= 8 ? 3 : 2) ? best : undefined;
}

/** ` Did you mean 'x'?` for a message, or '' when nothing known is close. */
export function didYouMean(given: string, known: readonly string[]): string {
  const near = closestName(given, known);
  if (near === undefined) return '';
  return camelName(given) === near && given !== near
    ? ` receptive spells names in camelCase: did you mean '${near}'?`
    : ` Did you mean '${near}'?`;
}

/**
 * Throws an ArgumentError for a key of `options` that is not in `known`, naming `where`, the
 * key, the closest known key and all of them. `options` undefined passes (every key has a
 * default); anything else that is not a plain object is refused.
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(
      `${where}: options must be an object ({ ${known.slice(0, 2).join(', ')}, ... }), got ${Array.isArray(options) ? 'an array' : String(options)}.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    throw new ArgumentError(
      `${where}: unknown option '${key}'.${didYouMean(key, known)} Known options: ${known.join(', ')}.`,
    );
  }
}

/**
 * Looks `name` up in a table of camelCase names, accepting Keras's snake_case spelling and any
 * case of the first letter. Undefined when the table has no such entry.
 */
export function lookupName<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  if (typeof name !== 'string') return undefined;
  if (Object.hasOwn(table, name)) return table[name];
  const camel = camelName(name);
  return Object.hasOwn(table, camel) ? table[camel] : undefined;
}

/**
 * `dataFormat` as Keras layers and TensorFlow.js ops take it: channels last is what receptive
 * computes (NHWC), so it passes; channels first is refused with how to convert. `data_format`
 * is Keras's spelling of the key.
 */
export function checkDataFormat(where: string, options: unknown): void {
  if (options === null || typeof options !== 'object') return;
  for (const key of ['dataFormat', 'data_format']) {
    if (!Object.hasOwn(options, key)) continue;
    const v = (options as Record<string, unknown>)[key];
    if (v === undefined || v === 'channelsLast' || v === 'channels_last' || v === 'NHWC') {
      if (key === 'dataFormat') continue;
      throw new ArgumentError(
        `${where}: unknown option 'data_format'. receptive spells names in camelCase: did you mean 'dataFormat'? (It may be left out: receptive is always channels last.)`,
      );
    }
    if (v === 'channelsFirst' || v === 'channels_first' || v === 'NCHW')
      throw new ArgumentError(
        `${where}: ${key} '${v}' is not supported: receptive is channels last (NHWC: [batch, height, width, channels]). ` +
          'Transpose NCHW input with rc.transpose(x, [0, 2, 3, 1]) and leave dataFormat out; weights imported from PyTorch or Keras are converted by the importers.',
      );
    throw new ArgumentError(
      `${where}: ${key} must be 'channelsLast' (receptive is channels last, NHWC), got ${JSON.stringify(v)}.`,
    );
  }
}
