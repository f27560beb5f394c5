/**
 * importOnnx of single operators in their many modes, each a hand-written one-node graph run in
 * ONNX Runtime (the reference) and imported: Resize and Upsample (linear and nearest, every
 * coordinate transformation, scales and sizes, opsets 7 to 13), Pad (reflect, edge, a
 * constant), and Div, Pow, Max, Min between computed tensors. The outputs must agree on NHWC
 * input; modes receptive cannot reproduce are OnnxImportErrors that say why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../../src/index.js';
import { type Attr, attr } from '../../../src/io/onnx/graph.js';
import { AttributeType } from '../../../src/io/onnx/schema.js';
import { maxAbsDiff, modelBytes, runOnnx } from './helpers.js';

interface OpCase {
  name: string;
  opset: number;
  op: string;
  /** Input [batch, channels, height, width]. */
  input: number[];
  /** Further inputs of the node: '' for one left out, else an initializer's name. */
  more?: string[];
  attrs?: Record<string, Attr>;
  floats?: Record<string, [number[], number[]]>;
  ints?: Record<string, [number[], number[]]>;
  /** The layer classes the import must make (in order). */
  layers?: string[];
}

const scales = (s: number[]): [number[], number[]] => [[4], s];
const floatsAttr = (floats: number[]): Attr => ({ type: AttributeType.FLOATS, floats });

/** Imports the one-node graph and runs it on NHWC input; ONNX Runtime runs the NCHW original. */
async function compare(c: OpCase): Promise<{ d: number; classes: string[] }> {
  const { bytes } = modelBytes(
    {
      inputs: [['x', c.input]],
      outputs: ['y'],
      floats: c.floats,
      ints: c.ints,
      nodes: [
        {
          op: c.op,
          inputs: ['x', ...(c.more ?? [])],
          outputs: ['y'],
          attrs: c.attrs,
          name: c.name,
        },
      ],
    },
    c.opset,
  );
  const x = rc.randn(c.input, { seed: 7 });
  const [want] = await runOnnx(bytes, [x]);
  const m = rc.importOnnxBytes(bytes);
  const y = m.predict(rc.transpose(x, [0, 2, 3, 1]));
  const got = rc.transpose(y, [0, 3, 1, 2]).dataSync();
  return {
    d: maxAbsDiff(got, want!),
    classes: m.layers.map((l) => l.className).filter((n) => n !== 'InputLayer'),
  };
}

