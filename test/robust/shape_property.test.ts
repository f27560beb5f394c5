/**
 * Shape inference, property-based (fast-check): for random layer configurations and random
 * small inputs, valid or not,
 *
 * - when computeOutputShape (batch axis unknown) gives a shape, a real call gives exactly that
 *   shape (and computeOutputShape of the concrete input shape gives the concrete output shape,
 *   and a symbolic application to rc.Input gives the same), with finite outputs from finite input;
 * - when computeOutputShape throws, a real call and a symbolic application throw too, an error
 *   of the same class (a ReceptiveError, never a TypeError from deep inside);
 * - and a real call never throws where computeOutputShape did not (a model that builds runs).
 *
 * The sizes are small, so kernels larger than the input, explicit paddings that crop everything
 * and windows that do not fit come up often. A failure prints fast-check's seed and the shrunk
 * counterexample; rerun it with `seed` and `path` in PARAMS.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as rc from '../../src/index.js';

const L = rc.layers;
const PARAMS: fc.Parameters<unknown> = { numRuns: 60, includeErrorInReport: true };

type Shape = (number | null)[];
type ZeroPadding = NonNullable<ConstructorParameters<typeof L.ZeroPadding2D>[0]>['padding'];

interface Case {
  /** For reports: the class, its arguments and the input shapes. */
  [fc.toStringMethod]: () => string;
  /** A fresh, unbuilt layer (called once per check). */
  make: () => rc.Layer;
  /** Input shapes, batch axis included. */
  inputs: number[][];
  /** The layer takes a list of inputs. */
  list?: boolean;
}

/** A case whose report shows the layer's arguments and the input shapes. */
function caseOf(
  cls: string,
  args: object,
  inputs: number[][],
  make: () => rc.Layer,
  list = false,
): Case {
  const text = `new ${cls}(${JSON.stringify(args)}) on ${JSON.stringify(inputs)}`;
  return { [fc.toStringMethod]: () => text, make, inputs, list };
}

const errorName = (e: unknown) => (e as Error)?.constructor?.name ?? String(e);

