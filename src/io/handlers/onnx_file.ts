/**
 * rc.loadModel('model.onnx') in Node: an ONNX file, converted whole by importOnnx (its layers
 * become receptive layers, taking NHWC input). Registered before the directory handler, which
 * takes every path without a scheme.
 */
import { hasScheme, type ModelIOHandler } from '../router.js';

export const onnxFileHandler: ModelIOHandler = {
  description: 'an .onnx file',
  matches: (target) => !hasScheme(target) && /\.onnx$/i.test(target),
  async convert(source, options) {
    // The importer (and protobufjs) load on first use, as ONNX export's encoder does.
    const { importOnnx } = await import('../onnx/import/index.js');
    options.onProgress?.(0);
    const model = await importOnnx(source);
    options.onProgress?.(1);
    return model;
  },
};
