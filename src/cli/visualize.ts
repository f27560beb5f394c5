/**
 * `receptive visualize DIR image.png --layer conv2d -o maps.png`: pictures of a saved model.
 * Feature maps of a layer for an image (the default), `--filters` (a grid of a convolution's
 * filters, the first one by default), or `--receptive-field row,col` (the input pixels that a
 * unit of the layer sees, drawn on the image), or `--maximize LAYER` (the images that most
 * excite the layer's filters, synthesized by gradient ascent, with each filter's activation at
 * the start and the end).
 */
import { Command } from 'commander';
import { encodePng, type RawImage } from '../data/image_codec.js';
import { writeFileAtomic } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape } from '../util/errors.js';
import { type MaximizeOptions, maximizeActivation } from '../vision/maximize.js';
import { firstConvLayer, spatialLayerNames } from '../vision/model_graph.js';
import { featureMaps, filterGrid } from '../vision/pictures.js';
import { drawReceptiveField, receptiveField } from '../vision/receptive_field.js';
import { nonNegativeInt, positiveInt } from './arg_parsers.js';
import { position } from './conv_args.js';
import { readModelImage } from './model_image.js';

interface VisualizeOptions {
  layer?: string;
  filters?: boolean | string;
  maximize?: string;
  class?: number;
  steps?: number;
  objective?: string;
  receptiveField?: [number, number];
  out: string;
  scale?: number;
  columns?: number;
}

/** `--filters 0,3,5` or `all` as maximizeActivation's filter option. */
function filterList(v: string | boolean | undefined): number[] | 'all' | undefined {
  if (v === undefined || v === true) return undefined;
  if (v === 'all') return 'all';
  const list = String(v).split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 0))
    throw new ArgumentError(
      `visualize --filters: ${JSON.stringify(v)} is not a list of filter numbers; give 0,1,2 or all.`,
    );
  return list;
}

