/**
 * The browser-safe subset of the public API, for bundlers (the playground in web/ uses it).
 * Everything of src/index.ts that does not touch Node: tensors and ops, layers and models,
 * the zoo, optimizers and training, the classic kernels, the convolution explainer, the IDX
 * parser and safetensors; rc.loadModel and model.save with 'indexeddb://name',
 * 'downloads://name' and URLs. Left out: file-system loaders (rc.data.loadMnist, directories
 * for rc.loadModel and model.save), PNG/JPEG codecs (pngjs) and the charts and report (vega);
 * decode images with the browser's own canvas instead.
 */
export * from './api.js';

// rc.loadModel and model.save: 'indexeddb://name', 'downloads://name', URLs.
import './io/handlers/browser.js';

import { Dataset } from './data/dataset.js';
import { parseIdx } from './data/idx.js';

/** The data pieces that need no file system: the Dataset pipeline and the IDX parser. */
export const data = {
  /** The lazy data pipeline (see the Node entry's `data.Dataset`). */
  Dataset,
  /** Parses IDX bytes (MNIST's format), e.g. fetched ones. */
  parseIdx,
};

export {
  type DecodeOptions,
  decodeSafetensors,
  type EncodableArray,
  encodeSafetensors,
  FormatError,
  type NamedArray,
} from './io/safetensors.js';

import { gradCam, integratedGradients, occlusion, saliency } from './vision/attribution.js';
import {
  describePadding,
  explainConv,
  fmtNumber,
  OUTPUT_SIZE_FORMULA,
  outputSize,
} from './vision/explain.js';
import { colormap, overlayHeatmap } from './vision/heatmap.js';
import { maximizeActivation } from './vision/maximize.js';
import { firstConvLayer, layerOutput, spatialLayerNames } from './vision/model_graph.js';

/**
 * The pictures' arithmetic without the image codecs: the convolution explainer, layer outputs,
 * and the explanations (their pictures are RawImages: draw them with a canvas's ImageData).
 */
export const vision = {
  /** Grad-CAM (or Grad-CAM++) heat maps of a class at a convolution layer. */
  gradCam,
  /** Saliency maps (SmoothGrad as an option). */
  saliency,
  /** Integrated gradients: each input value's share of the class score. */
  integratedGradients,
  /** Occlusion maps: the class probability's drop where a patch is greyed out. */
  occlusion,
  /** The input images that most excite filters or classes. */
  maximizeActivation,
  /** Heat maps blended over images, as RGB RawImages. */
  overlayHeatmap,
  /** A colormap's colour for a value in 0..1. */
  colormap,
  /** How a padding splits into before / after on each axis, in words. */
  describePadding,
  /** A small convolution written out term by term (the CLI's explain-conv). */
  explainConv,
  /** A number as the explainer prints it. */
  fmtNumber,
  /** The output-size formula, as text. */
  OUTPUT_SIZE_FORMULA,
  /** A convolution's output size along one axis, with the formula's numbers filled in. */
  outputSize,
  /** The model's first convolution layer. */
  firstConvLayer,
  /** One layer's output for an input, by the layer's name. */
  layerOutput,
  /** The names of the layers whose outputs are feature maps. */
  spatialLayerNames,
};
