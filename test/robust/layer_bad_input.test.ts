/**
 * Bad input to every layer class in rc.layers, table-driven: bad constructor arguments (zero,
 * negative, non-integer and NaN sizes, rates outside [0, 1), unknown activation and initializer
 * names), and bad applications (wrong ranks, a channel count other than the one the layer was
 * built for, kernels and windows larger than the input), on concrete tensors and on symbolic
 * ones. Each row expects a ReceptiveError subclass whose message names the layer and shows every
 * shape involved. test/nn/layer_validation.test.ts has the finer points of a few layers; this is
 * the sweep, and the last test checks that no layer class is missing from it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as rc from '../../src/index.js';

const L = rc.layers;
type ErrorClass = new (message: string) => rc.ReceptiveError;

interface Row {
  /** The class the message must name. */
  layer: string;
  what: string;
  /** 'construct': the constructor refuses; 'apply': applying (or calling after a build) refuses. */
  kind: 'construct' | 'apply';
  run: () => unknown;
  error: ErrorClass;
  /** Shapes that must appear in the message ([1, 5, 5, 3], (None, 5, 5, 3) or [1,5,5,3] all count). */
  shapes?: (number | null)[][];
  /** Further text the message must contain. */
  message?: RegExp;
}

/** A value of the wrong type for an argument, past the type checker (as from JavaScript or JSON). */
const bad = <T = never>(v: unknown): T => v as T;
const z = (...shape: number[]) => rc.zeros(shape);
const input = (...shape: number[]) => rc.Input(shape);

/** Applies a fresh layer to `good` (which must work), then to `wrong`. */
function afterBuild(
  make: () => rc.Layer,
  good: rc.Tensor | rc.Tensor[],
  wrong: (layer: rc.Layer) => unknown,
) {
  return () => {
    const layer = make();
    try {
      layer.apply(good as rc.Tensor);
    } catch (e) {
      throw new Error(`setup: the good input failed: ${(e as Error).message}`);
    }
    return wrong(layer);
  };
}

const ARG = rc.ArgumentError;
const SHAPE = rc.ShapeError;

/** Constructor rows for one numeric size argument: 0, negative, fractional, NaN, Infinity. */
function sizeRows(
  layer: string,
  arg: string,
  make: (v: unknown) => unknown,
  values: unknown[] = [0, -2, 1.5, Number.NaN, Number.POSITIVE_INFINITY],
  error: ErrorClass = ARG,
): Row[] {
  return values.map((v) => ({
    layer,
    what: `${arg} ${Array.isArray(v) ? JSON.stringify(v) : String(v)}`,
    kind: 'construct' as const,
    run: () => make(v),
    error,
    message: new RegExp(arg),
  }));
}

const convRows = (
  name: string,
  make: (args: Record<string, unknown>) => rc.Layer,
  base: Record<string, unknown>,
): Row[] => [
  ...sizeRows(name, 'kernelSize', (v) => make({ ...base, kernelSize: v })),
  ...sizeRows(name, 'kernelSize', (v) => make({ ...base, kernelSize: v }), [
    [3, 0],
    [2.5, 3],
    [],
    null,
    '3',
  ]),
  ...sizeRows(name, 'strides', (v) => make({ ...base, strides: v }), [0, -1, 1.5, Number.NaN]),
  ...sizeRows(name, 'dilationRate', (v) => make({ ...base, dilationRate: v }), [0, Number.NaN]),
  {
    layer: name,
    what: 'kernelSize missing',
    kind: 'construct',
    run: () => make({ ...base, kernelSize: undefined }),
    error: ARG,
    message: /kernelSize is required/,
  },
  {
    layer: name,
    what: "padding 'SAME'",
    kind: 'construct',
    run: () => make({ ...base, padding: 'SAME' }),
    error: ARG,
    message: /padding/,
  },
  {
    layer: name,
    what: 'padding -1',
    kind: 'construct',
    run: () => make({ ...base, padding: -1 }),
    error: ARG,
    message: /padding/,
  },
  {
    layer: name,
    what: "activation 'relux'",
    kind: 'construct',
    run: () => make({ ...base, activation: 'relux' }),
    error: ARG,
    message: /relux/,
  },
  {
    layer: name,
    what: "kernelInitializer 'glorot'",
    kind: 'construct',
    run: () => make({ ...base, kernelInitializer: 'glorot' }),
    error: ARG,
    message: /initializer 'glorot'/,
  },
  {
    layer: name,
    what: "biasInitializer 'zero'",
    kind: 'construct',
    run: () => make({ ...base, biasInitializer: 'zero' }),
    error: ARG,
    message: /initializer 'zero'/,
  },
  {
    layer: name,
    what: 'rank-3 input (no batch axis)',
    kind: 'apply',
    run: () => make(base).apply(z(6, 6, 3)),
    error: SHAPE,
    shapes: [[6, 6, 3]],
    message: /rank 4/,
  },
  {
    layer: name,
    what: 'rank-5 symbolic input',
    kind: 'apply',
    run: () => make(base).apply(input(2, 6, 6, 3)),
    error: SHAPE,
    shapes: [[null, 2, 6, 6, 3]],
    message: /rank 4/,
  },
  {
    layer: name,
    what: 'NaN inputShape',
    kind: 'construct',
    run: () => make({ ...base, inputShape: [Number.NaN, 6, 3] }),
    error: ARG,
    message: /inputShape/,
  },
];