/** The `visualize` command. */
export function visualizeCommand(): Command {
  return new Command('visualize')
    .description("pictures of a saved model: a layer's feature maps, filters, receptive field")
    .argument('<dir>', 'a model directory (from train --out or model.save)')
    .argument('[image]', 'a PNG or JPEG (needed for feature maps)')
    .option('--layer <name>', 'the layer (default: the first convolution)')
    .option(
      '--filters [list]',
      "draw the layer's filters (its kernel) instead of feature maps; with --maximize: which filters, 0,1,... or all (default: the first 16)",
    )
    .option(
      '--maximize <layer>',
      "synthesize the images that most excite the layer's filters (activation maximization), as a grid",
    )
    .option(
      '--class <k>',
      "with --maximize: the class whose score is raised instead of a layer's filters (give --maximize output)",
      nonNegativeInt('--class'),
    )
    .option(
      '--steps <n>',
      'with --maximize: gradient-ascent steps (default 128)',
      positiveInt('--steps'),
    )
    .option(
      '--objective <what>',
      "with --maximize: 'mean' (each filter's mean over its feature map, the default) or 'centre' (its unit at the centre of the map)",
    )
    .option(
      '--receptive-field <row,col>',
      "draw the input region that the layer's unit at row,col sees",
      position('--receptive-field'),
    )
    .option('--scale <n>', 'pixels per value in the grid cells', positiveInt('--scale'))
    .option('--columns <n>', 'cells per row of the grid', positiveInt('--columns'))
    .requiredOption('-o, --out <file>', 'the PNG to write')
    .action(async (dir: string, image: string | undefined, o: VisualizeOptions) => {
      const model = await loadModel(dir);
      const grid = {
        ...(o.scale ? { scale: o.scale } : {}),
        ...(o.columns ? { columns: o.columns } : {}),
      };
      const layerName = o.layer ?? firstConvLayer(model).name;
      let picture: RawImage;
      if (o.maximize !== undefined) {
        const byClass = o.class !== undefined;
        if (byClass && o.maximize !== 'output')
          throw new ArgumentError(
            "visualize --class raises a class's score; give --maximize output with it, or leave --class out to maximize a layer's filters.",
          );
        const filter = filterList(o.filters);
        const r = await maximizeActivation(model, {
          ...(byClass ? { classIndex: o.class } : { layer: o.maximize }),
          ...(filter === undefined || byClass ? {} : { filter }),
          ...(o.steps ? { steps: o.steps } : {}),
          ...(o.objective !== undefined
            ? { objective: o.objective as MaximizeOptions['objective'] }
            : {}),
        });
        picture = r.picture;
        const what = byClass ? 'class' : `${o.maximize} filter`;
        console.log(
          `${byClass ? 'class score (logit)' : `${o.maximize}: ${o.objective === 'centre' ? 'centre unit' : 'mean activation'} of each filter`}, at the start and after ${o.steps ?? 128} steps of gradient ascent:`,
        );
        r.targets.forEach((t, i) => {
          const s = r.start[i]!;
          const e = r.end[i]!;
          console.log(
            r.skipped.includes(t)
              ? `  ${what} ${t}: dead (0 at every start, no gradient), skipped`
              : `  ${what} ${t}: ${s.toFixed(3)} -> ${e.toFixed(3)}` +
                  (s > 0 ? ` (×${(e / s).toFixed(1)})` : ''),
          );
        });
      } else if (o.class !== undefined || o.steps !== undefined || o.objective !== undefined) {
        throw new ArgumentError('visualize --class, --steps and --objective go with --maximize.');
      } else if (typeof o.filters === 'string') {
        throw new ArgumentError(
          `visualize --filters ${o.filters}: a list of filters goes with --maximize; to draw the kernel, give --filters alone (the image, if any, before it).`,
        );
      } else if (o.filters) {
        const layer = model.getLayer(layerName);
        const kernel = (layer as { kernel?: Tensor }).kernel;
        if (kernel?.rank !== 4)
          throw new ArgumentError(
            `layer '${layerName}' (${layer.className}) has no convolution kernel; pick a Conv2D layer.`,
          );
        picture = filterGrid(kernel, grid);
        const [kh, kw, cin, cout] = kernel.shape;
        console.log(
          `${layerName}: kernel ${fmtShape(kernel.shape)} (HWIO): ${cout} filters of ${kh}×${kw}×${cin}` +
            (cin === 3 ? ', drawn in colour' : cin === 1 ? '' : `, one row per input channel`),
        );
      } else if (o.receptiveField) {
        const img = image ? (await readModelImage(model, image, 'visualize')).image : undefined;
        const rf = receptiveField(model, layerName, o.receptiveField, {
          ...(img ? { image: img } : {}),
          ...(o.scale ? { scale: o.scale } : {}),
        });
        const [r, c] = rf.position;
        const b = rf.box;
        const s = rf.inImage;
        for (const step of rf.steps)
          console.log(
            `  ${step.layer.padEnd(22)} ${step.className.padEnd(18)} window ${step.span.join('×')}, stride ${step.stride.join('×')}: field ${step.size.join('×')}, jump ${step.jump.join('×')}`,
          );
        console.log(
          `${layerName} unit (${r},${c}): receptive field ${rf.size[0]}×${rf.size[1]} (rows ${b.top}..${b.bottom}, columns ${b.left}..${b.right}), jump ${rf.jump.join('×')}`,
        );
        if (s.top !== b.top || s.bottom !== b.bottom || s.left !== b.left || s.right !== b.right)
          console.log(
            `  inside the ${rf.inputSize.join('×')} image (the rest is padding): rows ${s.top}..${s.bottom}, columns ${s.left}..${s.right}`,
          );
        picture = rf.picture ?? drawReceptiveField(rf);
      } else {
        if (!image)
          throw new ArgumentError(
            'feature maps need an image: receptive visualize DIR image.png --layer NAME -o maps.png (or --filters).',
          );
        const { x } = await readModelImage(model, image, 'visualize');
        const { maps, picture: p } = featureMaps(model, x, layerName, grid);
        picture = p;
        console.log(
          `${layerName}: output ${fmtShape(maps.shape)}, ${maps.shape[3]} feature maps (each stretched from its smallest to its largest value)`,
        );
        console.log(`  layers with feature maps: ${spatialLayerNames(model).join(', ')}`);
      }
      await writeFileAtomic(o.out, encodePng(picture), 'visualize --out');
      console.log(`Wrote ${o.out} (${picture.width}×${picture.height})`);
    });
}
