/** Every built-in layer, as `rc.layers.X`. */
export * from './activations.js';
export * from './attention.js';
export * from './conv.js';
export * from './core.js';
export * from './inception.js';
export * from './merge.js';
export * from './normalization.js';
export * from './octave.js';
export * from './pooling.js';
export * from './tensor_ops.js';
