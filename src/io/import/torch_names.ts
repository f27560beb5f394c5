/**
 * Which PyTorch module holds each layer's weights: torchvision's names for the zoo networks
 * (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc; features.denseblock1.denselayer1.norm1;
 * inception3a.branch2.1.conv ...), torchvision's `features.i` / `classifier.j` for Sequential
 * models (VGG, AlexNet, LeNet), and the layer names themselves ('/' → '.') for other models.
 */

import { Functional } from '../../nn/functional.js';
import type { Layer } from '../../nn/layer.js';
import { CBAM, SqueezeExcite } from '../../nn/layers/attention.js';
import {
  Conv2D,
  Conv2DTranspose,
  DepthwiseConv2D,
  SeparableConv2D,
  SpatialSeparableConv2D,
} from '../../nn/layers/conv.js';
import { Activation, Dense, Flatten, InputLayer } from '../../nn/layers/core.js';
import { InceptionModule } from '../../nn/layers/inception.js';
import { BatchNormalization } from '../../nn/layers/normalization.js';
import { OctaveConv2D } from '../../nn/layers/octave.js';
import { ArgumentError } from '../../util/errors.js';

/** A layer that holds weights directly, and the PyTorch module path its weights go under. */
export interface TorchUnit {
  layer: Layer;
  prefix: string;
  /** For a Dense layer right after a Flatten of [h, w, c] maps: those sizes (PyTorch flattens NCHW). */
  flattenFrom?: [number, number, number];
}

/** Receptive layer name → PyTorch module path, or a function of the name and the default path. */
export type TorchNameMap =
  | Record<string, string>
  | ((layerName: string, defaultPath: string) => string);

/** Layers whose own weights map one to one onto a PyTorch module. */
const LEAVES = [
  Conv2D,
  DepthwiseConv2D,
  SeparableConv2D,
  Conv2DTranspose,
  SpatialSeparableConv2D,
  Dense,
  BatchNormalization,
  OctaveConv2D,
];
export const isLeaf = (l: Layer) => LEAVES.some((cls) => l instanceof cls);

/** The sublayers of the composite layers, in their weight order. */
function sublayersOf(l: Layer): Layer[] | null {
  if (l instanceof SqueezeExcite) return [l.reduce!, l.expand!];
  if (l instanceof CBAM) return [l.mlpReduce!, l.mlpExpand!, l.spatialConv!];
  if (l instanceof InceptionModule)
    return [
      l.branch1x1,
      l.branch3x3Reduce,
      l.branch3x3,
      l.branch5x5Reduce,
      l.branch5x5,
      l.branchPoolProj,
    ].flatMap((u) => (u.bn ? [u.conv, u.bn] : [u.conv]));
  if (l instanceof Functional) return l.layers;
  return null;
}

type Rule = [RegExp, (m: RegExpMatchArray) => string];
const minus1 = (s: string) => String(Number(s) - 1);

/** torchvision's names for the functional zoo networks, from receptive's layer names. */
const ARCHITECTURES: Record<string, Rule[]> = {
  resnet: [
    [/^stem_conv$/, () => 'conv1'],
    [/^stem_bn$/, () => 'bn1'],
    [/^stage(\d+)_block(\d+)_(\d)_conv$/, (m) => `layer${m[1]}.${minus1(m[2]!)}.conv${m[3]}`],
    [/^stage(\d+)_block(\d+)_(\d)_bn$/, (m) => `layer${m[1]}.${minus1(m[2]!)}.bn${m[3]}`],
    [/^stage(\d+)_block(\d+)_down_conv$/, (m) => `layer${m[1]}.${minus1(m[2]!)}.downsample.0`],
    [/^stage(\d+)_block(\d+)_down_bn$/, (m) => `layer${m[1]}.${minus1(m[2]!)}.downsample.1`],
    [/^fc$/, () => 'fc'],
  ],
  densenet: [
    [/^stem_conv$/, () => 'features.conv0'],
    [/^stem_bn$/, () => 'features.norm0'],
    [/^block(\d+)_layer(\d+)_a_bn$/, (m) => `features.denseblock${m[1]}.denselayer${m[2]}.norm1`],
    [/^block(\d+)_layer(\d+)_conv1$/, (m) => `features.denseblock${m[1]}.denselayer${m[2]}.conv1`],
    [/^block(\d+)_layer(\d+)_b_bn$/, (m) => `features.denseblock${m[1]}.denselayer${m[2]}.norm2`],
    [/^block(\d+)_layer(\d+)_conv2$/, (m) => `features.denseblock${m[1]}.denselayer${m[2]}.conv2`],
    [/^transition(\d+)_bn$/, (m) => `features.transition${m[1]}.norm`],
    [/^transition(\d+)_conv$/, (m) => `features.transition${m[1]}.conv`],
    [/^final_bn$/, () => 'features.norm5'],
    [/^fc$/, () => 'classifier'],
  ],
  googlenet: [
    [/^conv(\d)_conv$/, (m) => `conv${m[1]}.conv`],
    [/^conv(\d)_bn$/, (m) => `conv${m[1]}.bn`],
    [
      /^inception_(\w+)\/(1x1|3x3_reduce|3x3|5x5_reduce|5x5|pool_proj)(_bn)?$/,
      (m) => {
        const branch = {
          '1x1': 'branch1',
          '3x3_reduce': 'branch2.0',
          '3x3': 'branch2.1',
          '5x5_reduce': 'branch3.0',
          '5x5': 'branch3.1',
          pool_proj: 'branch4.1',
        }[m[2]!];
        return `inception${m[1]}.${branch}.${m[3] ? 'bn' : 'conv'}`;
      },
    ],
    [/^aux(\d)_conv_conv$/, (m) => `aux${m[1]}.conv.conv`],
    [/^aux(\d)_conv_bn$/, (m) => `aux${m[1]}.conv.bn`],
    [/^aux(\d)_fc(\d)$/, (m) => `aux${m[1]}.fc${m[2]}`],
    [/^fc$/, () => 'fc'],
  ],
};

