/** `receptive export DIR --format onnx|torch [-o FILE]`: a saved model for other runtimes. */
import { type Command, Option } from 'commander';
import { writeFileAtomic } from '../io/files.js';
import { loadModel } from '../io/handlers/node.js';
import { exportTorchWeights } from '../io/import/torch.js';
import { encodeOnnx } from '../io/onnx/export.js';
import { positiveInt } from './arg_parsers.js';

const DEFAULT_FILE = { onnx: 'model.onnx', torch: 'model.torch.safetensors' } as const;

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      'export a saved model: ONNX (opset 17, NHWC input; ONNX Runtime, TensorRT ...) or its weights with PyTorch names and layouts (safetensors)',
    )
    .argument('<dir>', 'a model directory (from train --out or model.save)')
    .addOption(
      new Option('--format <format>', 'onnx or torch').choices(['onnx', 'torch']).default('onnx'),
    )
    .option(
      '-o, --out <file>',
      `output file (default DIR/${DEFAULT_FILE.onnx} or DIR/${DEFAULT_FILE.torch})`,
    )
    .option(
      '--batch-size <n>',
      'ONNX only: a fixed batch size instead of a symbolic one',
      positiveInt('--batch-size'),
    )
    .action(
      async (dir: string, o: { format: 'onnx' | 'torch'; out?: string; batchSize?: number }) => {
        const path = await import('node:path');
        const model = await loadModel(dir);
        const out = o.out ?? path.join(dir, DEFAULT_FILE[o.format]);
        const bytes =
          o.format === 'onnx'
            ? encodeOnnx(model, o.batchSize === undefined ? {} : { batchSize: o.batchSize })
            : exportTorchWeights(model);
        await writeFileAtomic(out, bytes, 'export');
        const what =
          o.format === 'onnx'
            ? `ONNX opset 17, input '${model.inputs[0]!.layer.name}' NHWC [${model.inputs[0]!.shape.map((d) => d ?? 'batch').join(', ')}]`
            : 'PyTorch state_dict names and layouts';
        console.log(`wrote ${out} (${(bytes.length / 1e6).toFixed(2)} MB, ${what})`);
      },
    );
}
