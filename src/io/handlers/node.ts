/**
 * Where models go in Node.js: directories of the file system, .onnx, .keras and .h5 files to
 * load (converted), and http(s) URLs to load from.
 * src/index.ts imports this; so does the command line, through the loadModel re-exported here.
 */
import { registerModelIOHandler } from '../router.js';
import { directoryHandler } from './directory.js';
import { httpHandler } from './http.js';
import { kerasFileHandler } from './keras_file.js';
import { onnxFileHandler } from './onnx_file.js';

registerModelIOHandler(onnxFileHandler);
registerModelIOHandler(kerasFileHandler);
registerModelIOHandler(directoryHandler);
registerModelIOHandler(httpHandler);

export { loadModel } from '../router.js';
