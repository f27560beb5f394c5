/**
 * `receptive explain-conv --image "[[2,4,1],[5,9,7],[3,8,6]]" --kernel "[[-1,0,1],[-1,2,2],[0,1,-1]]"`:
 * a small convolution written out term by term, as the course notes do it, with the
 * output-size arithmetic.
 */
import { Command } from 'commander';
import type { Padding } from '../ops/conv_geometry.js';
import { explainConv } from '../vision/explain.js';
import { kernelArg, matrix, padding, pairOption, position } from './conv_args.js';

export function explainConvCommand(): Command {
  return new Command('explain-conv')
    .description(
      'write out a small 2-D convolution: each multiply-accumulate term and the output size',
    )
    .requiredOption(
      '--image <rows>',
      'the image as rows of numbers, e.g. "[[2,4,1],[5,9,7],[3,8,6]]"',
      matrix('--image'),
    )
    .requiredOption(
      '--kernel <kernel>',
      'rows of numbers, e.g. "[[-1,0,1],[-1,2,2],[0,1,-1]]", or a kernel name (sobel-x, edge-vertical, ...)',
    )
    .option(
      '--at <row,col>',
      'the output position to write out (default: all, up to 9)',
      position('--at'),
    )
    .addOption(pairOption('--stride <n>', 'stride'))
    .option('--padding <p>', "'same', 'valid' or a number of pixels", padding, 'valid')
    .addOption(pairOption('--dilation <n>', 'dilation'))
    .action(
      (o: {
        image: number[][];
        kernel: string;
        at?: [number, number];
        stride: [number, number];
        padding: Padding;
        dilation: [number, number];
      }) => {
        const { text } = explainConv(o.image, kernelArg(o.kernel).values, {
          strides: o.stride,
          padding: o.padding,
          dilationRate: o.dilation,
          ...(o.at ? { at: o.at } : {}),
        });
        console.log(text);
      },
    );
}
