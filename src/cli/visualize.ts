/**
 * `receptive visualize DIR image.png --layer conv2d -o maps.png`: pictures of a saved model.
 * Feature maps of a layer for an image (the default), `--filters` (a grid of a convolution's
 * filters, the first one by default), or `--receptive-field row,col` (the input pixels that a
 * unit of the layer sees, drawn on the image).
 */
import { Command, InvalidArgumentError } from 'commander';
import { encodePng, type RawImage } from '../data/image_codec.js';
import { writeFileAtomic } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError, fmtShape } from '../util/errors.js';
import { firstConvLayer, spatialLayerNames } from '../vision/model_graph.js';
import { featureMaps, filterGrid } from '../vision/pictures.js';
import { drawReceptiveField, receptiveField } from '../vision/receptive_field.js';
import { position } from './conv_args.js';
import { readModelImage } from './model_image.js';

interface VisualizeOptions {
  layer?: string;
  filters?: boolean;
  receptiveField?: [number, number];
  out: string;
  scale?: number;
  columns?: number;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return n;
};

export function visualizeCommand(): Command {
  return new Command('visualize')
    .description("pictures of a saved model: a layer's feature maps, filters, receptive field")
    .argument('<dir>', 'a model directory (from train --out or model.save)')
    .argument('[image]', 'a PNG or JPEG (needed for feature maps)')
    .option('--layer <name>', 'the layer (default: the first convolution)')
    .option('--filters', "draw the layer's filters (its kernel) instead of feature maps")
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
      if (o.filters) {
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
