/** Every built-in layer, as `rc.layers.X`. */
export * from './conv.js';
export * from './core.js';
export * from './merge.js';
export * from './normalization.js';
export * from './pooling.js';
