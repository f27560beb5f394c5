/**
 * rc.loadModel('model.keras') and rc.loadModel('model.h5') in Node: Keras model files, built
 * whole (import/keras_model.ts). Registered before the directory handler, which takes every
 * path without a scheme.
 */
import { hasScheme, type ModelIOHandler } from '../router.js';

/** Keras 3 `.keras` files and Keras 2 full-model `.h5` files. */
export const kerasFileHandler: ModelIOHandler = {
  description: 'a Keras .keras or .h5 file',
  matches: (target) => !hasScheme(target) && /\.(keras|h5|hdf5)$/i.test(target),
  async convert(source, options) {
    // The reader (and h5wasm, adm-zip) load on first use.
    const { loadKerasFile, loadKerasH5 } = await import('../import/keras_model.js');
    options.onProgress?.(0);
    const model = /\.keras$/i.test(source)
      ? await loadKerasFile(source)
      : await loadKerasH5(source);
    options.onProgress?.(1);
    return model;
  },
};
