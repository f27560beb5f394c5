/** explain-conv's text: the notes' worked example term by term, and the output-size arithmetic. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose } from '../helpers.js';

const { vision } = rc;
const image = [
  [2, 4, 1],
  [5, 9, 7],
  [3, 8, 6],
];

test('the worked example written out term by term gives 28 (the notes print 29)', () => {
  const { output, text } = vision.explainConv(image, [
    [-1, 0, 1],
    [-1, 2, 2],
    [0, 1, -1],
  ]);
  assert.deepEqual(output, [[28]]);
  assert.ok(
    text.includes('(2·-1) + (4·0) + (1·1) + (5·-1) + (9·2) + (7·2) + (3·0) + (8·1) + (6·-1) = 28'),
    text,
  );
  assert.ok(text.includes('= 28'));
  assert.ok(text.includes('floor((3 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 1'), text);
});

test("worked example 3 with 'same' padding at the centre: 4 and 10; padded pixels are 0 terms", () => {
  const v = vision.explainConv(image, rc.kernels.values.edgeVertical!, {
    padding: 'same',
    at: [1, 1],
  });
  assert.match(v.text, /out\[1,1\] = .* = 4$/m);
  const h = vision.explainConv(image, rc.kernels.values.edgeHorizontal!, { padding: 'same' });
  assert.equal(h.output[1]![1], 10);
  assert.match(h.text, /'same' \(1 before, 1 after\)/);
  assert.match(h.text, /out\[0,0\] = \(0·-1\) \+ \(0·-1\) \+ \(0·-1\) \+ \(0·0\) \+ \(2·0\)/);
  assert.throws(() => vision.explainConv(image, [[1]], { at: [3, 0] }), /outside the 3×3 output/);
  assert.throws(() => vision.explainConv(image, [[1, 2], [3]]), rc.ArgumentError);
  assert.throws(() => vision.explainConv([[1, 2]], [[1, 2, 3]]), /does not fit/);
});

test('explainConv computes what conv2d computes, with stride, padding and dilation', () => {
  const img = Array.from({ length: 7 }, (_, i) =>
    Array.from({ length: 6 }, (_, j) => ((i * 7 + j * 3) % 10) - 4),
  );
  const k = [
    [1, -2, 0.5],
    [0, 3, -1],
  ];
  for (const [strides, padding, dilationRate] of [
    [1, 'valid', 1],
    [2, 'same', 1],
    [[2, 1], 1, 2],
    [3, 'same', [1, 2]],
  ] as const) {
    const opts = { strides, padding, dilationRate } as rc.vision.ExplainOptions;
    const mine = vision.explainConv(img, k, opts).output;
    const ref = rc.conv2d(
      rc.reshape(rc.tensor(img), [1, 7, 6, 1]),
      rc.reshape(rc.tensor(k), [2, 3, 1, 1]),
      opts,
    );
    assert.deepEqual([mine.length, mine[0]!.length], ref.shape.slice(1, 3));
    assertClose(mine.flat(), ref.dataSync(), { atol: 1e-4 });
  }
});

test('outputSize fills the formula in: 32 → 30 (valid 3×3), 32 → 16 (same, stride 2)', () => {
  assert.equal(
    vision.outputSize(32, 3, 1, 1, 'valid').arithmetic,
    'floor((32 + 0 - 1·(3 - 1) - 1) / 1) + 1 = 30',
  );
  const same = vision.outputSize(32, 3, 2, 1, 'same');
  assert.deepEqual([same.out, same.padBefore, same.padAfter], [16, 0, 1]);
  assert.equal(same.arithmetic, 'floor((32 + 1 - 1·(3 - 1) - 1) / 2) + 1 = 16');
  assert.equal(vision.outputSize(28, 5, 1, 2, 2).out, 28 + 4 - 8);
  assert.equal(vision.fmtNumber(1 / 9), '0.1111');
  assert.equal(vision.fmtNumber(-0), '0');
});
