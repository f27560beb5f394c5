/** Saving and loading models and weights. */
export { writeFileAtomic } from './files.js';
export * from './import/index.js';
export * from './onnx/index.js';
export {
  type DecodeOptions,
  decodeSafetensors,
  type EncodableArray,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './safetensors.js';
export {
  loadModel,
  loadModelFull,
  MODEL_FILE,
  type ModelFile,
  ModelFileError,
} from './save_load.js';
