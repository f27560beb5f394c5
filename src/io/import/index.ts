/** Weights from other frameworks: PyTorch (safetensors), Keras (.weights.h5), TensorFlow.js (model.json). */

export { WeightsMismatchError } from './assign.js';
export { type LoadKerasOptions, loadKerasWeights } from './keras.js';
export {
  decodeTfjsWeights,
  type LoadTfjsOptions,
  loadTfjsWeights,
  type TfjsArtifacts,
  type TfjsWeightSpec,
} from './tfjs.js';
export {
  exportTorchWeights,
  type LoadTorchOptions,
  loadTorchWeights,
  type TorchWeightsOptions,
  torchWeightNames,
} from './torch.js';
export type { TorchNameMap } from './torch_names.js';
