/**
 * A self-contained HTML training report: the training curves and the confusion matrix as
 * inline SVG, sample test predictions with their images as base64 PNGs (right and wrong
 * marked, optionally each beside its Grad-CAM), and the model summary. No scripts and no external URLs, so it opens anywhere,
 * offline, and can be mailed as one file.
 */
import type { Model } from '../model/model.js';
import { makeReadable, type Tensor, tensor } from '../tensor.js';
import '../train/trainer.js';
import { encodePng } from '../data/image_codec.js';
import { ArgumentError, fmtShape, ShapeError } from '../util/errors.js';
import { gradCam } from './attribution.js';
import { classIds, confusionChart, confusionCounts } from './confusion.js';
import { toBytes } from './pixels.js';
import { trainingCurves } from './plots.js';

/** One sample prediction in the report. */
export interface ReportSample {
  /** The image, PNG bytes. */
  png: Uint8Array;
  /** The true class's name. */
  label: string;
  /** The predicted class's name. */
  predicted: string;
  /** The predicted class's probability. */
  probability: number;
  /** Whether the prediction is right. */
  right: boolean;
  /** Its Grad-CAM for the predicted class over the image, PNG bytes (shown beside it when given). */
  heatmap?: Uint8Array;
}

/** What {@link reportHtml} puts together. */
export interface ReportParts {
  /** The page's title and heading. */
  title: string;
  /** Lines of facts shown at the top: [name, value]. */
  facts: [string, string][];
  /** The training curves, SVG (left out when absent). */
  curvesSvg?: string;
  /** The confusion matrix, SVG (left out when absent). */
  confusionSvg?: string;
  /** Sample predictions. */
  samples: ReportSample[];
  /** The layer the samples' Grad-CAM heat maps weigh (named in the text when they have them). */
  gradCamLayer?: string;
  /** The model summary, shown as preformatted text. */
  summary: string;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Base64 in Node (Buffer) and in browsers (btoa). */
export function base64(bytes: Uint8Array): string {
  const B = (globalThis as { Buffer?: { from(b: Uint8Array): { toString(enc: string): string } } })
    .Buffer;
  if (B) return B.from(bytes).toString('base64');
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The HTML page from its parts. */
export function reportHtml(parts: ReportParts): string {
  const facts = parts.facts
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const samples = parts.samples
    .map(
      (s) => `<figure class="${s.right ? 'right' : 'wrong'}">
<img src="data:image/png;base64,${base64(s.png)}" alt="true ${escapeHtml(s.label)}">${s.heatmap ? `<img src="data:image/png;base64,${base64(s.heatmap)}" alt="Grad-CAM of ${escapeHtml(s.predicted)}">` : ''}
<figcaption>${s.right ? '✓' : '✗'} ${escapeHtml(s.predicted)} <small>${(s.probability * 100).toFixed(0)}%</small><br><small>true: ${escapeHtml(s.label)}</small></figcaption>
</figure>`,
    )
    .join('\n');
  const wrong = parts.samples.filter((s) => !s.right).length;
  const cam = parts.samples.some((s) => s.heatmap)
    ? ` Beside each image, its Grad-CAM${parts.gradCamLayer ? ` at layer ${escapeHtml(parts.gradCamLayer)}` : ''}: where the model found the evidence for the class it predicted (bright: much, dark: none).`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(parts.title)}</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table.facts th { text-align: left; padding-right: 1.5em; font-weight: 600; }
.chart svg { max-width: 100%; height: auto; }
.samples { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; padding: 6px; border: 3px solid; border-radius: 6px; text-align: center; width: 96px; }
figure.right { border-color: #2a9d48; } figure.wrong { border-color: #d62828; background: #fff1f1; }
figure img { width: 84px; height: 84px; image-rendering: pixelated; display: inline-block; margin: 0 1px 4px; }
figure:has(img + img) { width: 182px; }
figcaption { font-size: 0.85em; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 0.8em; }
</style>
</head>
<body>
<h1>${escapeHtml(parts.title)}</h1>
<table class="facts">
${facts}
</table>
${parts.curvesSvg ? `<h2>Training curves</h2>\n<div class="chart">${parts.curvesSvg}</div>` : ''}
${parts.confusionSvg ? `<h2>Confusion matrix (test set)</h2>\n<p>Rows: the true class; columns: the prediction. The diagonal holds the right answers.</p>\n<div class="chart">${parts.confusionSvg}</div>` : ''}
${parts.samples.length ? `<h2>Sample predictions</h2>\n<p>${parts.samples.length} test images, ${wrong} of them predicted wrongly (red). Each shows the prediction with its probability, and the true class.${cam}</p>\n<div class="samples">\n${samples}\n</div>` : ''}
<h2>Model</h2>
<pre>${escapeHtml(parts.summary)}</pre>
</body>
</html>
`;
}

/** Options of {@link trainingReport}. */
export interface TrainingReportOptions {
  /** The page's title (default: the model's name). */
  title?: string;
  /** Class names by id (default '0', '1', ...). */
  classNames?: string[];
  /** How many sample predictions to show (default 24; up to a third of them wrong ones). */
  samples?: number;
  /** More facts for the table (dataset, epochs, ...). */
  facts?: [string, string][];
  /**
   * Show beside each sample its Grad-CAM for the predicted class (default false; `receptive
   * train --report` turns it on for models with a convolution). `true` uses Grad-CAM's default
   * layer (the last with a spatial output); a string names the layer.
   */
  gradCam?: boolean | string;
}

/**
 * Builds the report for a trained model: predicts x (the test images, [n, h, w, 1 or 3] in
 * 0..1), counts the confusion against y (class ids), draws the curves of `history` (a
 * History's record: loss, accuracy, val_loss, ...), and returns the HTML. With `gradCam`,
 * each sample image is shown beside its Grad-CAM heat map for the predicted class.
 * @throws ShapeError for x that is not images or a y of another length
 * @throws ArgumentError for a model that does not give class scores, or (with `gradCam`) one
 *   without a layer of spatial output, or a gradCam layer it does not have
 */
export async function trainingReport(
  model: Model,
  x: Tensor,
  y: Tensor,
  history: Record<string, number[]>,
  options: TrainingReportOptions = {},
): Promise<string> {
  if (x.rank !== 4 || (x.shape[3] !== 1 && x.shape[3] !== 3)) {
    throw new ShapeError(
      `trainingReport: x must be images [n, h, w, 1 or 3], got ${fmtShape(x.shape)}.`,
    );
  }
  const n = x.shape[0]!;
  if (y.shape[0] !== n)
    throw new ShapeError(`trainingReport: x has ${n} images but y has ${y.shape[0]} labels.`);
  const probs = model.predict(x, { batchSize: 256 });
  if (probs.rank !== 2)
    throw new ArgumentError(
      `trainingReport: the model's output ${fmtShape(probs.shape)} is not class scores [n, classes].`,
    );
  // Read on the CPU below: copied back first where the backend computes elsewhere (webgpu).
  await makeReadable([probs, x, y]);
  const k = probs.shape[1]!;
  const names = options.classNames ?? Array.from({ length: k }, (_, i) => String(i));
  const cm = confusionCounts(y, probs, names);
  const p = probs.dataSync();
  const truth = classIds(y, 'y');
  const best = (i: number) => {
    let b = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + b]!) b = j;
    return b;
  };
  // The first images, with some of the wrong ones mixed in (they teach the most).
  const want = Math.min(options.samples ?? 24, n);
  const wrongIds: number[] = [];
  for (let i = 0; i < n && wrongIds.length < Math.floor(want / 3); i++)
    if (best(i) !== truth[i]) wrongIds.push(i);
  const ids = new Set(wrongIds);
  for (let i = 0; i < n && ids.size < want; i++) ids.add(i);
  const [, h, w, c] = x.shape as [1, number, number, 1 | 3];
  const pixels = x.dataSync();
  const samples = [...ids]
    .sort((a, b) => a - b)
    .map((i): ReportSample => {
      const b = best(i);
      const data = toBytes(pixels.subarray(i * h * w * c, (i + 1) * h * w * c), 'clip');
      return {
        png: encodePng({ width: w, height: h, channels: c, data }),
        label: names[truth[i]!] ?? String(truth[i]),
        predicted: names[b] ?? String(b),
        probability: p[i * k + b]!,
        right: b === truth[i],
      };
    });
  let gradCamLayer: string | undefined;
  if (options.gradCam) {
    const chosen = [...ids].sort((a, b) => a - b);
    const size = h * w * c;
    const batch = new Float32Array(chosen.length * size);
    chosen.forEach((i, j) => {
      batch.set(pixels.subarray(i * size, (i + 1) * size), j * size);
    });
    const r = await gradCam(model, tensor(batch, [chosen.length, h, w, c]), {
      classIndex: chosen.map(best),
      ...(typeof options.gradCam === 'string' ? { layer: options.gradCam } : {}),
    });
    gradCamLayer = r.layer;
    r.picture.forEach((pic, j) => {
      samples[j]!.heatmap = encodePng(pic);
    });
  }
  const curves = (history.loss?.length ?? 0) > 0 ? (await trainingCurves(history)).svg : undefined;
  const confusion = (await confusionChart(cm)).svg;
  const title = options.title ?? `Training report: ${model.name}`;
  return reportHtml({
    title,
    facts: [
      ...(options.facts ?? []),
      [
        'Test accuracy',
        `${(cm.accuracy * 100).toFixed(2)}% (${cm.total.toLocaleString('en-US')} images)`,
      ],
      ['Parameters', model.countParams().toLocaleString('en-US')],
    ],
    ...(curves ? { curvesSvg: curves } : {}),
    confusionSvg: confusion,
    samples,
    ...(gradCamLayer ? { gradCamLayer } : {}),
    summary: model.summary({ print: false }),
  });
}