/**
 * Rows for a layer built on 3 channels and then applied to 4: called (the message shows the
 * input and what the weights expect: the kernel's shape or the channels built for), and applied
 * symbolically (a shared layer in a functional model; the message shows both input shapes).
 */
function channelRows(name: string, make: () => rc.Layer, h = 6): Row[] {
  return [
    {
      layer: name,
      what: 'built on 3 channels, called on 4',
      kind: 'apply',
      run: afterBuild(make, z(1, h, h, 3), (l) => l.apply(z(1, h, h, 4))),
      error: SHAPE,
      shapes: [[1, h, h, 4]],
      message:
        /\[(3, 3, 3, \d|3, 1, 3, 2|3, 3, 2, 3|batch, height, width, 3)\]|built for 3 channels/,
    },
    {
      layer: name,
      what: 'built on 3 channels, applied to a symbolic input of 4',
      kind: 'apply',
      run: afterBuild(make, z(1, h, h, 3), (l) => l.apply(input(h, h, 4))),
      error: SHAPE,
      shapes: [
        [1, h, h, 3],
        [null, h, h, 4],
      ],
    },
  ];
}

/** Rows for a kernel larger than the input, concrete and symbolic. */
function tooBigRows(name: string, make: () => rc.Layer, inputShape: number[], kernel: RegExp) {
  return [
    {
      layer: name,
      what: 'kernel larger than the input',
      kind: 'apply' as const,
      run: () => make().apply(z(...inputShape)),
      error: SHAPE,
      shapes: [inputShape],
      message: kernel,
    },
    {
      layer: name,
      what: 'kernel larger than the symbolic input',
      kind: 'apply' as const,
      run: () => make().apply(input(...inputShape.slice(1))),
      error: SHAPE,
      shapes: [[null, ...inputShape.slice(1)]],
      message: kernel,
    },
  ];
}

