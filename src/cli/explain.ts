/**
 * `receptive explain DIR image.png --method gradcam -o out.png`: why a saved model answered as
 * it did. Prints the top classes and the class explained, and writes each image beside its heat
 * map (Grad-CAM, Grad-CAM++, saliency, SmoothGrad, integrated gradients or occlusion) in one row.
 */
import { Command, Option } from 'commander';
import { encodePng, type RawImage } from '../data/image_codec.js';
import { writeFileAtomic } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import type { Model } from '../model/model.js';
import type { Tensor } from '../tensor.js';
import { ArgumentError } from '../util/errors.js';
import { gradCam, integratedGradients, occlusion, saliency } from '../vision/attribution.js';
import { convertChannels } from '../vision/images.js';
import { spatialLayerNames } from '../vision/model_graph.js';
import { tile } from '../vision/pictures.js';
import { positiveInt } from './arg_parsers.js';
import {
  classNames,
  imageInputShape,
  probabilities,
  readModelImage,
  topClassLines,
} from './model_image.js';

/** The methods `--method` takes, as the command line spells them. */
export const EXPLAIN_METHODS = [
  'gradcam',
  'gradcam++',
  'saliency',
  'smoothgrad',
  'integrated-gradients',
  'occlusion',
] as const;

type Method = (typeof EXPLAIN_METHODS)[number];

const TITLES: Record<Method, string> = {
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  saliency: 'saliency',
  smoothgrad: 'SmoothGrad',
  'integrated-gradients': 'integrated gradients',
  occlusion: 'occlusion',
};

interface ExplainCliOptions {
  method: Method;
  layer?: string;
  class?: string;
  classes?: string;
  patch?: number;
  stride?: number;
  scale?: number;
  out: string;
}

/** `--class` as an index: a number in 0..classes-1, or one of the `--classes` names. */
function classArg(v: string, classes: number, names: string[] | undefined): number {
  const byName = names?.indexOf(v) ?? -1;
  if (byName >= 0) return byName;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n >= classes)
    throw new ArgumentError(
      `explain --class: ${JSON.stringify(v)} is not a class of this model; give a number in 0..${classes - 1}` +
        (names ? ` or one of the --classes names (${names.join(', ')}).` : '.'),
    );
  return n;
}

/** The explanation of one image [1, h, w, c] as a picture, the class explained and the Grad-CAM layer. */
async function explainOne(
  model: Model,
  x: Tensor,
  o: ExplainCliOptions,
  classIndex: number | undefined,
): Promise<{ picture: RawImage; classIndex: number; layer?: string }> {
  const cls = classIndex === undefined ? {} : { classIndex };
  switch (o.method) {
    case 'gradcam':
    case 'gradcam++': {
      const r = await gradCam(model, x, {
        ...cls,
        method: o.method,
        ...(o.layer === undefined ? {} : { layer: o.layer }),
      });
      return { picture: r.picture[0]!, classIndex: r.classIndex[0]!, layer: r.layer };
    }
    case 'saliency':
    case 'smoothgrad': {
      const r = await saliency(model, x, { ...cls, smoothGrad: o.method === 'smoothgrad' });
      return { picture: r.picture[0]!, classIndex: r.classIndex[0]! };
    }
    case 'integrated-gradients': {
      const r = await integratedGradients(model, x, cls);
      return { picture: r.picture[0]!, classIndex: r.classIndex[0]! };
    }
    case 'occlusion': {
      const r = await occlusion(model, x, {
        ...cls,
        ...(o.patch === undefined ? {} : { patch: o.patch }),
        ...(o.stride === undefined ? {} : { stride: o.stride }),
      });
      return { picture: r.picture[0]!, classIndex: r.classIndex[0]! };
    }
  }
}

