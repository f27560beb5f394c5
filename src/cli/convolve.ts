/**
 * `receptive convolve photo.jpg --kernel sobel-x -o out.png`: one classic kernel (or one given
 * as numbers) over an image, per channel or across channels, with the output size worked out
 * by the formula; `--kernel sobel` draws the Sobel gradient magnitude.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { decodeImage, encodePng } from '../data/image_codec.js';
import { readFileChecked, writeFileAtomic } from '../io/files.js';
import { conv2d, depthwiseConv2d } from '../ops/conv.js';
import type { Padding } from '../ops/conv_geometry.js';
import { add, sqrt, square } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { describePadding, OUTPUT_SIZE_FORMULA, outputSize } from '../vision/explain.js';
import {
  convertChannels,
  imageToTensor,
  type Normalize,
  tensorToImage,
  zoom,
} from '../vision/images.js';
import { acrossChannels, depthwise, sobelX, sobelY } from '../vision/kernels.js';
import { kernelArg, padding, pairOption } from './conv_args.js';

interface ConvolveOptions {
  kernel: string;
  stride: [number, number];
  padding: Padding;
  dilation: [number, number];
  mode: 'per-channel' | 'across';
  grey?: boolean;
  normalize: Normalize | 'auto';
  zoom: number;
  out: string;
}

export function convolveCommand(): Command {
  return new Command('convolve')
    .description('apply a classic kernel (or your own) to a PNG or JPEG image and save the result')
    .argument('<image>', 'a PNG or JPEG file')
    .requiredOption(
      '--kernel <kernel>',
      'a name (sobel-x, sobel-y, edge-vertical, edge-horizontal, box-blur, gaussian-blur, gaussian-5, sharpen, emboss, laplacian, identity; sobel = gradient magnitude) or numbers "[[-1,0,1],[-2,0,2],[-1,0,1]]"',
    )
    .addOption(pairOption('--stride <n>', 'stride'))
    .option('--padding <p>', "'same', 'valid' or a number of pixels", padding, 'valid')
    .addOption(pairOption('--dilation <n>', 'dilation'))
    .addOption(
      new Option(
        '--mode <mode>',
        'per-channel: each channel on its own (depthwise, colour out); across: one kernel over all channels together (grey out)',
      )
        .choices(['per-channel', 'across'])
        .default('per-channel'),
    )
    .option('--grey', 'convert the image to grey first')
    .addOption(
      new Option(
        '--normalize <how>',
        'values to pixels: clip (0..1 → 0..255), minmax (stretch), abs (|v| / max |v|); auto: abs for kernels summing to 0 (edges), else clip',
      )
        .choices(['auto', 'clip', 'minmax', 'abs'])
        .default('auto'),
    )
    .option(
      '--zoom <n>',
      'enlarge the output N times (crisp pixels), for small images',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 64)
          throw new InvalidArgumentError('--zoom must be an integer from 1 to 64.');
        return n;
      },
      1,
    )
    .requiredOption('-o, --out <file>', 'the PNG to write')
    .action(async (image: string, o: ConvolveOptions) => {
      let img = decodeImage(await readFileChecked(image, 'convolve'), { name: image });
      if (o.grey) img = convertChannels(img, 1);
      const x = imageToTensor(img);
      const c = img.channels;
      const magnitude = o.kernel.trim().toLowerCase() === 'sobel';
      const kernels = magnitude
        ? [
            { name: 'sobel-x', tensor: sobelX() },
            { name: 'sobel-y', tensor: sobelY() },
          ]
        : [kernelArg(o.kernel)];
      const opts = { strides: o.stride, padding: o.padding, dilationRate: o.dilation };
      const apply = (k: Tensor) =>
        o.mode === 'across'
          ? conv2d(x, acrossChannels(k, c, { average: true }), opts)
          : depthwiseConv2d(x, depthwise(k, c), opts);
      const [kh, kw] = kernels[0]!.tensor.shape as [number, number];
      const h = outputSize(img.height, kh, o.stride[0], o.dilation[0], o.padding, 0);
      const w = outputSize(img.width, kw, o.stride[1], o.dilation[1], o.padding, 1);
      const stride = o.stride[0] === o.stride[1] ? o.stride[0] : o.stride.join('×');
      const dilation = o.dilation[0] === o.dilation[1] ? o.dilation[0] : o.dilation.join('×');
      console.log(
        `${image}: ${img.height}×${img.width}×${c} (${c === 3 ? 'RGB' : 'grey'}), kernel ${magnitude ? 'sobel (magnitude of sobel-x and sobel-y)' : kernels[0]!.name} ${kh}×${kw}, ` +
          `stride ${stride}, dilation ${dilation}, padding ${describePadding(o.padding, h, w)}, ${o.mode === 'across' ? 'across channels (averaged)' : 'per channel'}`,
      );
      console.log(OUTPUT_SIZE_FORMULA);
      console.log(`  height: ${h.arithmetic}`);
      console.log(`  width:  ${w.arithmetic}`);
      const y = magnitude
        ? sqrt(add(square(apply(kernels[0]!.tensor)), square(apply(kernels[1]!.tensor))))
        : apply(kernels[0]!.tensor);
      const sum = Array.from(kernels[0]!.tensor.dataSync()).reduce((a, b) => a + b, 0);
      const normalize: Normalize =
        o.normalize !== 'auto' ? o.normalize : magnitude || Math.abs(sum) < 1e-6 ? 'abs' : 'clip';
      const out = zoom(tensorToImage(y, { normalize }), o.zoom);
      await writeFileAtomic(o.out, encodePng(out), 'convolve --out');
      const how = {
        clip: 'values 0..1 as 0..255, clipped',
        minmax: 'stretched from the smallest to the largest value',
        abs: '|value| / largest |value|',
      }[normalize];
      console.log(
        `Wrote ${o.out}: ${y.shape[1]}×${y.shape[2]}×${y.shape[3]}${o.zoom > 1 ? ` (shown ${o.zoom}× larger)` : ''}, pixels = ${how} (--normalize ${normalize})`,
      );
    });
}
