/** ONNX export. */
export {
  ExportContext,
  OnnxExportError,
  type OnnxExporter,
  onnxExportableLayers,
  registerOnnxExporter,
} from './context.js';
export { encodeOnnx, type OnnxExportOptions } from './export.js';
export { attr, OnnxGraph, type Value as OnnxValue } from './graph.js';
/** ONNX import. */
export {
  importOnnx,
  importOnnxBytes,
  type OnnxImportOptions,
  onnxImportableOps,
} from './import/index.js';