const resizeCases: OpCase[] = [
  {
    name: 'Upsample-9 linear by whole factors',
    opset: 9,
    op: 'Upsample',
    input: [2, 3, 4, 5],
    more: ['s'],
    attrs: { mode: attr.str('linear') },
    floats: { s: scales([1, 1, 2, 3]) },
    layers: ['UpSampling2D'],
  },
  {
    name: 'Upsample-7 linear by 1.5 and 2.5 (the scales attribute; 5 × 1.5 is not whole)',
    opset: 7,
    op: 'Upsample',
    input: [1, 2, 5, 5],
    attrs: { mode: attr.str('linear'), scales: floatsAttr([1, 1, 1.5, 2.5]) },
    layers: ['Resizing'],
  },
  {
    name: 'Upsample-9 nearest by 2 and 3',
    opset: 9,
    op: 'Upsample',
    input: [2, 2, 3, 4],
    more: ['s'],
    floats: { s: scales([1, 1, 2, 3]) },
    layers: ['UpSampling2D'],
  },
  {
    name: 'Resize-10 linear, down and up',
    opset: 10,
    op: 'Resize',
    input: [2, 3, 5, 4],
    more: ['s'],
    attrs: { mode: attr.str('linear') },
    floats: { s: scales([1, 1, 0.6, 1.7]) },
  },
  {
    name: 'Resize-13 linear half_pixel by scales 0.6 and 2.5',
    opset: 13,
    op: 'Resize',
    input: [2, 3, 5, 4],
    more: ['', 's'],
    attrs: { mode: attr.str('linear') },
    floats: { s: scales([1, 1, 0.6, 2.5]) },
  },
  {
    name: 'Resize-13 linear half_pixel by whole scales (a bilinear UpSampling2D)',
    opset: 13,
    op: 'Resize',
    input: [2, 3, 3, 4],
    more: ['', 's'],
    attrs: { mode: attr.str('linear') },
    floats: { s: scales([1, 1, 2, 2]) },
    layers: ['UpSampling2D'],
  },
  {
    name: 'Resize-13 linear pytorch_half_pixel to height 1 (sizes)',
    opset: 13,
    op: 'Resize',
    input: [2, 3, 5, 4],
    more: ['', '', 'sz'],
    attrs: {
      mode: attr.str('linear'),
      coordinate_transformation_mode: attr.str('pytorch_half_pixel'),
    },
    ints: { sz: [[4], [2, 3, 1, 7]] },
    layers: ['Resizing', 'Resizing'],
  },
  {
    name: 'Resize-13 linear align_corners (sizes)',
    opset: 13,
    op: 'Resize',
    input: [2, 3, 5, 4],
    more: ['', '', 'sz'],
    attrs: {
      mode: attr.str('linear'),
      coordinate_transformation_mode: attr.str('align_corners'),
    },
    ints: { sz: [[4], [2, 3, 7, 3]] },
    layers: ['Resizing'],
  },
  {
    name: 'Resize-11 linear asymmetric by 1.5 and 0.5',
    opset: 11,
    op: 'Resize',
    input: [1, 3, 5, 6],
    // Resize-11 needs roi and scales present (empty where unused).
    more: ['roi', 's'],
    attrs: {
      mode: attr.str('linear'),
      coordinate_transformation_mode: attr.str('asymmetric'),
    },
    floats: { s: scales([1, 1, 1.5, 0.5]), roi: [[0], []] },
  },
  {
    name: 'Resize-13 nearest asymmetric floor to 7 × 10 (sizes)',
    opset: 13,
    op: 'Resize',
    input: [2, 2, 5, 4],
    more: ['', '', 'sz'],
    attrs: {
      coordinate_transformation_mode: attr.str('asymmetric'),
      nearest_mode: attr.str('floor'),
    },
    ints: { sz: [[4], [2, 2, 7, 10]] },
    layers: ['Resizing'],
  },
  {
    name: 'Resize-13 nearest half_pixel round_prefer_ceil, halving (samples on ties)',
    opset: 13,
    op: 'Resize',
    input: [1, 2, 6, 8],
    more: ['', 's'],
    attrs: { nearest_mode: attr.str('round_prefer_ceil') },
    floats: { s: scales([1, 1, 0.5, 0.5]) },
    layers: ['Resizing'],
  },
  {
    name: 'Resize-13 nearest align_corners round_prefer_ceil (sizes)',
    opset: 13,
    op: 'Resize',
    input: [1, 2, 6, 5],
    more: ['', '', 'sz'],
    attrs: {
      coordinate_transformation_mode: attr.str('align_corners'),
      nearest_mode: attr.str('round_prefer_ceil'),
    },
    ints: { sz: [[4], [1, 2, 3, 9]] },
    layers: ['Resizing'],
  },
  {
    name: 'Resize-11 nearest tf_half_pixel_for_nn floor',
    opset: 11,
    op: 'Resize',
    input: [1, 2, 5, 6],
    more: ['roi', 'roi', 'sz'],
    attrs: {
      coordinate_transformation_mode: attr.str('tf_half_pixel_for_nn'),
      nearest_mode: attr.str('floor'),
    },
    floats: { roi: [[0], []] },
    ints: { sz: [[4], [1, 2, 3, 9]] },
  },
];

for (const c of resizeCases) {
  test(`${c.name}: ONNX Runtime's output (< 1e-5)`, async () => {
    const { d, classes } = await compare(c);
    assert.ok(d < 1e-5, `${c.name}: differs from ONNX Runtime by ${d}`);
    if (c.layers) assert.deepEqual(classes, c.layers);
  });
}