/** The `explain` command. */
export function explainCommand(): Command {
  return new Command('explain')
    .description(
      'why a saved model answered as it did: a heat map of the evidence (Grad-CAM, saliency, integrated gradients, occlusion) over each image',
    )
    .argument('<dir>', 'a model directory (from train --out, import or model.save)')
    .argument('<images...>', 'one or more PNG or JPEG files (drawn in one row)')
    .addOption(
      new Option('--method <name>', 'how the evidence is found')
        .choices(EXPLAIN_METHODS)
        .default('gradcam'),
    )
    .option(
      '--layer <name>',
      'Grad-CAM: the convolution layer whose feature maps are weighed (default: the last one with a spatial output)',
    )
    .option(
      '--class <k>',
      'the class to explain, a number or a --classes name (default: the predicted class of each image)',
    )
    .option(
      '--classes <names>',
      'comma-separated class names (default: the model has them or 0..N-1)',
    )
    .option('--patch <n>', 'occlusion: the grey square side in pixels', positiveInt('--patch'))
    .option('--stride <n>', 'occlusion: how far the square moves', positiveInt('--stride'))
    .option(
      '--scale <n>',
      'pixels per image pixel in the picture (default: about 112 pixels per image)',
      positiveInt('--scale'),
    )
    .requiredOption('-o, --out <file>', 'the PNG to write: each image and its heat map, in a row')
    .action(async (dir: string, images: string[], o: ExplainCliOptions) => {
      const model = await loadModel(dir);
      const [h, w] = imageInputShape(model, 'explain');
      const isCam = o.method === 'gradcam' || o.method === 'gradcam++';
      if (o.layer !== undefined && !isCam)
        throw new ArgumentError(
          `explain --layer: only Grad-CAM weighs a layer (--method gradcam or gradcam++); ${o.method} works on the input. Leave --layer out.`,
        );
      if ((o.patch !== undefined || o.stride !== undefined) && o.method !== 'occlusion')
        throw new ArgumentError(
          'explain --patch and --stride are for --method occlusion; leave them out.',
        );
      if (isCam && spatialLayerNames(model).length === 0)
        throw new ArgumentError(
          `explain: ${TITLES[o.method]} weighs the feature maps of a layer with a spatial output [batch, h, w, c], and this model has none; try --method saliency, integrated-gradients or occlusion.`,
        );
      if (isCam && o.layer !== undefined && !spatialLayerNames(model).includes(o.layer))
        throw new ArgumentError(
          `explain --layer: no layer '${o.layer}' with a spatial output in this model; layers with feature maps: ${spatialLayerNames(model).join(', ')}.`,
        );
      const names = classNames(model, o.classes, 'explain');
      const out = model.outputs[0]!.shape;
      const scored = out[out.length - 1] as number;
      const classIndex = o.class === undefined ? undefined : classArg(o.class, scored, names);
      const scale = o.scale ?? Math.max(1, Math.round(112 / Math.max(h, w)));
      const cells: RawImage[] = [];
      for (const file of images) {
        const { image, x } = await readModelImage(model, file, 'explain');
        const probs = probabilities(model, x);
        const r = await explainOne(model, x, o, classIndex);
        const name = names?.[r.classIndex] ?? String(r.classIndex);
        console.log(`${file}:`);
        for (const line of topClassLines(probs, names, 3)) console.log(`  ${line}`);
        console.log(
          `  ${TITLES[o.method]} of class ${name} (${((probs[r.classIndex] ?? 0) * 100).toFixed(2)}%)` +
            (r.layer ? ` at layer ${r.layer}` : '') +
            (classIndex === undefined ? ', the predicted class' : ''),
        );
        cells.push(image.channels === 3 ? image : convertChannels(image, 3), r.picture);
      }
      const picture = tile(cells, 3, { scale, gutter: 2, columns: cells.length });
      await writeFileAtomic(o.out, encodePng(picture), 'explain --out');
      console.log(`Wrote ${o.out} (${picture.width}×${picture.height})`);
    });
}
