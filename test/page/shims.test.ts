/**
 * The page's stand-ins for node:test and node:assert/strict (test/page/) behave as Node's:
 * each assertion passes or fails where Node's does, on the kinds of values the suite compares;
 * describe/test run in order, await async tests, honour skip and report failures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import page from './node_assert.js';
import * as pageTest from './node_test.js';

class MyError extends Error {}

/** [what, call on an assert module]: each must throw on both or on neither. */
const cases: [string, (a: typeof assert) => unknown][] = [
  ['equal numbers', (a) => a.equal(1, 1)],
  ['equal 1 and "1"', (a) => a.equal(1, '1' as unknown as number)],
  ['equal NaN, NaN', (a) => a.equal(Number.NaN, Number.NaN)],
  ['equal 0, -0', (a) => a.equal(0, -0)],
  ['notEqual 1, 2', (a) => a.notEqual(1, 2)],
  ['notEqual NaN, NaN', (a) => a.notEqual(Number.NaN, Number.NaN)],
  ['ok 0', (a) => a.ok(0)],
  ['ok "x"', (a) => a.ok('x')],
  ['callable', (a) => a(false)],
  ['deepEqual arrays', (a) => a.deepEqual([1, 2, [3]], [1, 2, [3]])],
  ['deepEqual arrays differ', (a) => a.deepEqual([1, 2], [1, 3])],
  ['deepEqual lengths differ', (a) => a.deepEqual([1, 2], [1, 2, 3])],
  ['deepEqual -0 in arrays', (a) => a.deepEqual([0], [-0])],
  ['deepEqual NaN in arrays', (a) => a.deepEqual([Number.NaN], [Number.NaN])],
  ['deepEqual typed vs plain', (a) => a.deepEqual(new Float32Array([1]), [1])],
  ['deepEqual typed arrays', (a) => a.deepEqual(new Int32Array([1, 2]), new Int32Array([1, 2]))],
  ['deepEqual typed arrays differ', (a) => a.deepEqual(new Int32Array([1]), new Int32Array([2]))],
  ['deepEqual objects', (a) => a.deepEqual({ x: [1], y: 'a' }, { y: 'a', x: [1] })],
  ['deepEqual objects, a key more', (a) => a.deepEqual({ x: 1 }, { x: 1, y: undefined })],
  ['deepEqual 1 and "1"', (a) => a.deepEqual([1], ['1'])],
  ['notDeepEqual', (a) => a.notDeepEqual([1], [2])],
  ['fail', (a) => a.fail('no')],
  ['throws', (a) => a.throws(() => {})],
  [
    'throws, RegExp matching',
    (a) =>
      a.throws(() => {
        throw new MyError('bad x');
      }, /MyError|bad x/),
  ],
  [
    'throws, RegExp not matching',
    (a) =>
      a.throws(() => {
        throw new Error('bad');
      }, /good/),
  ],
  [
    'throws, class',
    (a) =>
      a.throws(() => {
        throw new MyError('m');
      }, MyError),
  ],
  [
    'throws, wrong class',
    (a) =>
      a.throws(() => {
        throw new Error('m');
      }, MyError),
  ],
  [
    'throws, validator true',
    (a) =>
      a.throws(
        () => {
          throw new Error('m');
        },
        (e: unknown) => e instanceof Error,
      ),
  ],
  [
    'throws, validator false',
    (a) =>
      a.throws(
        () => {
          throw new Error('m');
        },
        () => false,
      ),
  ],
  [
    'throws, object',
    (a) =>
      a.throws(
        () => {
          throw new MyError('a b');
        },
        { message: /a b/ },
      ),
  ],
  [
    'throws, object differs',
    (a) =>
      a.throws(
        () => {
          throw new MyError('a b');
        },
        { message: 'c' },
      ),
  ],
  ['match', (a) => a.match('abc', /b/)],
  ['match fails', (a) => a.match('abc', /d/)],
];

test('the page’s node:assert/strict passes and fails where Node’s does', () => {
  const outcome = (a: typeof assert, f: (a: typeof assert) => unknown) => {
    try {
      f(a);
      return 'passes';
    } catch (e) {
      return (e as Error).name === 'AssertionError' ? 'fails' : `throws ${String(e)}`;
    }
  };
  for (const [what, f] of cases) {
    assert.equal(outcome(page as unknown as typeof assert, f), outcome(assert, f), what);
  }
});

test('the page’s assert.rejects as Node’s', async () => {
  await page.rejects(Promise.reject(new MyError('x')), MyError);
  await page.rejects(async () => {
    throw new Error('y');
  }, /y/);
  await assert.rejects(page.rejects(Promise.resolve(1)), { name: 'AssertionError' });
  await assert.rejects(page.rejects(Promise.reject(new Error('z')), /w/), {
    name: 'AssertionError',
  });
});

test('the page’s node:test runs in order, awaits, honours skip and reports failures', async () => {
  const order: string[] = [];
  pageTest.describe('outer', () => {
    pageTest.test('async first', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('a');
    });
    pageTest.test('sync second', () => {
      order.push('b');
    });
    pageTest.describe('skipped suite', { skip: 'no reason to run' }, () => {
      order.push('never: the body of a skipped suite');
    });
    pageTest.test('skipped test', { skip: true }, () => {
      order.push('never: a skipped test');
    });
    pageTest.test('fails', async () => {
      order.push('c');
      page.equal(1, 2, 'one is not two');
    });
    pageTest.test('throws', () => {
      throw new Error('boom');
    });
  });
  const { outcomes, filteredOut } = await pageTest.run();
  assert.equal(filteredOut, 0);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.deepEqual(
    outcomes.map((o) => [o.name, o.status, o.message]),
    [
      ['outer > async first', 'pass', undefined],
      ['outer > sync second', 'pass', undefined],
      ['outer > skipped suite', 'skip', 'no reason to run'],
      ['outer > skipped test', 'skip', undefined],
      ['outer > fails', 'fail', 'one is not two'],
      ['outer > throws', 'fail', 'boom'],
    ],
  );
  assert.ok(outcomes[5]!.stack?.includes('boom'), 'a non-assertion failure keeps its stack');

  pageTest.test('kept', () => {});
  pageTest.test('left out', () => {});
  const second = await pageTest.run('kept');
  assert.equal(second.filteredOut, 1);
  assert.deepEqual(
    second.outcomes.map((o) => o.name),
    ['kept'],
  );
});
