/**
 * Resize and Upsample by whole factors in nearest mode → UpSampling2D (each pixel repeated).
 * Those coordinate modes pick the same source pixel as repetition for a whole factor:
 * asymmetric with floor (Upsample's rule), and half_pixel / pytorch_half_pixel with rounding.
 */
import { UpSampling2D } from '../../../../nn/layers/pooling.js';
import { type ImportContext, registerOp } from '../context.js';
import type { OnnxNode } from '../decode.js';

function upsample(node: OnnxNode, cx: ImportContext, scales: number[]): void {
  const v = cx.tensorInput(node, 0);
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1)
    throw cx.error(
      `scales [${scales.join(', ')}]: only the height and width of an image can be resized.`,
    );
  const [sh, sw] = [scales[2]!, scales[3]!];
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1)
    throw cx.error(`scales [${scales.join(', ')}]: only whole upsampling factors are supported.`);
  const x = cx.toNhwc(v);
  const layer = new UpSampling2D({ name: cx.layerName(node.name), size: [sh, sw] });
  cx.setOutput(node, cx.tensor(cx.apply(layer, x.t), { kind: 'nhwc' }));
}

function nearestOnly(node: OnnxNode, cx: ImportContext): void {
  const mode = cx.attr<string>(node, 'mode', 'nearest');
  if (mode !== 'nearest')
    throw cx.error(
      `mode '${mode}': only nearest-neighbour resizing is supported (bilinear has no receptive layer yet).`,
    );
}

registerOp('Upsample', (node, cx) => {
  nearestOnly(node, cx);
  const scales =
    cx.opset < 9 ? cx.attr<number[]>(node, 'scales') : [...cx.constInput(node, 1, 'scales').data];
  if (!scales) throw cx.error('it has no scales.');
  upsample(node, cx, scales);
});

registerOp('Resize', (node, cx) => {
  nearestOnly(node, cx);
  const ctm = cx.attr<string>(node, 'coordinate_transformation_mode', 'half_pixel');
  const round = cx.attr<string>(node, 'nearest_mode', 'round_prefer_floor');
  const ok =
    (ctm === 'asymmetric' && round === 'floor') ||
    ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && round.startsWith('round_prefer'));
  if (!ok)
    throw cx.error(
      `coordinate_transformation_mode '${ctm}' with nearest_mode '${round}' is not supported (asymmetric+floor, or half_pixel with rounding).`,
    );
  const v = cx.tensorInput(node, 0);
  const scalesAt = cx.opset < 11 ? 1 : 2;
  const s = node.inputs[scalesAt] ? cx.constInput(node, scalesAt, 'scales') : undefined;
  if (s && s.data.length > 0) return upsample(node, cx, [...s.data]);
  if (cx.opset < 11 || !node.inputs[3]) throw cx.error('it has neither scales nor sizes.');
  const sizes = [...cx.constInput(node, 3, 'sizes').data];
  const shape = cx.onnxShape(v);
  upsample(
    node,
    cx,
    sizes.map((d, i) => (i === 0 ? 1 : d / (shape[i] ?? Number.NaN))),
  );
});
