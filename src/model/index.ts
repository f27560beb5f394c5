/** The public models: rc.Model (functional) and rc.Sequential, with training and saving. */

export type { FreezeOptions, ReplaceHeadOptions } from './head.js';
export { Model } from './model.js';
export { Sequential } from './sequential.js';