function applyRules(rules: Rule[], name: string): string | null {
  for (const [re, fn] of rules) {
    const m = name.match(re);
    if (m) return fn(m);
  }
  return null;
}

/** The input [h, w, c] of a Flatten feeding this Dense (h·w > 1), from the model's graph. */
function flattenInput(model: Functional, dense: Dense): [number, number, number] | undefined {
  for (const t of model.graphNodes) {
    if (t.layer !== dense) continue;
    const src = t.inputs[0];
    if (src?.layer instanceof Flatten) {
      const s = src.inputs[0]?.shape;
      if (
        s &&
        s.length === 4 &&
        s.slice(1).every((d) => typeof d === 'number') &&
        (s[1] as number) * (s[2] as number) > 1
      )
        return s.slice(1) as [number, number, number];
    }
  }
  return undefined;
}

/** rc.Sequential is defined above io (src/model/): io knows it by its class name. */
function isSequential(l: Layer): boolean {
  return l.className === 'Sequential';
}

/** Modules PyTorch's nn.Sequential would hold for this layer (an activation is a module of its own). */
function moduleCount(l: Layer): number {
  if (l instanceof InputLayer) return 0;
  const act = (l as { activation?: unknown }).activation;
  if (!(l instanceof Activation) && typeof act === 'string' && act !== 'linear') return 2;
  return 1;
}

/** Sequential: features.i before the Flatten and classifier.j after it (torchvision's VGG, AlexNet); i alone without one. */
function sequentialPaths(model: Functional): Map<Layer, string> {
  const paths = new Map<Layer, string>();
  const stack = model.layers;
  const flat = stack.findIndex((l) => l instanceof Flatten);
  let index = 0;
  let group = flat < 0 ? '' : 'features.';
  stack.forEach((l, i) => {
    if (i === flat) {
      group = 'classifier.';
      index = 0;
      return;
    }
    paths.set(l, `${group}${index}`);
    index += moduleCount(l);
  });
  return paths;
}

/** Every weight-holding layer with its PyTorch module path, in the model's order. */
export function torchUnits(model: Functional, nameMap?: TorchNameMap): TorchUnit[] {
  const leaves: { layer: Layer; path: string; owner: Functional }[] = [];
  const visit = (l: Layer, path: string, owner: Functional) => {
    if (isLeaf(l)) {
      leaves.push({ layer: l, path, owner });
      return;
    }
    const subs = sublayersOf(l);
    if (subs === null) {
      if (l.weights.length > 0)
        throw new ArgumentError(
          `torch weights: ${l.label} has weights but no PyTorch mapping (known: ${LEAVES.map((c) => c.className).join(', ')} and the blocks made of them).`,
        );
      return;
    }
    if (l instanceof Functional) {
      const paths = isSequential(l) ? sequentialPaths(l) : null;
      for (const s of subs) {
        const own = paths?.get(s) ?? s.name.replace(/\//g, '.');
        visit(s, path ? `${path}.${own}` : own, l);
      }
      return;
    }
    for (const s of subs) {
      const suffix = s.name.startsWith(`${l.name}/`) ? s.name.slice(l.name.length + 1) : s.name;
      visit(s, `${path}.${suffix.replace(/\//g, '.')}`, owner);
    }
  };
  visit(model, '', model);
  // The functional zoo networks get torchvision's names when every layer has one.
  if (!isSequential(model)) {
    for (const rules of Object.values(ARCHITECTURES)) {
      const named = leaves.map((u) => applyRules(rules, u.layer.name));
      if (named.every((n) => n !== null)) {
        named.forEach((n, i) => {
          leaves[i]!.path = n!;
        });
        break;
      }
    }
  }
  return leaves.map(({ layer, path, owner }) => {
    let prefix = path;
    if (typeof nameMap === 'function') prefix = nameMap(layer.name, path);
    else if (nameMap && Object.hasOwn(nameMap, layer.name)) prefix = nameMap[layer.name]!;
    const flattenFrom = layer instanceof Dense ? flattenInput(owner, layer) : undefined;
    return { layer, prefix, ...(flattenFrom ? { flattenFrom } : {}) };
  });
}