const padCases: OpCase[] = [
  {
    name: 'Pad-11 reflect',
    opset: 11,
    op: 'Pad',
    input: [2, 3, 4, 5],
    more: ['p'],
    attrs: { mode: attr.str('reflect') },
    ints: { p: [[8], [0, 0, 2, 1, 0, 0, 3, 4]] },
    layers: ['Padding2D'],
  },
  {
    name: 'Pad-13 edge',
    opset: 13,
    op: 'Pad',
    input: [2, 3, 4, 5],
    more: ['p'],
    attrs: { mode: attr.str('edge') },
    ints: { p: [[8], [0, 0, 0, 6, 0, 0, 5, 1]] },
    layers: ['Padding2D'],
  },
  {
    name: 'Pad-13 constant 1.5',
    opset: 13,
    op: 'Pad',
    input: [1, 3, 4, 5],
    more: ['p', 'v'],
    floats: { v: [[], [1.5]] },
    ints: { p: [[8], [0, 0, 1, 2, 0, 0, 2, 1]] },
    layers: ['Padding2D'],
  },
  {
    name: 'Pad-2 reflect (pads attribute)',
    opset: 2,
    op: 'Pad',
    input: [1, 2, 4, 4],
    attrs: { mode: attr.str('reflect'), pads: attr.ints([0, 0, 1, 3, 0, 0, 3, 1]) },
    layers: ['Padding2D'],
  },
];

for (const c of padCases) {
  test(`${c.name}: ONNX Runtime's output (< 1e-6)`, async () => {
    const { d, classes } = await compare(c);
    assert.ok(d < 1e-6, `${c.name}: differs from ONNX Runtime by ${d}`);
    if (c.layers) assert.deepEqual(classes, c.layers);
  });
}

