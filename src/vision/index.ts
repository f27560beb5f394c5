/** Pictures: charts of training, images in and out. */

export { decodeImage, encodePng, type RawImage, resizeBilinear } from '../data/image_codec.js';
export { type Chart, renderVegaLite, trainingCurves } from './plots.js';
