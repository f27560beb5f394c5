/**
 * node:test in a browser page (web/e2e/webgpu.mjs aliases `node:test` to this file): describe
 * and test collect a tree as node:test does (a suite's body runs at once, a skipped suite's
 * does not), and run() then runs the tests in order, one at a time, awaiting each, and returns
 * every outcome. Only what the conformance suite uses: describe and test, each with an optional
 * options object whose `skip` (true or a reason) is honoured; the test function gets no
 * context argument. Hooks (before, after...) are not here, so a file that imports them fails
 * to bundle rather than running without them.
 */

/** What describe and test accept between the name and the function. */
export interface TestOptions {
  /** Skip it (true, or the reason to report). */
  skip?: boolean | string;
}

/** One test's outcome (a skipped suite counts as one skipped entry under its own name). */
export interface TestOutcome {
  /** The names of the enclosing suites and of the test, joined by ' > '. */
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** Why it failed (the error's message), or why it was skipped. */
  message?: string;
  /** The error's stack, for a failure that is not an assertion's. */
  stack?: string;
  /** How long it ran, in milliseconds. */
  ms: number;
}

type Body = () => unknown;

/** A test to run, or an outcome known when it was declared (skipped, or a suite that threw). */
type Entry = { name: string; fn: Body } | { name: string; outcome: TestOutcome };

const entries: Entry[] = [];
const path: string[] = [];

function parse(args: unknown[]): { options: TestOptions; fn: Body | undefined } {
  const [a, b] = args;
  if (typeof a === 'function') return { options: {}, fn: a as Body };
  return { options: (a as TestOptions | undefined) ?? {}, fn: b as Body | undefined };
}

function fullName(name: string): string {
  return [...path, name].join(' > ');
}

function skipped(name: string, skip: boolean | string): Entry {
  return {
    name,
    outcome: { name, status: 'skip', message: skip === true ? undefined : String(skip), ms: 0 },
  };
}

function failure(name: string, e: unknown, ms: number): TestOutcome {
  const err = e as { name?: string; message?: string; stack?: string } | undefined;
  const message = err?.message ?? String(e);
  const assertion = err?.name === 'AssertionError';
  return { name, status: 'fail', message, stack: assertion ? undefined : err?.stack, ms };
}

/** Declares a suite: its body runs now and declares tests (not when skipped). */
export function describe(name: string, ...args: [Body?] | [TestOptions, Body?]): void {
  const { options, fn } = parse(args);
  const full = fullName(name);
  if (options.skip) {
    entries.push(skipped(full, options.skip));
    return;
  }
  path.push(name);
  try {
    fn?.();
  } catch (e) {
    entries.push({ name: full, outcome: failure(full, e, 0) });
  } finally {
    path.pop();
  }
}

/** Declares a test, run later by run() in declaration order. */
export function test(name: string, ...args: [Body?] | [TestOptions, Body?]): void {
  const { options, fn } = parse(args);
  const full = fullName(name);
  if (options.skip) entries.push(skipped(full, options.skip));
  else entries.push({ name: full, fn: fn ?? (() => {}) });
}

/** node:test's other name for test. */
export const it = test;

/**
 * Runs the declared tests whose full name includes `only` (all when it is empty), in order,
 * each to its end before the next; returns every outcome and how many were left out by `only`.
 * `onOutcome` sees each outcome as it comes (for progress lines).
 */
export async function run(
  only = '',
  onOutcome?: (o: TestOutcome) => void,
): Promise<{ outcomes: TestOutcome[]; filteredOut: number }> {
  const outcomes: TestOutcome[] = [];
  let filteredOut = 0;
  for (const e of entries.splice(0)) {
    if (only && !e.name.includes(only)) {
      filteredOut++;
      continue;
    }
    let outcome: TestOutcome;
    if ('outcome' in e) outcome = e.outcome;
    else {
      const t0 = performance.now();
      try {
        await e.fn();
        outcome = { name: e.name, status: 'pass', ms: performance.now() - t0 };
      } catch (err) {
        outcome = failure(e.name, err, performance.now() - t0);
      }
    }
    outcomes.push(outcome);
    onOutcome?.(outcome);
  }
  return { outcomes, filteredOut };
}