function attempt<T>(fn: () => T): { value?: T; error?: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

/** The properties above, for one configuration and input. */
function checkCase(c: Case): void {
  const who = c[fc.toStringMethod]();
  const arg = <T>(xs: T[]): T | T[] => (c.list ? xs : xs[0]!);
  const unknownBatch: Shape[] = c.inputs.map((s) => [null, ...s.slice(1)]);
  const inferred = attempt(() => c.make().computeOutputShape(arg(unknownBatch)));
  const xs = c.inputs.map((s, i) => rc.randn(s, { seed: 7 + i }));
  const called = attempt(() => c.make().apply(arg(xs) as rc.Tensor));
  const symbolic = attempt(() => c.make().apply(arg(c.inputs.map((s) => rc.Input(s.slice(1))))));

  if (inferred.error !== undefined) {
    const e = inferred.error;
    assert.ok(
      e instanceof rc.ReceptiveError,
      `${who}: computeOutputShape threw a ${errorName(e)}: ${(e as Error).message}`,
    );
    assert.ok(
      called.error !== undefined,
      `${who}: computeOutputShape threw (${(e as Error).message}) but a call gave ${JSON.stringify(called.value?.shape)}`,
    );
    assert.equal(
      errorName(called.error),
      errorName(e),
      `${who}: computeOutputShape threw ${errorName(e)} (${(e as Error).message}), the call ${errorName(called.error)} (${(called.error as Error).message})`,
    );
    assert.equal(
      errorName(symbolic.error),
      errorName(e),
      `${who}: the symbolic application threw ${errorName(symbolic.error)}`,
    );
    return;
  }
  const expected = inferred.value!;
  assert.ok(
    called.error === undefined,
    `${who}: computeOutputShape gave ${JSON.stringify(expected)} but the call threw ${errorName(called.error)}: ${(called.error as Error)?.message}`,
  );
  const y = called.value!;
  assert.deepEqual(
    [null, ...y.shape.slice(1)],
    expected,
    `${who}: the call's output shape vs computeOutputShape`,
  );
  assert.equal(y.shape[0], c.inputs[0]![0], `${who}: batch size`);
  assert.deepEqual(
    c.make().computeOutputShape(arg(c.inputs)),
    y.shape,
    `${who}: computeOutputShape of the concrete input shape`,
  );
  assert.ok(
    symbolic.error === undefined,
    `${who}: the symbolic application threw ${errorName(symbolic.error)}: ${(symbolic.error as Error)?.message}`,
  );
  assert.deepEqual(symbolic.value!.shape, expected, `${who}: the symbolic output shape`);
  const bad = y.dataSync().findIndex((v) => !Number.isFinite(v));
  assert.equal(bad, -1, `${who}: output ${bad} is ${y.dataSync()[bad]} from finite input`);
}

// ---- arbitraries ---------------------------------------------------------------------------------

const size = (max: number) => fc.integer({ min: 1, max });
const pairOf = (a: fc.Arbitrary<number>) => fc.oneof(a, fc.tuple(a, a));
const padding = fc.oneof(
  fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  fc.integer({ min: 0, max: 2 }),
  fc.tuple(
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  ),
) as fc.Arbitrary<rc.Padding>;
/** [batch, height, width, channels] with the given channel arbitrary. */
const image = (channels: fc.Arbitrary<number>) =>
  fc.tuple(size(2), size(8), size(8), channels).map((s) => [...s]);

const convCommon = {
  kernelSize: pairOf(size(4)),
  strides: pairOf(size(3)),
  padding,
  dilationRate: pairOf(size(3)),
};

const cases: [string, fc.Arbitrary<Case>][] = [
  [
    'Conv2D (kernel, strides, padding, dilation, groups)',
    fc
      .record({
        ...convCommon,
        groups: size(3),
        perGroupIn: size(2),
        perGroupOut: size(2),
        shape: image(fc.constant(0)),
      })
      .map(({ groups, perGroupIn, perGroupOut, shape, ...a }) => {
        const args = { ...a, groups, filters: groups * perGroupOut };
        const input = [shape[0]!, shape[1]!, shape[2]!, groups * perGroupIn];
        return caseOf('Conv2D', args, [input], () => new L.Conv2D(args));
      }),
  ],
  [
    'DepthwiseConv2D',
    fc
      .record({ ...convCommon, depthMultiplier: size(2), shape: image(size(3)) })
      .map(({ shape, ...a }) =>
        caseOf('DepthwiseConv2D', a, [shape], () => new L.DepthwiseConv2D(a)),
      ),
  ],
  [
    'SeparableConv2D',
    fc
      .record({ ...convCommon, depthMultiplier: size(2), filters: size(3), shape: image(size(3)) })
      .map(({ shape, ...a }) =>
        caseOf('SeparableConv2D', a, [shape], () => new L.SeparableConv2D(a)),
      ),
  ],
  [
    'Conv2DTranspose (outputPadding < strides)',
    fc
      .record({
        kernelSize: pairOf(size(4)),
        strides: fc.tuple(size(3), size(3)),
        padding,
        dilationRate: pairOf(size(2)),
        filters: size(3),
        outputPaddingPick: fc.tuple(fc.nat(), fc.nat()),
        shape: image(size(3)),
      })
      .map(({ shape, outputPaddingPick, strides, ...a }) => {
        const outputPadding: [number, number] = [
          outputPaddingPick[0] % strides[0],
          outputPaddingPick[1] % strides[1],
        ];
        const args = { ...a, strides, outputPadding };
        return caseOf('Conv2DTranspose', args, [shape], () => new L.Conv2DTranspose(args));
      }),
  ],
  ...(['MaxPooling2D', 'AveragePooling2D'] as const).map((name): [string, fc.Arbitrary<Case>] => [
    name,
    fc
      .record({
        poolSize: pairOf(size(4)),
        strides: fc.option(pairOf(size(3)), { nil: undefined }),
        padding,
        shape: image(size(3)),
      })
      .map(({ shape, strides, ...a }) => {
        const args = { ...a, ...(strides === undefined ? {} : { strides }) };
        return caseOf(name, args, [shape], () => new L[name](args));
      }),
  ]),
  [
    'ZeroPadding2D',
    fc
      .record({
        padding: fc.oneof(
          fc.integer({ min: 0, max: 3 }),
          fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
          fc.tuple(
            fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
            fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
          ),
        ) as fc.Arbitrary<ZeroPadding>,
        shape: image(size(3)),
      })
      .map(({ padding, shape }) =>
        caseOf('ZeroPadding2D', { padding }, [shape], () => new L.ZeroPadding2D({ padding })),
      ),
  ],
  [
    'UpSampling2D',
    fc
      .record({ size: pairOf(size(3)), shape: image(size(3)) })
      .map(({ size: s, shape }) =>
        caseOf('UpSampling2D', { size: s }, [shape], () => new L.UpSampling2D({ size: s })),
      ),
  ],
  [
    'Dense (input of rank 2 to 4)',
    fc
      .record({
        units: size(5),
        activation: fc.constantFrom<'linear' | 'relu' | 'softmax' | 'tanh'>(
          'linear',
          'relu',
          'softmax',
          'tanh',
        ),
        shape: fc.array(size(4), { minLength: 2, maxLength: 4 }),
      })
      .map(({ shape, ...a }) => caseOf('Dense', a, [shape], () => new L.Dense(a))),
  ],
  [
    'Flatten (input of rank 1 to 5)',
    fc
      .array(size(4), { minLength: 1, maxLength: 5 })
      .map((shape) => caseOf('Flatten', {}, [shape], () => new L.Flatten())),
  ],
  [
    'GlobalAveragePooling2D (input of rank 3 to 5)',
    fc
      .record({ keepDims: fc.boolean(), shape: fc.array(size(4), { minLength: 3, maxLength: 5 }) })
      .map(({ keepDims, shape }) =>
        caseOf(
          'GlobalAveragePooling2D',
          { keepDims },
          [shape],
          () => new L.GlobalAveragePooling2D({ keepDims }),
        ),
      ),
  ],
  [
    'Concatenate (2 or 3 inputs, any axis, sometimes mismatched)',
    fc
      .record({
        base: fc.array(size(4), { minLength: 2, maxLength: 4 }),
        n: fc.integer({ min: 2, max: 3 }),
        axisPick: fc.nat(),
        negative: fc.boolean(),
        changes: fc.array(fc.tuple(fc.nat(), fc.nat(), size(4)), { maxLength: 3 }),
        changeRank: fc.boolean(),
      })
      .map(({ base, n, axisPick, negative, changes, changeRank }) => {
        const rank = base.length;
        const axis = 1 + (axisPick % (rank - 1)); // never the batch axis
        const inputs = Array.from({ length: n }, () => [...base]);
        // Any input may differ on any axis but the batch axis: on the concatenation axis that
        // is fine, elsewhere an error; now and then one input loses its last axis.
        for (const [who, ax, d] of changes) inputs[who % n]![1 + (ax % (rank - 1))] = d;
        if (changeRank && rank > 2 && changes.length > 0) inputs[n - 1]!.pop();
        const args = { axis: negative ? axis - rank : axis };
        return caseOf('Concatenate', args, inputs, () => new L.Concatenate(args), true);
      }),
  ],
];

for (const [name, arb] of cases) {
  test(`${name}: computeOutputShape agrees with a real call, in success and in failure`, () => {
    fc.assert(fc.property(arb, checkCase), PARAMS);
  });
}
