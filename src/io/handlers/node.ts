/**
 * Where models go in Node.js: directories of the file system, and http(s) URLs to load from.
 * src/index.ts imports this; so does the command line, through the loadModel re-exported here.
 */
import { registerModelIOHandler } from '../router.js';
import { directoryHandler } from './directory.js';
import { httpHandler } from './http.js';

registerModelIOHandler(directoryHandler);
registerModelIOHandler(httpHandler);

export { loadModel } from '../router.js';
