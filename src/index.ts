/**
 * receptive: convolutional neural networks, end to end, in TypeScript.
 * The whole public API for Node: everything of api.ts, plus the file loaders, saving and
 * loading, ONNX export, image codecs, charts and reports.
 */
export * from './api.js';
export * as data from './data/index.js';
export * from './io/index.js';
export * as vision from './vision/index.js';