const rows: Row[] = [
  // ---- convolutions ---------------------------------------------------------------------------
  ...sizeRows('Conv2D', 'filters', (v) => new L.Conv2D({ filters: bad(v), kernelSize: 3 })),
  ...convRows('Conv2D', (a) => new L.Conv2D(bad(a)), { filters: 2, kernelSize: 3 }),
  ...sizeRows(
    'Conv2D',
    'groups',
    (v) => new L.Conv2D({ filters: 4, kernelSize: 3, groups: bad(v) }),
    [0, 3, 1.5, Number.NaN],
  ),
  {
    layer: 'Conv2D',
    what: 'groups that do not divide the input channels',
    kind: 'apply',
    run: () => new L.Conv2D({ filters: 4, kernelSize: 3, groups: 2 }).apply(z(1, 6, 6, 3)),
    error: SHAPE,
    message: /groups \(2\).*input channels \(3\)/,
  },
  ...channelRows('Conv2D', () => new L.Conv2D({ filters: 2, kernelSize: 3 })),
  ...tooBigRows('Conv2D', () => new L.Conv2D({ filters: 2, kernelSize: 7 }), [1, 5, 5, 1], /7x7/),
  ...tooBigRows(
    'Conv2D',
    () => new L.Conv2D({ filters: 2, kernelSize: 3, dilationRate: 3 }),
    [1, 6, 6, 1],
    /dilation/,
  ),

  ...sizeRows(
    'DepthwiseConv2D',
    'depthMultiplier',
    (v) => new L.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: bad(v) }),
  ),
  ...convRows('DepthwiseConv2D', (a) => new L.DepthwiseConv2D(bad(a)), { kernelSize: 3 }),
  ...channelRows('DepthwiseConv2D', () => new L.DepthwiseConv2D({ kernelSize: 3 })),
  ...tooBigRows(
    'DepthwiseConv2D',
    () => new L.DepthwiseConv2D({ kernelSize: 6 }),
    [1, 5, 5, 2],
    /6x6/,
  ),

  ...sizeRows(
    'SeparableConv2D',
    'filters',
    (v) => new L.SeparableConv2D({ filters: bad(v), kernelSize: 3 }),
  ),
  ...sizeRows(
    'SeparableConv2D',
    'depthMultiplier',
    (v) => new L.SeparableConv2D({ filters: 2, kernelSize: 3, depthMultiplier: bad(v) }),
  ),
  ...convRows('SeparableConv2D', (a) => new L.SeparableConv2D(bad(a)), {
    filters: 2,
    kernelSize: 3,
  }),
  ...channelRows('SeparableConv2D', () => new L.SeparableConv2D({ filters: 2, kernelSize: 3 })),
  ...tooBigRows(
    'SeparableConv2D',
    () => new L.SeparableConv2D({ filters: 2, kernelSize: [2, 9] }),
    [1, 5, 5, 2],
    /2x9/,
  ),

  ...sizeRows(
    'Conv2DTranspose',
    'filters',
    (v) => new L.Conv2DTranspose({ filters: bad(v), kernelSize: 3 }),
  ),
  ...sizeRows(
    'Conv2DTranspose',
    'outputPadding',
    (v) => new L.Conv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: bad(v) }),
    [2, -1, 0.5, Number.NaN, [1, 2]],
  ),
  ...convRows('Conv2DTranspose', (a) => new L.Conv2DTranspose(bad(a)), {
    filters: 2,
    kernelSize: 3,
  }),
  ...channelRows('Conv2DTranspose', () => new L.Conv2DTranspose({ filters: 2, kernelSize: 3 })),
  {
    layer: 'Conv2DTranspose',
    what: 'explicit padding that crops away the whole output',
    kind: 'apply',
    run: () =>
      new L.Conv2DTranspose({ filters: 1, kernelSize: 2, padding: 2 }).apply(z(1, 1, 1, 1)),
    error: SHAPE,
    shapes: [[1, 1, 1, 1]],
  },
  {
    layer: 'Conv2DTranspose',
    what: 'explicit padding that crops away the whole symbolic output',
    kind: 'apply',
    run: () =>
      new L.Conv2DTranspose({ filters: 1, kernelSize: 2, padding: 2 }).apply(input(1, 1, 1)),
    error: SHAPE,
    shapes: [[null, 1, 1, 1]],
  },

  ...sizeRows(
    'SpatialSeparableConv2D',
    'filters',
    (v) => new L.SpatialSeparableConv2D({ filters: bad(v), kernelSize: 3 }),
  ),
  ...convRows('SpatialSeparableConv2D', (a) => new L.SpatialSeparableConv2D(bad(a)), {
    filters: 2,
    kernelSize: 3,
  }),
  ...channelRows(
    'SpatialSeparableConv2D',
    () => new L.SpatialSeparableConv2D({ filters: 2, kernelSize: 3 }),
  ),
  ...tooBigRows(
    'SpatialSeparableConv2D',
    () => new L.SpatialSeparableConv2D({ filters: 2, kernelSize: 7 }),
    [1, 5, 5, 1],
    /7x7/,
  ),

  ...sizeRows(
    'OctaveConv2D',
    'filters',
    (v) => new L.OctaveConv2D({ filters: bad(v), kernelSize: 3 }),
  ),
  ...sizeRows(
    'OctaveConv2D',
    'kernelSize',
    (v) => new L.OctaveConv2D({ filters: 4, kernelSize: bad(v) }),
  ),
  ...sizeRows(
    'OctaveConv2D',
    'alphaIn',
    (v) => new L.OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: bad(v) }),
    [1, -0.1, Number.NaN, 1.5, '0.5'],
  ),
  ...sizeRows(
    'OctaveConv2D',
    'alphaOut',
    (v) => new L.OctaveConv2D({ filters: 4, kernelSize: 3, alphaOut: bad(v) }),
    [1, -0.5, Number.NaN],
  ),
  ...sizeRows(
    'OctaveConv2D',
    'strides',
    (v) => new L.OctaveConv2D({ filters: 4, kernelSize: 3, strides: bad(v) }),
    [0, 3, 1.5, [1, 2]],
  ),
  {
    layer: 'OctaveConv2D',
    what: "activation 'relux'",
    kind: 'construct',
    run: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3, activation: bad('relux') }),
    error: ARG,
    message: /relux/,
  },
  {
    layer: 'OctaveConv2D',
    what: "kernelInitializer 'glorot'",
    kind: 'construct',
    run: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3, kernelInitializer: bad('glorot') }),
    error: ARG,
    message: /initializer 'glorot'/,
  },
  {
    layer: 'OctaveConv2D',
    what: 'one tensor where alphaIn asks for [high, low]',
    kind: 'apply',
    run: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3 }).apply(z(1, 8, 8, 4)),
    error: ARG,
    shapes: [[1, 8, 8, 4]],
  },
  {
    layer: 'OctaveConv2D',
    what: 'a low input that is not half the high one',
    kind: 'apply',
    run: () =>
      new L.OctaveConv2D({ filters: 4, kernelSize: 3 }).apply([z(1, 8, 8, 2), z(1, 8, 8, 2)]),
    error: SHAPE,
    shapes: [
      [1, 8, 8, 2],
      [1, 8, 8, 2],
    ],
  },
  {
    layer: 'OctaveConv2D',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.OctaveConv2D({ filters: 4, kernelSize: 3, alphaIn: 0 }).apply(z(8, 8, 4)),
    error: SHAPE,
    shapes: [[8, 8, 4]],
  },
  {
    layer: 'OctaveConv2D',
    what: 'built on [4 high, 4 low] channels, called on [4, 2]',
    kind: 'apply',
    run: afterBuild(
      () => new L.OctaveConv2D({ filters: 4, kernelSize: 3 }),
      [z(1, 8, 8, 4), z(1, 4, 4, 4)],
      (l) => l.apply([z(1, 8, 8, 2), z(1, 4, 4, 2)]),
    ),
    error: SHAPE,
    shapes: [
      [1, 8, 8, 2],
      [1, 4, 4, 2],
    ],
  },
  ...tooBigRows(
    'OctaveConv2D',
    () => new L.OctaveConv2D({ filters: 4, kernelSize: 5, alphaIn: 0, padding: 'valid' }),
    [1, 4, 4, 2],
    /5x5/,
  ),

  // ---- pooling and resampling -------------------------------------------------------------------
  ...(['MaxPooling2D', 'AveragePooling2D'] as const).flatMap((name): Row[] => {
    const make = (a: Record<string, unknown>) => new L[name](bad(a));
    return [
      ...sizeRows(name, 'poolSize', (v) => make({ poolSize: v })),
      ...sizeRows(name, 'poolSize', (v) => make({ poolSize: v }), [[2, 0]]),
      ...sizeRows(name, 'strides', (v) => make({ strides: v }), [0, -1, 1.5, Number.NaN]),
      {
        layer: name,
        what: "padding 'full'",
        kind: 'construct',
        run: () => make({ padding: 'full' }),
        error: ARG,
        message: /padding/,
      },
      {
        layer: name,
        what: 'rank-3 input',
        kind: 'apply',
        run: () => make({}).apply(z(4, 4, 2)),
        error: SHAPE,
        shapes: [[4, 4, 2]],
        message: /rank 4/,
      },
      {
        layer: name,
        what: 'rank-2 symbolic input',
        kind: 'apply',
        run: () => make({}).apply(input(16)),
        error: SHAPE,
        shapes: [[null, 16]],
        message: /rank 4/,
      },
      ...tooBigRows(name, () => make({ poolSize: 5 }), [1, 3, 3, 2], /5x5/),
    ];
  }),
  ...sizeRows('MaxPooling2D', 'dilationRate', (v) => new L.MaxPooling2D({ dilationRate: bad(v) }), [
    0,
    -1,
    1.5,
    Number.NaN,
    [2, 0],
  ]),
  {
    layer: 'MaxPooling2D',
    what: 'a dilated window larger than the input',
    kind: 'apply',
    run: () => new L.MaxPooling2D({ poolSize: 3, dilationRate: 2 }).apply(input(4, 6, 2)),
    error: SHAPE,
    shapes: [[null, 4, 6, 2]],
    message: /dilation 2x2/,
  },
  ...(['GlobalAveragePooling2D', 'GlobalMaxPooling2D'] as const).flatMap((name): Row[] => [
    {
      layer: name,
      what: 'rank-3 input',
      kind: 'apply',
      run: () => new L[name]().apply(z(4, 4, 2)),
      error: SHAPE,
      shapes: [[4, 4, 2]],
      message: /rank 4/,
    },
    {
      layer: name,
      what: 'rank-2 symbolic input',
      kind: 'apply',
      run: () => new L[name]().apply(input(16)),
      error: SHAPE,
      shapes: [[null, 16]],
      message: /rank 4/,
    },
    {
      layer: name,
      what: "keepDims 'yes'",
      kind: 'construct',
      run: () => new L[name]({ keepDims: bad('yes') }),
      error: ARG,
      message: /keepDims/,
    },
    {
      layer: name,
      what: 'NaN inputShape',
      kind: 'construct',
      run: () => new L[name]({ inputShape: [4, Number.NaN, 2] }),
      error: ARG,
      message: /inputShape/,
    },
  ]),
  ...sizeRows('ZeroPadding2D', 'padding', (v) => new L.ZeroPadding2D({ padding: bad(v) }), [
    -1,
    1.5,
    Number.NaN,
    [1, -1],
    [
      [1, 1],
      [0, 0.5],
    ],
    'same',
  ]),
  {
    layer: 'ZeroPadding2D',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.ZeroPadding2D().apply(z(4, 4, 2)),
    error: SHAPE,
    shapes: [[4, 4, 2]],
    message: /rank 4/,
  },
  {
    layer: 'ZeroPadding2D',
    what: 'rank-2 symbolic input',
    kind: 'apply',
    run: () => new L.ZeroPadding2D().apply(input(16)),
    error: SHAPE,
    shapes: [[null, 16]],
  },
  ...sizeRows('Padding2D', 'padding', (v) => new L.Padding2D({ padding: bad(v) }), [
    -1,
    1.5,
    [1, Number.NaN],
    'same',
  ]),
  {
    layer: 'Padding2D',
    what: "mode 'wrap'",
    kind: 'construct',
    run: () => new L.Padding2D({ mode: bad('wrap') }),
    error: ARG,
    message: /mode.*wrap/,
  },
  {
    layer: 'Padding2D',
    what: 'value NaN',
    kind: 'construct',
    run: () => new L.Padding2D({ mode: 'constant', value: Number.NaN }),
    error: ARG,
    message: /value/,
  },
  {
    layer: 'Padding2D',
    what: 'value with mode edge',
    kind: 'construct',
    run: () => new L.Padding2D({ mode: 'edge', value: 1 }),
    error: ARG,
    message: /value 1.*'constant'/,
  },
  {
    layer: 'Padding2D',
    what: 'reflection as wide as the image (symbolic)',
    kind: 'apply',
    run: () => new L.Padding2D({ padding: [1, 3] }).apply(input(4, 3, 2)),
    error: SHAPE,
    shapes: [[null, 4, 3, 2]],
    message: /reflect.*width.*at most.*2/,
  },
  {
    layer: 'Padding2D',
    what: 'reflection wider than the image',
    kind: 'apply',
    run: () => new L.Padding2D({ padding: 2 }).apply(z(1, 2, 5, 1)),
    error: SHAPE,
    shapes: [[1, 2, 5, 1]],
    message: /height.*at most.*1/,
  },
  {
    layer: 'Padding2D',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.Padding2D().apply(z(4, 4, 2)),
    error: SHAPE,
    shapes: [[4, 4, 2]],
    message: /rank 4/,
  },
  ...sizeRows('UpSampling2D', 'size', (v) => new L.UpSampling2D({ size: bad(v) }), [
    0,
    -2,
    1.5,
    Number.NaN,
    [2, 0],
  ]),
  {
    layer: 'UpSampling2D',
    what: "interpolation 'bicubic'",
    kind: 'construct',
    run: () => new L.UpSampling2D({ interpolation: bad('bicubic') }),
    error: ARG,
    message: /interpolation.*bicubic/,
  },
  {
    layer: 'UpSampling2D',
    what: "coordinates 'tf_crop_and_resize'",
    kind: 'construct',
    run: () => new L.UpSampling2D({ coordinates: bad('tf_crop_and_resize') }),
    error: ARG,
    message: /coordinates.*tf_crop_and_resize/,
  },
  ...sizeRows('Resizing', 'height', (v) => new L.Resizing({ height: bad(v), width: 4 })),
  ...sizeRows('Resizing', 'width', (v) => new L.Resizing({ height: 4, width: bad(v) }), [
    0,
    1e6,
    '4',
  ]),
  {
    layer: 'Resizing',
    what: 'no arguments',
    kind: 'construct',
    run: () => new L.Resizing(bad(undefined)),
    error: ARG,
    message: /height/,
  },
  {
    layer: 'Resizing',
    what: "interpolation 'lanczos3'",
    kind: 'construct',
    run: () => new L.Resizing({ height: 4, width: 4, interpolation: bad('lanczos3') }),
    error: ARG,
    message: /interpolation.*lanczos3/,
  },
  {
    layer: 'Resizing',
    what: "coordinates 'half_pixel' (ONNX's spelling)",
    kind: 'construct',
    run: () => new L.Resizing({ height: 4, width: 4, coordinates: bad('half_pixel') }),
    error: ARG,
    message: /coordinates.*'half-pixel'/,
  },
  ...sizeRows('Resizing', 'scale', (v) => new L.Resizing({ height: 4, width: 4, scale: bad(v) }), [
    [0, 1],
    [1],
    [1, Number.NaN],
    2,
  ]),
  {
    layer: 'Resizing',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.Resizing({ height: 4, width: 4 }).apply(z(4, 4, 2)),
    error: SHAPE,
    shapes: [[4, 4, 2]],
    message: /rank 4/,
  },
  {
    layer: 'Resizing',
    what: 'an image with no rows',
    kind: 'apply',
    run: () => new L.Resizing({ height: 4, width: 4 }).apply(z(1, 0, 4, 2)),
    error: SHAPE,
    shapes: [[1, 0, 4, 2]],
    message: /no pixels/,
  },
  {
    layer: 'UpSampling2D',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.UpSampling2D().apply(z(4, 4, 2)),
    error: SHAPE,
    shapes: [[4, 4, 2]],
    message: /rank 4/,
  },
  {
    layer: 'UpSampling2D',
    what: 'rank-2 symbolic input',
    kind: 'apply',
    run: () => new L.UpSampling2D().apply(input(16)),
    error: SHAPE,
    shapes: [[null, 16]],
  },

  // ---- core -------------------------------------------------------------------------------------
  {
    layer: 'InputLayer',
    what: 'inputShape with a 0',
    kind: 'construct',
    run: () => new L.InputLayer({ inputShape: [0, 3] }),
    error: ARG,
    message: /inputShape/,
  },
  {
    layer: 'InputLayer',
    what: 'inputShape NaN',
    kind: 'construct',
    run: () => new L.InputLayer({ inputShape: [Number.NaN] }),
    error: ARG,
    message: /inputShape/,
  },
  {
    layer: 'InputLayer',
    what: 'inputShape missing',
    kind: 'construct',
    run: () => new L.InputLayer(bad({})),
    error: ARG,
    message: /inputShape/,
  },
  {
    layer: 'InputLayer',
    what: 'a tensor of another shape',
    kind: 'apply',
    run: () => new L.InputLayer({ inputShape: [28, 28, 1] }).apply(z(2, 28, 28)),
    error: SHAPE,
    shapes: [
      [null, 28, 28, 1],
      [2, 28, 28],
    ],
  },
  ...sizeRows('Dense', 'units', (v) => new L.Dense({ units: bad(v) })),
  {
    layer: 'Dense',
    what: "activation 'softmaxx'",
    kind: 'construct',
    run: () => new L.Dense({ units: 3, activation: bad('softmaxx') }),
    error: ARG,
    message: /softmaxx/,
  },
  {
    layer: 'Dense',
    what: "kernelInitializer 'he'",
    kind: 'construct',
    run: () => new L.Dense({ units: 3, kernelInitializer: bad('he') }),
    error: ARG,
    message: /initializer 'he'/,
  },
  {
    layer: 'Dense',
    what: 'rank-1 input',
    kind: 'apply',
    run: () => new L.Dense({ units: 3 }).apply(z(5)),
    error: SHAPE,
    shapes: [[5]],
  },
  {
    layer: 'Dense',
    what: 'built on 4 features, called on 5',
    kind: 'apply',
    run: afterBuild(
      () => new L.Dense({ units: 3 }),
      z(2, 4),
      (l) => l.apply(z(2, 5)),
    ),
    error: SHAPE,
    shapes: [[2, 5]],
    message: /4/,
  },
  {
    layer: 'Dense',
    what: 'built on 4 features, applied to a symbolic input of 5',
    kind: 'apply',
    run: afterBuild(
      () => new L.Dense({ units: 3 }),
      z(2, 4),
      (l) => l.apply(input(5)),
    ),
    error: SHAPE,
    shapes: [
      [2, 4],
      [null, 5],
    ],
  },
  {
    layer: 'Flatten',
    what: 'a scalar (no batch axis)',
    kind: 'apply',
    run: () => new L.Flatten().apply(rc.scalar(3)),
    error: SHAPE,
    shapes: [[]],
  },
  {
    layer: 'Flatten',
    what: 'NaN inputShape',
    kind: 'construct',
    run: () => new L.Flatten({ inputShape: [Number.NaN] }),
    error: ARG,
    message: /inputShape/,
  },
  ...sizeRows('Reshape', 'targetShape', (v) => new L.Reshape({ targetShape: bad(v) }), [
    [0, 4],
    [-2, 4],
    [1.5],
    [Number.NaN],
    [-1, -1],
    6,
  ]),
  {
    layer: 'Reshape',
    what: '12 values into 5',
    kind: 'apply',
    run: () => new L.Reshape({ targetShape: [5] }).apply(z(2, 3, 4)),
    error: SHAPE,
    shapes: [[3, 4], [5]],
  },
  {
    layer: 'Reshape',
    what: '12 values into [5, -1], symbolic',
    kind: 'apply',
    run: () => new L.Reshape({ targetShape: [5, -1] }).apply(input(3, 4)),
    error: SHAPE,
    shapes: [
      [3, 4],
      [5, -1],
    ],
  },
  {
    layer: 'Activation',
    what: "activation 'relux'",
    kind: 'construct',
    run: () => new L.Activation({ activation: bad('relux') }),
    error: ARG,
    message: /relux/,
  },
  {
    layer: 'Activation',
    what: 'activation NaN',
    kind: 'construct',
    run: () => new L.Activation({ activation: bad(Number.NaN) }),
    error: ARG,
  },
  {
    layer: 'Activation',
    what: 'softmax of a scalar (no axis to normalize)',
    kind: 'apply',
    run: () => new L.Activation({ activation: 'softmax' }).apply(rc.scalar(1)),
    error: rc.ReceptiveError,
    message: /rank 0/,
  },
  ...sizeRows('ReLU', 'maxValue', (v) => new L.ReLU({ maxValue: bad(v) }), [
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '6',
  ]),
  ...sizeRows('ReLU', 'negativeSlope', (v) => new L.ReLU({ negativeSlope: bad(v) }), [
    -0.1,
    Number.NaN,
    Number.NEGATIVE_INFINITY,
  ]),
  {
    layer: 'ReLU',
    what: 'a plain array instead of a tensor',
    kind: 'apply',
    run: () => new L.ReLU().apply(bad([1, -1])),
    error: rc.ReceptiveError,
  },
  ...sizeRows('Dropout', 'rate', (v) => new L.Dropout({ rate: bad(v) }), [
    1,
    -0.1,
    1.5,
    Number.NaN,
    '0.5',
    undefined,
  ]),
  ...sizeRows('Dropout', 'seed', (v) => new L.Dropout({ rate: 0.5, seed: bad(v) }), [
    1.5,
    Number.NaN,
    '7',
  ]),
  {
    layer: 'Dropout',
    what: 'a plain array instead of a tensor',
    kind: 'apply',
    run: () => new L.Dropout({ rate: 0.5 }).apply(bad([1, 2]), { training: true }),
    error: rc.ReceptiveError,
  },

  // ---- activation layers (ONNX import) ---------------------------------------------------------
  ...(['Softmax', 'LogSoftmax'] as const).flatMap((name): Row[] => [
    ...sizeRows(name, 'axis', (v) => new L[name]({ axis: bad(v) }), [1.5, Number.NaN, '1']),
    {
      layer: name,
      what: 'an axis the input does not have',
      kind: 'apply',
      run: () => new L[name]({ axis: 3 }).apply(z(2, 5)),
      error: rc.ReceptiveError,
      message: /axis 3/,
    },
  ]),
  ...sizeRows('ELU', 'alpha', (v) => new L.ELU({ alpha: bad(v) }), [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '1',
  ]),
  ...sizeRows('Clip', 'min', (v) => new L.Clip({ min: bad(v) }), [Number.NaN, '0']),
  ...sizeRows('Clip', 'max', (v) => new L.Clip({ max: bad(v) }), [Number.POSITIVE_INFINITY]),
  {
    layer: 'Clip',
    what: 'min above max',
    kind: 'construct',
    run: () => new L.Clip({ min: 6, max: 0 }),
    error: ARG,
    message: /min \(6\) is above max \(0\)/,
  },
  ...sizeRows('HardSigmoid', 'alpha', (v) => new L.HardSigmoid({ alpha: bad(v) }), [Number.NaN]),
  ...sizeRows('HardSigmoid', 'beta', (v) => new L.HardSigmoid({ beta: bad(v) }), ['0.5']),
  ...(['HardSwish', 'Softplus'] as const).map(
    (name): Row => ({
      layer: name,
      what: 'an argument it does not take',
      kind: 'construct',
      run: () => new L[name](bad({ alpha: 1 })),
      error: ARG,
      message: /unknown option 'alpha'/,
    }),
  ),
  ...(['ELU', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus', 'PReLU'] as const).map(
    (name): Row => ({
      layer: name,
      what: 'a plain array instead of a tensor',
      kind: 'apply',
      run: () => new L[name]().apply(bad([1, -1])),
      error: rc.ReceptiveError,
    }),
  ),
  ...sizeRows('PReLU', 'alphaShape', (v) => new L.PReLU({ alphaShape: bad(v) }), [
    [0],
    [1.5],
    [Number.NaN],
  ]),
  {
    layer: 'PReLU',
    what: 'slopes that do not broadcast against the input',
    kind: 'apply',
    run: () => new L.PReLU({ alphaShape: [3] }).apply(z(1, 4, 4, 5)),
    error: rc.ReceptiveError,
    message: /5/,
  },

  // ---- tensor layers (ONNX import) --------------------------------------------------------------
  ...sizeRows('Permute', 'dims', (v) => new L.Permute({ dims: bad(v) }), [
    [1, 1, 2],
    [0, 1, 2],
    [1.5],
    '1,2',
  ]),
  {
    layer: 'Permute',
    what: 'dims for another rank',
    kind: 'apply',
    run: () => new L.Permute({ dims: [3, 1, 2] }).apply(z(2, 5)),
    error: rc.ReceptiveError,
    shapes: [[2, 5]],
  },
  ...sizeRows('Slice', 'begin', (v) => new L.Slice({ begin: bad(v), size: [1] }), [
    [-1],
    [1.5],
    [0, 0],
  ]),
  {
    layer: 'Slice',
    what: 'a box outside the input',
    kind: 'apply',
    run: () => new L.Slice({ begin: [3], size: [4] }).apply(z(2, 5)),
    error: rc.ReceptiveError,
    shapes: [[2, 5]],
  },
  ...sizeRows(
    'ConstantArithmetic',
    'op',
    (v) => new L.ConstantArithmetic({ op: bad(v), constantShape: [1] }),
    ['pow', undefined],
  ),
  ...sizeRows(
    'ConstantArithmetic',
    'constantShape',
    (v) => new L.ConstantArithmetic({ op: 'add', constantShape: bad(v) }),
    [[0], [1.5], 'x'],
  ),
  {
    layer: 'ConstantArithmetic',
    what: 'a constant that does not broadcast against the input',
    kind: 'apply',
    run: () => new L.ConstantArithmetic({ op: 'add', constantShape: [4] }).apply(z(2, 3)),
    error: rc.ReceptiveError,
    message: /\(4,\)/,
  },

  // ---- merge ------------------------------------------------------------------------------------
  ...(['Add', 'Multiply', 'Subtract', 'Maximum', 'Minimum', 'Divide', 'Power'] as const).flatMap(
    (name): Row[] => [
      {
        layer: name,
        what: 'shapes that do not broadcast',
        kind: 'apply',
        run: () => new L[name]().apply([z(2, 3), z(2, 4)]),
        error: SHAPE,
        shapes: [
          [2, 3],
          [2, 4],
        ],
      },
      {
        layer: name,
        what: 'symbolic shapes that do not broadcast',
        kind: 'apply',
        run: () => new L[name]().apply([input(4, 4, 8), input(4, 4, 3)]),
        error: SHAPE,
        shapes: [
          [null, 4, 4, 8],
          [null, 4, 4, 3],
        ],
      },
      {
        layer: name,
        what: 'one tensor, not a list',
        kind: 'apply',
        run: () => new L[name]().apply(z(2, 3)),
        error: ARG,
      },
      {
        layer: name,
        what: 'NaN inputShape',
        kind: 'construct',
        run: () => new L[name]({ inputShape: [Number.NaN] }),
        error: ARG,
        message: /inputShape/,
      },
    ],
  ),
  ...(['Subtract', 'Divide', 'Power'] as const).map(
    (name): Row => ({
      layer: name,
      what: 'three inputs',
      kind: 'apply',
      run: () => new L[name]().apply([z(2, 3), z(2, 3), z(2, 3)]),
      error: ARG,
      message: /exactly two inputs, got 3/,
    }),
  ),
  ...sizeRows('Concatenate', 'axis', (v) => new L.Concatenate({ axis: bad(v) }), [
    1.5,
    Number.NaN,
    '1',
  ]),
  {
    layer: 'Concatenate',
    what: 'axis out of range',
    kind: 'apply',
    run: () => new L.Concatenate({ axis: 3 }).apply([z(2, 3), z(2, 3)]),
    error: ARG,
    message: /axis 3/,
  },
  {
    layer: 'Concatenate',
    what: 'shapes that differ off the axis',
    kind: 'apply',
    run: () => new L.Concatenate().apply([z(2, 4, 3), z(2, 5, 3)]),
    error: SHAPE,
    shapes: [
      [2, 4, 3],
      [2, 5, 3],
    ],
  },
  {
    layer: 'Concatenate',
    what: 'ranks that differ, symbolic',
    kind: 'apply',
    run: () => new L.Concatenate().apply([input(4, 3), input(4, 4, 3)]),
    error: SHAPE,
    shapes: [
      [null, 4, 3],
      [null, 4, 4, 3],
    ],
  },

  // ---- normalization ----------------------------------------------------------------------------
  ...sizeRows(
    'BatchNormalization',
    'momentum',
    (v) => new L.BatchNormalization({ momentum: bad(v) }),
    [1, -0.1, Number.NaN, '0.9'],
  ),
  ...sizeRows(
    'BatchNormalization',
    'epsilon',
    (v) => new L.BatchNormalization({ epsilon: bad(v) }),
    [0, -1e-3, Number.NaN, Number.POSITIVE_INFINITY],
  ),
  ...sizeRows('BatchNormalization', 'center', (v) => new L.BatchNormalization({ center: bad(v) }), [
    'false',
    0,
  ]),
  ...sizeRows('BatchNormalization', 'scale', (v) => new L.BatchNormalization({ scale: bad(v) }), [
    'false',
    1,
  ]),
  {
    layer: 'BatchNormalization',
    what: 'rank-1 input',
    kind: 'apply',
    run: () => new L.BatchNormalization().apply(z(4)),
    error: SHAPE,
    shapes: [[4]],
  },
  ...channelRows('BatchNormalization', () => new L.BatchNormalization(), 5),
  {
    layer: 'BatchNormalization',
    what: 'built on 3 channels, called on 4 (training)',
    kind: 'apply',
    run: afterBuild(
      () => new L.BatchNormalization(),
      z(2, 5, 5, 3),
      (l) => l.apply(z(2, 5, 5, 4), { training: true }),
    ),
    error: SHAPE,
    shapes: [[2, 5, 5, 4]],
    message: /3/,
  },
  ...sizeRows(
    'LocalResponseNormalization',
    'depthRadius',
    (v) => new L.LocalResponseNormalization({ depthRadius: bad(v) }),
    [-1, 1.5, Number.NaN],
  ),
  ...(['bias', 'alpha', 'beta'] as const).flatMap((k) =>
    sizeRows(
      'LocalResponseNormalization',
      k,
      (v) => new L.LocalResponseNormalization({ [k]: bad(v) }),
      [Number.NaN, Number.POSITIVE_INFINITY, '1'],
      rc.NonFiniteError,
    ),
  ),
  {
    layer: 'LocalResponseNormalization',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.LocalResponseNormalization().apply(z(4, 4, 8)),
    error: SHAPE,
    shapes: [[4, 4, 8]],
  },
  {
    layer: 'LocalResponseNormalization',
    what: 'rank-2 symbolic input',
    kind: 'apply',
    run: () => new L.LocalResponseNormalization().apply(input(8)),
    error: SHAPE,
    shapes: [[null, 8]],
  },

  // ---- blocks -----------------------------------------------------------------------------------
  ...sizeRows(
    'InceptionModule',
    'filters3x3',
    (v) =>
      new L.InceptionModule({
        filters1x1: 2,
        filters3x3Reduce: 2,
        filters3x3: bad(v),
        filters5x5Reduce: 2,
        filters5x5: 2,
        poolProjection: 2,
      }),
  ),
  {
    layer: 'InceptionModule',
    what: "activation 'relux'",
    kind: 'construct',
    run: () =>
      new L.InceptionModule({
        filters1x1: 2,
        filters3x3Reduce: 2,
        filters3x3: 2,
        filters5x5Reduce: 2,
        filters5x5: 2,
        poolProjection: 2,
        activation: bad('relux'),
      }),
    error: ARG,
    message: /relux/,
  },
  ...(() => {
    const make = () =>
      new L.InceptionModule({
        filters1x1: 2,
        filters3x3Reduce: 2,
        filters3x3: 2,
        filters5x5Reduce: 2,
        filters5x5: 2,
        poolProjection: 2,
      });
    return [
      {
        layer: 'InceptionModule',
        what: 'rank-3 input',
        kind: 'apply' as const,
        run: () => make().apply(z(6, 6, 3)),
        error: SHAPE,
        shapes: [[6, 6, 3]],
      },
      ...channelRows('InceptionModule', make),
    ];
  })(),
  ...sizeRows('SqueezeExcite', 'ratio', (v) => new L.SqueezeExcite({ ratio: bad(v) }), [
    0,
    -4,
    1.5,
    Number.NaN,
  ]),
  {
    layer: 'SqueezeExcite',
    what: 'rank-2 input',
    kind: 'apply',
    run: () => new L.SqueezeExcite({ ratio: 2 }).apply(z(2, 8)),
    error: SHAPE,
    shapes: [[2, 8]],
  },
  ...channelRows('SqueezeExcite', () => new L.SqueezeExcite({ ratio: 2 })),
  ...sizeRows('CBAM', 'ratio', (v) => new L.CBAM({ ratio: bad(v) }), [0, 1.5, Number.NaN]),
  ...sizeRows('CBAM', 'kernelSize', (v) => new L.CBAM({ kernelSize: bad(v) }), [
    0,
    -3,
    2.5,
    Number.NaN,
  ]),
  {
    layer: 'CBAM',
    what: 'rank-3 input',
    kind: 'apply',
    run: () => new L.CBAM({ ratio: 2 }).apply(z(6, 6, 4)),
    error: SHAPE,
    shapes: [[6, 6, 4]],
  },
  ...channelRows('CBAM', () => new L.CBAM({ ratio: 1, kernelSize: 3 })),
];

