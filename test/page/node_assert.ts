/**
 * node:assert/strict in a browser page (web/e2e/webgpu.mjs aliases it to this file), with
 * Node's strict semantics: equal is Object.is (NaN equals NaN, 0 is not -0), deepEqual compares
 * prototypes and own enumerable keys and typed arrays element by element (Object.is), throws
 * and rejects validate with a RegExp (against String(error)), an error class, a validation
 * function or an object of expected properties. Values deepEqual does not know how to compare
 * (Maps, Sets...) fail with a message that says so, never pass unchecked. Plain `node:assert`
 * (the legacy, loose one) is not offered: a file importing it fails to bundle.
 */

/** An assertion's failure (Node's class of the same name and code). */
export class AssertionError extends Error {
  readonly code = 'ERR_ASSERTION';
  constructor(
    message: string,
    readonly actual?: unknown,
    readonly expected?: unknown,
    readonly operator?: string,
  ) {
    super(message);
    this.name = 'AssertionError';
  }
}

type Message = string | Error | undefined;

function failWith(
  message: Message,
  fallback: string,
  actual?: unknown,
  expected?: unknown,
  op?: string,
): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback, actual, expected, op);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return `[Function ${v.name || 'anonymous'}]`;
  if (ArrayBuffer.isView(v)) {
    const a = Array.from(v as unknown as ArrayLike<number>);
    return `${v.constructor.name}(${a.length}) [${a.slice(0, 20).join(', ')}${a.length > 20 ? ', ...' : ''}]`;
  }
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 400 ? `${s.slice(0, 400)}...` : s;
  } catch {
    return String(v);
  }
}

/** Node's deepStrictEqual on the kinds of values tests compare; throws for kinds it does not know. */
function deepSame(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Map || a instanceof Set || a instanceof WeakMap || a instanceof WeakSet) {
    throw new AssertionError(
      `deepEqual in the page's node:assert does not compare ${a.constructor.name}s: compare their entries as arrays`,
    );
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && deepSame(ra[k], rb[k]));
}

function ok(value: unknown, message?: Message): asserts value {
  if (!value)
    failWith(
      message,
      `The expression evaluated to a falsy value: ${show(value)}`,
      value,
      true,
      '==',
    );
}

function equal(actual: unknown, expected: unknown, message?: Message): void {
  if (!Object.is(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly equal:\n\n${show(actual)} !== ${show(expected)}`,
      actual,
      expected,
      'strictEqual',
    );
  }
}

function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (Object.is(actual, expected)) {
    failWith(
      message,
      `Expected "actual" to be strictly unequal to: ${show(expected)}`,
      actual,
      expected,
      'notStrictEqual',
    );
  }
}

function deepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (!deepSame(actual, expected)) {
    failWith(
      message,
      `Expected values to be strictly deep-equal:\n${show(actual)}\n!==\n${show(expected)}`,
      actual,
      expected,
      'deepStrictEqual',
    );
  }
}

function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (deepSame(actual, expected)) {
    failWith(
      message,
      `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`,
      actual,
      expected,
      'notDeepStrictEqual',
    );
  }
}

function fail(message: Message = 'Failed'): never {
  failWith(message, 'Failed', undefined, undefined, 'fail');
}

function match(actual: string, re: RegExp, message?: Message): void {
  if (typeof actual !== 'string' || !re.test(actual)) {
    failWith(
      message,
      `The input did not match the regular expression ${re}. Input: ${show(actual)}`,
      actual,
      re,
      'match',
    );
  }
}

type Expected = RegExp | (new (...args: never[]) => unknown) | ((e: unknown) => boolean) | object;

/** Node's check of a thrown or rejected error against throws'/rejects' `expected`. */
function check(err: unknown, expected: Expected | undefined, message: Message, op: string): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String(err))) {
      failWith(
        message,
        `The input did not match the regular expression ${expected}. Input: ${show(String(err))}`,
        err,
        expected,
        op,
      );
    }
    return;
  }
  if (typeof expected === 'function') {
    const proto = (expected as { prototype?: unknown }).prototype;
    if (proto !== undefined && err instanceof (expected as new () => unknown)) return;
    if (expected === Error || Object.prototype.isPrototypeOf.call(Error, expected)) {
      failWith(
        message,
        `The error is expected to be an instance of "${expected.name}". Received ${show(String(err))}`,
        err,
        expected,
        op,
      );
    }
    const r = (expected as (e: unknown) => unknown)(err);
    if (r !== true) {
      failWith(
        message,
        `The ${expected.name || 'validation'} function is expected to return "true". Received ${show(r)}; the error: ${show(String(err))}`,
        err,
        expected,
        op,
      );
    }
    return;
  }
  const got = err as Record<string, unknown>;
  for (const [k, want] of Object.entries(expected)) {
    const have = got?.[k];
    const same =
      want instanceof RegExp && typeof have === 'string' ? want.test(have) : deepSame(have, want);
    if (!same) {
      failWith(
        message,
        `The error's "${k}" is ${show(have)}, expected ${show(want)}`,
        err,
        expected,
        op,
      );
    }
  }
}

function throws(fn: () => unknown, expected?: Expected | string, message?: Message): void {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  try {
    fn();
  } catch (e) {
    check(e, expected, message, 'throws');
    return;
  }
  failWith(message, 'Missing expected exception.', undefined, expected, 'throws');
}

async function rejects(
  promise: Promise<unknown> | (() => Promise<unknown>),
  expected?: Expected | string,
  message?: Message,
): Promise<void> {
  if (typeof expected === 'string') [message, expected] = [expected, undefined];
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    check(e, expected, message, 'rejects');
    return;
  }
  failWith(message, 'Missing expected rejection.', undefined, expected, 'rejects');
}

/** The strict assert: callable (as ok) with the methods the tests use. */
const assert = Object.assign((value: unknown, message?: Message) => ok(value, message), {
  ok,
  equal,
  strictEqual: equal,
  notEqual,
  notStrictEqual: notEqual,
  deepEqual,
  deepStrictEqual: deepEqual,
  notDeepEqual,
  notDeepStrictEqual: notDeepEqual,
  fail,
  match,
  throws,
  rejects,
  AssertionError,
});

/** node:assert/strict's `strict`: itself. */
export const strict = assert;
export {
  deepEqual,
  deepEqual as deepStrictEqual,
  equal,
  equal as strictEqual,
  fail,
  match,
  notDeepEqual,
  notEqual,
  ok,
  rejects,
  throws,
};
export default assert;
