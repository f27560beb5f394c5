/**
 * Where models go in a browser: IndexedDB, the user's downloads, and URLs to load from (an
 * absolute http(s) URL, or one relative to the page). No file system.
 */
import { registerModelIOHandler } from '../router.js';
import { downloadsHandler } from './downloads.js';
import { httpHandler, relativeUrlHandler } from './http.js';
import { indexedDbHandler } from './indexeddb.js';

registerModelIOHandler(indexedDbHandler);
registerModelIOHandler(downloadsHandler);
registerModelIOHandler(httpHandler);
// Last: it takes whatever has no scheme.
registerModelIOHandler(relativeUrlHandler);
