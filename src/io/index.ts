/** Saving and loading models and weights. */
export { writeFileAtomic } from './files.js';
export * from './import/index.js';
// loadModel, ModelFileError and the ModelFile type are api.ts's (every entry has them).
export { type LoadedModel, MODEL_FILE } from './model_format.js';
export * from './onnx/index.js';
export { loadModelFull } from './router.js';
export {
  type DecodeOptions,
  decodeSafetensors,
  type EncodableArray,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './safetensors.js';
