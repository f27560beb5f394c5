/**
 * `receptive train cifar-speedrun --dataset DIR`: rc.recipes.cifarSpeedrun (airbench94's
 * recipe) on CIFAR-10 or a folder of 32×32 images, a line per epoch, then the test accuracy
 * with test-time augmentation and the wall time, data loading included.
 */
import { setBackend } from '../backend/registry.js';
import { cifarSpeedrun } from '../recipes/cifar_speedrun.js';
import { checkDataArgs, loadDataset } from './datasets.js';

/** The arguments `train cifar-speedrun` takes. */
export interface SpeedrunArgs {
  dataset: string;
  dataDir?: string;
  /** Default: the recipe's 9.9. */
  epochs?: number;
  /** Default: the recipe's 1024. */
  batchSize?: number;
  seed: number;
  backend?: string;
  limit?: number;
  imageSize?: [number, number];
  /** Save the trained model here. */
  out?: string;
}

/** Runs the recipe on --dataset and logs its progress; returns the test accuracy and the wall time. */
export async function trainSpeedrun(
  args: SpeedrunArgs,
  log: (line: string) => void = console.log,
): Promise<{ accuracy: number; seconds: number }> {
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  if (args.backend) await setBackend(args.backend);
  // Options are checked before the data is read.
  const run = cifarSpeedrun({
    ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    seed: args.seed,
  });
  await checkDataArgs(args);
  const data = await loadDataset({ ...args, log });
  log(
    `Data: ${data.name} from ${data.source}: ${data.train.labels.length} training and ${data.test.labels.length} test images (${seconds().toFixed(1)} s)`,
  );
  const s = run.settings;
  log(
    `cifar-speedrun: ${s.epochs} epochs of batch ${s.batchSize}, SGD lr ${run.sgdLearningRate.toFixed(4)} (Nesterov ${s.momentum}, weight decay ${run.sgdWeightDecay.toExponential(3)}) under Lookahead`,
  );
  const result = await run.train(data.train, {
    onEpoch: (e) =>
      log(
        `epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, train accuracy ${(100 * e.accuracy).toFixed(2)}%, ${e.steps} steps, ${e.seconds.toFixed(1)} s`,
      ),
  });
  const ev = await run.evaluate(data.test);
  const total = seconds();
  log(
    `Test accuracy (tta ${s.tta}): ${(100 * ev.accuracy).toFixed(2)}% on ${data.test.labels.length} images; training ${result.seconds.toFixed(1)} s, evaluation ${ev.seconds.toFixed(1)} s, ${total.toFixed(1)} s in all (data loading included)`,
  );
  if (args.out) {
    await run.model.save(args.out);
    log(`Saved the model to ${args.out}`);
  }
  return { accuracy: ev.accuracy, seconds: total };
}