test('Div, Pow, Max and Min between computed tensors (broadcasting; images and vectors) and with constants give ONNX Runtime outputs', async () => {
  const { bytes } = modelBytes(
    {
      inputs: [['x', ['N', 3, 4, 5]]],
      outputs: ['out', 'vec'],
      floats: {
        half: [[], [0.5]],
        cap: [
          [1, 3, 1, 1],
          [0.2, 0.4, 0.6],
        ],
        two: [
          [3, 1, 1],
          [2, 1, 3],
        ],
      },
      nodes: [
        { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
        { op: 'Add', inputs: ['s', 'half'], outputs: ['pos'] },
        { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
        { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['g'] },
        { op: 'Div', inputs: ['t', 'pos'], outputs: ['ratio'] },
        { op: 'Pow', inputs: ['pos', 'ratio'], outputs: ['pw'] },
        { op: 'Max', inputs: ['pw', 'g', 'x'], outputs: ['hi'] },
        { op: 'Min', inputs: ['hi', 'cap', 't'], outputs: ['lo'] },
        { op: 'Min', inputs: ['lo'], outputs: ['same'] },
        { op: 'Pow', inputs: ['pos', 'two'], outputs: ['sq'] },
        { op: 'Div', inputs: ['half', 'sq'], outputs: ['inv'] },
        { op: 'Max', inputs: ['same', 'inv'], outputs: ['out'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['gf'] },
        { op: 'Flatten', inputs: ['pos'], outputs: ['pf'] },
        { op: 'ReduceMean', inputs: ['pos'], outputs: ['pm'], attrs: { axes: attr.ints([2, 3]) } },
        { op: 'Flatten', inputs: ['pm'], outputs: ['pmf'] },
        { op: 'Div', inputs: ['gf', 'pmf'], outputs: ['vec'] },
      ],
    },
    13,
  );
  const x = rc.randn([2, 3, 4, 5], { seed: 3 });
  const [out, vec] = await runOnnx(bytes, [x]);
  const m = rc.importOnnxBytes(bytes);
  const [y, v] = m.callAll(rc.transpose(x, [0, 2, 3, 1]), { training: false });
  const d = maxAbsDiff(rc.transpose(y!, [0, 3, 1, 2]).dataSync(), out!);
  const dv = maxAbsDiff(v!.dataSync(), vec!);
  assert.ok(d < 1e-5 && dv < 1e-5, `differs from ONNX Runtime by ${d} (image), ${dv} (vector)`);
  const classes = new Set(m.layers.map((l) => l.className));
  for (const c of ['Divide', 'Power', 'Maximum', 'Minimum', 'ConstantArithmetic'])
    assert.ok(classes.has(c), `a ${c} layer: ${[...classes].join(', ')}`);
  // The image stays NHWC throughout: no transposes for the merges.
  assert.ok(!classes.has('Permute'), [...classes].join(', '));
});

test('resizing modes receptive cannot reproduce are OnnxImportErrors that say why', () => {
  const refused: [OpCase, RegExp][] = [
    [
      {
        name: 'cubic',
        opset: 13,
        op: 'Resize',
        input: [1, 1, 4, 4],
        more: ['', 's'],
        attrs: { mode: attr.str('cubic') },
        floats: { s: scales([1, 1, 2, 2]) },
      },
      /mode 'cubic': only nearest and linear/,
    ],
    [
      {
        name: 'ceil',
        opset: 13,
        op: 'Resize',
        input: [1, 1, 4, 4],
        more: ['', '', 'sz'],
        attrs: { nearest_mode: attr.str('ceil') },
        ints: { sz: [[4], [1, 1, 8, 8]] },
      },
      /nearest_mode 'ceil'.*picks input pixels \[0, 1, 1, 2, 2, 3, 3, 3\]/,
    ],
    [
      {
        name: 'corners',
        opset: 13,
        op: 'Resize',
        input: [1, 1, 2, 4],
        more: ['', 's'],
        attrs: {
          mode: attr.str('linear'),
          coordinate_transformation_mode: attr.str('align_corners'),
        },
        floats: { s: scales([1, 1, 0.6, 0.6]) },
      },
      /align_corners.*not whole.*give sizes instead/,
    ],
    [
      {
        name: 'channels',
        opset: 13,
        op: 'Resize',
        input: [1, 2, 4, 4],
        more: ['', 's'],
        floats: { s: scales([1, 2, 2, 2]) },
      },
      /only the height and width of an image can be resized/,
    ],
    [
      {
        name: 'crop',
        opset: 13,
        op: 'Resize',
        input: [1, 1, 4, 4],
        more: ['', 's'],
        attrs: {
          mode: attr.str('linear'),
          coordinate_transformation_mode: attr.str('tf_crop_and_resize'),
        },
        floats: { s: scales([1, 1, 2, 2]) },
      },
      /tf_crop_and_resize/,
    ],
    [
      {
        name: 'wrap',
        opset: 13,
        op: 'Pad',
        input: [1, 1, 4, 4],
        more: ['p'],
        attrs: { mode: attr.str('wrap') },
        ints: { p: [[8], [0, 0, 1, 1, 0, 0, 1, 1]] },
      },
      /mode 'wrap': only the modes constant, reflect and edge/,
    ],
    [
      {
        name: 'wide',
        opset: 13,
        op: 'Pad',
        input: [1, 1, 3, 4],
        more: ['p'],
        attrs: { mode: attr.str('reflect') },
        ints: { p: [[8], [0, 0, 3, 0, 0, 0, 0, 0]] },
      },
      /'wide' \(Pad, opset 13\).*reflect.*at most its size less one/,
    ],
  ];
  for (const [c, re] of refused) {
    const { bytes } = modelBytes(
      {
        inputs: [['x', c.input]],
        outputs: ['y'],
        floats: c.floats,
        ints: c.ints,
        nodes: [
          {
            op: c.op,
            inputs: ['x', ...(c.more ?? [])],
            outputs: ['y'],
            attrs: c.attrs,
            name: c.name,
          },
        ],
      },
      c.opset,
    );
    assert.throws(
      () => rc.importOnnxBytes(bytes),
      (e: Error) => e instanceof rc.OnnxImportError && re.test(e.message),
      c.name,
    );
  }
});

test('Padding2D, bilinear UpSampling2D and Resizing: exportOnnx → importOnnx gives the same layers and predictions', () => {
  const L = rc.layers;
  const inp = rc.Input([5, 6, 2]);
  let t = new L.Resizing({ height: 7, width: 4 }).apply(inp);
  t = new L.Padding2D({ padding: [1, 2], mode: 'edge' }).apply(t);
  t = new L.UpSampling2D({ interpolation: 'bilinear' }).apply(t);
  t = new L.Resizing({
    height: 16,
    width: 9,
    interpolation: 'nearest',
    coordinates: 'asymmetric',
    scale: [0.9, 0.6],
  }).apply(t);
  const m = new rc.Model({ inputs: inp, outputs: t });
  const back = rc.importOnnxBytes(rc.encodeOnnx(m));
  assert.deepEqual(
    back.layers.map((l) => l.className),
    m.layers.map((l) => l.className),
  );
  const x = rc.randn([2, 5, 6, 2], { seed: 1 });
  const d = maxAbsDiff(back.predict(x).dataSync(), m.predict(x).dataSync());
  assert.ok(d < 1e-5, `the imported model differs by ${d}`);
});
