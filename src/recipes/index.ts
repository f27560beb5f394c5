/** Complete training recipes written with the public API: `rc.recipes`. */

export { type SymmetricEigen, symmetricEigen } from '../util/eigen.js';
export {
  CIFAR10_MEAN,
  CIFAR10_STD,
  type CifarSpeedrun,
  type CifarSpeedrunOptions,
  type CifarSpeedrunSettings,
  cifarSpeedrun,
  diracInit,
  type SpeedrunEpoch,
  type SpeedrunEvaluateOptions,
  type SpeedrunEvaluation,
  type SpeedrunTrainOptions,
  type SpeedrunTrainResult,
} from './cifar_speedrun.js';
export {
  type FloatImages,
  patchCovariance,
  type WhiteningKernel,
  whiteningKernel,
} from './patch_whitening.js';