/** The message with shapes written one way: [1,5,5,3] (None → null, parentheses → brackets). */
function normalize(message: string): string {
  return message
    .replace(/\s+/g, '')
    .replace(/None/g, 'null')
    .replace(/\(/g, '[')
    .replace(/\)/g, ']')
    .replace(/,\]/g, ']');
}

for (const row of rows) {
  test(`${row.layer}: ${row.what}`, () => {
    assert.throws(row.run, (e: unknown) => {
      assert.ok(
        e instanceof row.error,
        `expected ${row.error.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      const msg = (e as Error).message;
      assert.ok(msg.includes(row.layer), `the message names ${row.layer}: ${msg}`);
      for (const s of row.shapes ?? []) {
        const want = `[${s.map(String).join(',')}]`;
        assert.ok(normalize(msg).includes(want), `the message shows the shape ${want}: ${msg}`);
      }
      if (row.message) assert.match(msg, row.message);
      return true;
    });
  });
}

test('every layer class in rc.layers has rows: a bad constructor and a bad application', () => {
  const classes = Object.entries(L)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof rc.Layer)
    .map(([k]) => k);
  assert.ok(classes.length >= 25, `found ${classes.length} layer classes`);
  const missing: string[] = [];
  for (const name of classes) {
    for (const kind of ['construct', 'apply'] as const) {
      if (!rows.some((r) => r.layer === name && r.kind === kind)) missing.push(`${name} (${kind})`);
    }
  }
  assert.deepEqual(missing, [], 'layer classes without rows');
});
