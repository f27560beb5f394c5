/**
 * receptive: convolutional neural networks, end to end, in TypeScript.
 * The whole public API for Node: everything of api.ts, plus the native backend, the file
 * loaders, saving and loading, ONNX export, image codecs, charts and reports.
 */
// fit()'s live progress bar in a terminal (the browser entry leaves it out: no terminal there).
import './train/terminal_bar.js';

export * from './api.js';
// Registers the 'native' backend (a C++ addon, optional) and makes it the default where it loads.
export { nativeBackendStatus } from './backend/native/register.js';
export * as data from './data/index.js';
export * from './io/index.js';

// rc.loadModel and model.save: directories of the file system, and http(s) URLs.
import './io/handlers/node.js';

export * as vision from './vision/index.js';
