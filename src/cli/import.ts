/**
 * `receptive import model.onnx --out DIR`: a model made elsewhere (ONNX, or any format
 * rc.loadModel reads) saved as a receptive model directory, which predict, evaluate,
 * visualize, summary, export and `train --from DIR` (fine-tuning) take like any other.
 */
import { Command, Option } from 'commander';
import { checkWritableDir } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import { outputsProbabilities } from '../model/head.js';
import type { Model } from '../model/model.js';
import { ArgumentError } from '../util/errors.js';

const fmt = (s: readonly (number | null)[]) => `[${s.map((d) => d ?? 'batch').join(', ')}]`;

/** One line about a model: its layers, parameters, input and output, and whether it gives logits. */
export function describeModel(model: Model): string {
  const out = model.outputs[0]!;
  return `${model.layers.length} layers, ${model.countParams().toLocaleString('en-US')} parameters, input ${fmt(model.inputs[0]!.shape)}, output ${fmt(out.shape)} (${outputsProbabilities(model) ? 'probabilities' : 'logits'})`;
}

export function importCommand(): Command {
  return new Command('import')
    .description(
      'import a model made elsewhere (an ONNX file, or any model rc.loadModel reads) as a receptive model directory',
    )
    .argument('<source>', 'the model file, e.g. model.onnx')
    .requiredOption('-o, --out <dir>', 'the model directory to write')
    .addOption(
      new Option(
        '--input-layout <layout>',
        "ONNX only: the input's layout, nhwc (receptive's, the default) or nchw (the file's own)",
      ).choices(['nhwc', 'nchw']),
    )
    .action(async (source: string, o: { out: string; inputLayout?: 'nhwc' | 'nchw' }) => {
      const onnx = /\.onnx$/i.test(source);
      if (o.inputLayout && !onnx)
        throw new ArgumentError(
          `import --input-layout: applies to an .onnx file; ${source} is not one. Leave it out.`,
        );
      const fs = await import('node:fs/promises');
      const path = await import('node:path');
      if (path.resolve(o.out) === path.resolve(source))
        throw new ArgumentError('import --out: give a directory other than the source file.');
      const st = await fs.stat(o.out).catch(() => null);
      if (st && !st.isDirectory())
        throw new ArgumentError(`import --out ${o.out}: is a file; give a directory to write.`);
      // The output folder is checked before a large file is read and converted.
      const undo = await checkWritableDir(o.out, 'import --out');
      let model: Model;
      try {
        if (onnx) {
          const { importOnnx } = await import('../io/onnx/import/index.js');
          model = await importOnnx(source, o.inputLayout ? { inputLayout: o.inputLayout } : {});
        } else model = await loadModel(source);
      } catch (e) {
        await undo();
        throw e;
      }
      await model.save(o.out);
      console.log(`Imported ${source}: ${describeModel(model)}.`);
      console.log(
        `Saved to ${o.out}. Fine-tune it with: receptive train --from ${o.out} --dataset <folder> [--num-classes N] [--freeze body]`,
      );
    });
}
