/**
 * Pictures: classic kernels applied to images, images in and out, filters, feature maps,
 * receptive fields, confusion matrices, training curves and the HTML training report.
 */

export { decodeImage, encodePng, type RawImage, resizeBilinear } from '../data/image_codec.js';
export {
  type ClassIndex,
  type ExplainBaseOptions,
  type GradCamOptions,
  type GradCamResult,
  gradCam,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  integratedGradients,
  type OcclusionOptions,
  type OcclusionResult,
  occlusion,
  type SaliencyOptions,
  type SaliencyResult,
  type SmoothGradOptions,
  saliency,
} from './attribution.js';
export {
  type ConfusionCounts,
  confusionChart,
  confusionCounts,
  confusionMatrix,
} from './confusion.js';
export {
  type AxisSize,
  describePadding,
  type ExplainOptions,
  explainConv,
  fmtNumber,
  OUTPUT_SIZE_FORMULA,
  outputSize,
} from './explain.js';
export { type Colormap, colormap, type OverlayOptions, overlayHeatmap } from './heatmap.js';
export {
  convertChannels,
  heatmapPng,
  type ImageToTensorOptions,
  imageToTensor,
  type Normalize,
  type PixelScale,
  type TensorToImageOptions,
  tensorToImage,
  tensorToPng,
  toBytes,
  zoom,
} from './images.js';
export { type MaximizeOptions, type MaximizeResult, maximizeActivation } from './maximize.js';
export { firstConvLayer, layerOutput, spatialLayerNames } from './model_graph.js';
export { featureMaps, filterGrid, type GridOptions, tile } from './pictures.js';
export { type Chart, renderVegaLite, trainingCurves } from './plots.js';
export {
  type Box,
  drawReceptiveField,
  type ReceptiveField,
  type ReceptiveFieldStep,
  receptiveField,
} from './receptive_field.js';
export {
  base64,
  type ReportParts,
  type ReportSample,
  reportHtml,
  type TrainingReportOptions,
  trainingReport,
} from './report.js';
