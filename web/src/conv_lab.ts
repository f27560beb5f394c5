/**
 * The convolution lab: an image, a kernel, stride, padding and dilation; the output of
 * rc.conv2d and its size worked out by the formula; hover an output pixel to see its receptive
 * field on the (padded) input and the multiply-accumulate that made it. The work is tiny, so it
 * runs on the page's thread with the 'js' backend.
 */
import { $ } from './dom.js';
import { drawZoomed, greyImageData, type Normalize, toBytes } from './pixels.js';
import { conv2d, kernels, type Padding, setBackend, tensor, vision } from './rc.js';
import {
  fromFile,
  fromMnistSample,
  type GreyImage,
  loadMnistSamples,
  procedural,
} from './sample_images.js';

interface Geometry {
  outH: number;
  outW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

interface State {
  image: GreyImage;
  kernel: number[][];
  stride: number;
  dilation: number;
  padding: Padding;
  normalize: Normalize;
  geometry: Geometry | null;
  output: Float32Array | null;
  zoom: number;
  pinned: [number, number] | null;
  hover: [number, number] | null;
}

const KERNEL_CHOICES = [...kernels.kernelNames(), 'gaussian-5'];

/** Parses rows of numbers ("-1 0 1\n-2 0 2" or JSON [[-1,0,1],...]) into a rectangle. */
export function parseKernel(text: string): number[][] {
  const t = text.trim();
  let rows: number[][];
  if (t.startsWith('[')) {
    rows = JSON.parse(t) as number[][];
  } else {
    rows = t
      .split(/\n|;/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .map((line) =>
        line
          .split(/[\s,]+/)
          .filter((s) => s.length > 0)
          .map((s) => {
            const frac = /^(-?[\d.]+)\/([\d.]+)$/.exec(s);
            return frac ? Number(frac[1]) / Number(frac[2]) : Number(s);
          }),
      );
  }
  if (
    !Array.isArray(rows) ||
    rows.length === 0 ||
    !rows.every((r) => Array.isArray(r) && r.length === rows[0]!.length && r.length > 0)
  )
    throw new Error(
      'A kernel is a rectangle of numbers: rows on separate lines, all equally long.',
    );
  if (!rows.flat().every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw new Error('Every kernel entry must be a finite number (fractions like 1/9 work too).');
  if (rows.length > 15 || rows[0]!.length > 15) throw new Error('Kernels up to 15×15, please.');
  return rows;
}

function kernelText(rows: number[][]): string {
  const cells = rows.map((r) => r.map((v) => vision.fmtNumber(v)));
  const width = Math.max(...cells.flat().map((s) => s.length));
  return cells.map((r) => r.map((s) => s.padStart(width)).join(' ')).join('\n');
}

function autoNormalize(kernel: number[][]): Normalize {
  const sum = kernel.flat().reduce((a, b) => a + b, 0);
  const nonNegative = kernel.flat().every((v) => v >= 0);
  // Kernels that keep brightness (blurs, sharpen, identity, emboss) show as an image; the others
  // (edges, Laplacian) respond with signed values whose size matters, not their sign.
  return Math.abs(sum - 1) < 1e-6 || nonNegative ? 'clip' : 'abs';
}

export function initConvLab(): void {
  setBackend('js'); // tiny convolutions on the page's thread
  const imageSel = $<HTMLSelectElement>('#conv-image');
  const upload = $<HTMLInputElement>('#conv-upload');
  const kernelSel = $<HTMLSelectElement>('#conv-kernel');
  const kernelArea = $<HTMLTextAreaElement>('#conv-kernel-text');
  const kernelError = $('#conv-kernel-error');
  const strideIn = $<HTMLInputElement>('#conv-stride');
  const dilationIn = $<HTMLInputElement>('#conv-dilation');
  const paddingSel = $<HTMLSelectElement>('#conv-padding');
  const normSel = $<HTMLSelectElement>('#conv-normalize');
  const inCanvas = $<HTMLCanvasElement>('#conv-input');
  const outCanvas = $<HTMLCanvasElement>('#conv-output');
  const inBase = document.createElement('canvas');
  const outBase = document.createElement('canvas');

  const images = new Map<string, () => GreyImage>();
  for (const [name, f] of Object.entries(procedural)) images.set(name, f);
  for (const name of KERNEL_CHOICES) kernelSel.add(new Option(name, name));
  kernelSel.add(new Option('custom (type it)', 'custom'));

  const state: State = {
    image: procedural.square!(),
    kernel: kernels.values.sobelX!.map((r) => [...r]),
    stride: 1,
    dilation: 1,
    padding: 'valid',
    normalize: 'abs',
    geometry: null,
    output: null,
    zoom: 8,
    pinned: null,
    hover: null,
  };

  const setKernelByName = (name: string) => {
    const t = kernels.byName(name);
    const [kh, kw] = t.shape as [number, number];
    const flat = t.dataSync();
    state.kernel = Array.from({ length: kh }, (_, i) =>
      Array.from(flat.slice(i * kw, (i + 1) * kw)),
    );
    kernelArea.value = kernelText(state.kernel);
  };

  function compute(): void {
    const { image, kernel } = state;
    const kh = kernel.length;
    const kw = kernel[0]!.length;
    $('#conv-k-size').textContent = `${kh}×${kw}`;
    $('#conv-in-size').textContent = `${image.height}×${image.width}`;
    state.normalize =
      normSel.value === 'auto' ? autoNormalize(kernel) : (normSel.value as Normalize);
    const formula = $('#conv-formula');
    let h: ReturnType<typeof vision.outputSize>;
    let w: ReturnType<typeof vision.outputSize>;
    try {
      h = vision.outputSize(image.height, kh, state.stride, state.dilation, state.padding, 0);
      w = vision.outputSize(image.width, kw, state.stride, state.dilation, state.padding, 1);
    } catch (e) {
      formula.textContent = (e as Error).message;
      return;
    }
    const lines = [
      vision.OUTPUT_SIZE_FORMULA,
      `  height: ${h.arithmetic}`,
      `  width:  ${w.arithmetic}`,
      `padding ${vision.describePadding(state.padding, h, w)}, stride ${state.stride}, dilation ${state.dilation}`,
    ];
    if (h.out < 1 || w.out < 1) {
      lines.push('', 'The kernel does not fit: use padding or a smaller dilation.');
      formula.textContent = lines.join('\n');
      state.geometry = null;
      state.output = null;
      $('#conv-out-size').textContent = '(empty)';
      outCanvas.width = outCanvas.height = 0;
      drawInput();
      renderMac();
      return;
    }
    const x = tensor(image.data, [1, image.height, image.width, 1]);
    const k = tensor(kernel.flat(), [kh, kw, 1, 1]);
    const y = conv2d(x, k, {
      strides: state.stride,
      padding: state.padding,
      dilationRate: state.dilation,
    });
    state.output = y.dataSync() as Float32Array;
    state.geometry = {
      outH: y.shape[1]!,
      outW: y.shape[2]!,
      padTop: h.padBefore,
      padBottom: h.padAfter,
      padLeft: w.padBefore,
      padRight: w.padAfter,
    };
    lines.push(
      `conv2d(input [1, ${image.height}, ${image.width}, 1], kernel [${kh}, ${kw}, 1, 1]) → [${y.shape.join(', ')}]`,
    );
    formula.textContent = lines.join('\n');
    $('#conv-out-size').textContent = `${y.shape[1]}×${y.shape[2]}`;
    const g = state.geometry;
    const ph = image.height + g.padTop + g.padBottom;
    const pw = image.width + g.padLeft + g.padRight;
    state.zoom = Math.max(2, Math.min(16, Math.floor(360 / Math.max(ph, pw))));
    const bytes = toBytes(state.output, state.normalize);
    drawZoomed(outBase, greyImageData(bytes, g.outH, g.outW), state.zoom);
    outCanvas.dataset.zoom = String(state.zoom);
    outCanvas.dataset.height = String(g.outH);
    outCanvas.dataset.width = String(g.outW);
    outCanvas.dataset.normalize = state.normalize;
    if (state.pinned && (state.pinned[0] >= g.outH || state.pinned[1] >= g.outW))
      state.pinned = null;
    drawInput();
    drawOutput();
    renderMac();
  }

  /** The input with its padding drawn around it (hatched), zoomed. */
  function drawInput(): void {
    const { image, zoom } = state;
    const g = state.geometry ?? { padTop: 0, padBottom: 0, padLeft: 0, padRight: 0 };
    const ph = image.height + g.padTop + g.padBottom;
    const pw = image.width + g.padLeft + g.padRight;
    inBase.width = pw * zoom;
    inBase.height = ph * zoom;
    const ctx = inBase.getContext('2d')!;
    const hatch = document.createElement('canvas');
    hatch.width = hatch.height = 8;
    const hctx = hatch.getContext('2d')!;
    hctx.fillStyle = '#d9dde5';
    hctx.fillRect(0, 0, 8, 8);
    hctx.strokeStyle = '#aab1bf';
    hctx.beginPath();
    hctx.moveTo(0, 8);
    hctx.lineTo(8, 0);
    hctx.stroke();
    ctx.fillStyle = ctx.createPattern(hatch, 'repeat')!;
    ctx.fillRect(0, 0, inBase.width, inBase.height);
    const img = document.createElement('canvas');
    drawZoomed(img, greyImageData(toBytes(image.data, 'clip'), image.height, image.width), zoom);
    ctx.drawImage(img, g.padLeft * zoom, g.padTop * zoom);
    redraw();
  }

  function drawOutput(): void {
    redraw();
  }

  /** Base pictures plus the highlight of the output pixel under the mouse (or pinned). */
  function redraw(): void {
    const at = state.pinned ?? state.hover;
    inCanvas.width = inBase.width;
    inCanvas.height = inBase.height;
    const ictx = inCanvas.getContext('2d')!;
    ictx.drawImage(inBase, 0, 0);
    if (state.output) {
      outCanvas.width = outBase.width;
      outCanvas.height = outBase.height;
      const octx = outCanvas.getContext('2d')!;
      octx.drawImage(outBase, 0, 0);
      if (at) {
        const z = state.zoom;
        octx.strokeStyle = '#f59e0b';
        octx.lineWidth = 2;
        octx.strokeRect(at[1] * z + 1, at[0] * z + 1, z - 2, z - 2);
        const kh = state.kernel.length;
        const kw = state.kernel[0]!.length;
        const s = state.stride;
        const d = state.dilation;
        // Padded coordinates: the padded input's row r·s + i·d for kernel row i.
        const y0 = at[0] * s;
        const x0 = at[1] * s;
        ictx.fillStyle = 'rgba(245, 158, 11, 0.35)';
        ictx.strokeStyle = '#f59e0b';
        ictx.lineWidth = 1.5;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const px = (x0 + j * d) * z;
            const py = (y0 + i * d) * z;
            ictx.fillRect(px, py, z, z);
            ictx.strokeRect(px + 0.75, py + 0.75, z - 1.5, z - 1.5);
          }
        ictx.setLineDash([4, 3]);
        ictx.strokeStyle = '#b45309';
        ictx.strokeRect(
          x0 * z - 1,
          y0 * z - 1,
          ((kw - 1) * d + 1) * z + 2,
          ((kh - 1) * d + 1) * z + 2,
        );
        ictx.setLineDash([]);
      }
    }
  }

  /** The multiply-accumulate behind one output pixel, term by term. */
  function renderMac(): void {
    const box = $('#conv-mac');
    const at = state.pinned ?? state.hover;
    const g = state.geometry;
    if (!at || !g || !state.output) {
      $('#conv-mac-at').textContent = '';
      box.innerHTML =
        '<p class="dim small">Hover an output pixel to see the sum of products behind it.</p>';
      return;
    }
    const [r, c] = at;
    const { image, kernel, stride: s, dilation: d } = state;
    $('#conv-mac-at').textContent =
      `at output row ${r}, column ${c}${state.pinned ? ' (pinned)' : ''}`;
    const table = document.createElement('table');
    table.className = 'mac';
    const terms: string[] = [];
    let sum = 0;
    kernel.forEach((row, i) => {
      const tr = table.insertRow();
      row.forEach((wv, j) => {
        const y = r * s - g.padTop + i * d;
        const x = c * s - g.padLeft + j * d;
        const inside = y >= 0 && y < image.height && x >= 0 && x < image.width;
        const xv = inside ? image.data[y * image.width + x]! : 0;
        sum += xv * wv;
        const td = tr.insertCell();
        td.textContent = `${vision.fmtNumber(Number(xv.toFixed(3)))} × ${vision.fmtNumber(wv)}`;
        td.title = inside ? `input row ${y}, column ${x}` : 'padding (zero)';
        if (!inside) td.className = 'pad';
        terms.push(
          `(${vision.fmtNumber(Number(xv.toFixed(3)))}·${vision.fmtNumber(Number(wv.toFixed(4)))})`,
        );
      });
    });
    const value = state.output[r * g.outW + c]!;
    const p = document.createElement('p');
    p.className = 'mac-sum';
    p.textContent = `out[${r},${c}] = ${terms.join(' + ')} = ${vision.fmtNumber(Number(sum.toFixed(4)))}`;
    const check = document.createElement('p');
    check.className = 'dim small';
    check.textContent = `conv2d gave ${vision.fmtNumber(Number(value.toFixed(4)))}; shown as ${
      state.normalize === 'abs' ? '|value| scaled by the largest' : state.normalize
    }.`;
    box.replaceChildren(table, p, check);
  }

  function outputPixelAt(ev: MouseEvent): [number, number] | null {
    const g = state.geometry;
    if (!g) return null;
    const rect = outCanvas.getBoundingClientRect();
    const c = Math.floor(((ev.clientX - rect.left) / rect.width) * g.outW);
    const r = Math.floor(((ev.clientY - rect.top) / rect.height) * g.outH);
    return r >= 0 && r < g.outH && c >= 0 && c < g.outW ? [r, c] : null;
  }

  outCanvas.addEventListener('mousemove', (ev) => {
    const at = outputPixelAt(ev);
    if (at?.[0] === state.hover?.[0] && at?.[1] === state.hover?.[1]) return;
    state.hover = at;
    redraw();
    renderMac();
  });
  outCanvas.addEventListener('mouseleave', () => {
    state.hover = null;
    redraw();
    renderMac();
  });
  outCanvas.addEventListener('click', (ev) => {
    const at = outputPixelAt(ev);
    state.pinned =
      at && !(state.pinned && state.pinned[0] === at[0] && state.pinned[1] === at[1]) ? at : null;
    redraw();
    renderMac();
  });

  const readParams = () => {
    state.stride = Math.max(1, Math.min(8, Math.round(Number(strideIn.value) || 1)));
    state.dilation = Math.max(1, Math.min(6, Math.round(Number(dilationIn.value) || 1)));
    const p = paddingSel.value;
    state.padding = p === 'valid' || p === 'same' ? p : Number(p);
    compute();
  };
  for (const el of [strideIn, dilationIn]) el.addEventListener('input', readParams);
  paddingSel.addEventListener('change', readParams);
  normSel.addEventListener('change', compute);
  kernelSel.addEventListener('change', () => {
    if (kernelSel.value !== 'custom') setKernelByName(kernelSel.value);
    kernelError.textContent = '';
    compute();
  });
  kernelArea.addEventListener('input', () => {
    try {
      state.kernel = parseKernel(kernelArea.value);
      kernelError.textContent = '';
      kernelSel.value = 'custom';
      compute();
    } catch (e) {
      kernelError.textContent = (e as Error).message;
    }
  });
  imageSel.addEventListener('change', () => {
    const make = images.get(imageSel.value);
    if (make) {
      state.image = make();
      state.pinned = null;
      compute();
    }
  });
  upload.addEventListener('change', async () => {
    const file = upload.files?.[0];
    if (!file) return;
    try {
      const uploaded = await fromFile(file);
      state.image = uploaded;
      const name = `upload: ${file.name}`;
      if (!images.has(name)) imageSel.add(new Option(name, name));
      images.set(name, () => uploaded);
      imageSel.value = name;
      state.pinned = null;
      compute();
    } catch (e) {
      $('#conv-formula').textContent = `Cannot read that image: ${(e as Error).message}`;
    }
  });

  kernelSel.value = 'sobel-x';
  setKernelByName('sobel-x');
  void loadMnistSamples().then((samples) => {
    for (const s of samples) images.set(`MNIST ${s.label}`, () => fromMnistSample(s));
    for (const name of images.keys()) imageSel.add(new Option(name, name));
    const first = samples.find((s) => s.label === 7);
    imageSel.value = first ? 'MNIST 7' : 'square';
    state.image = images.get(imageSel.value)!();
    compute();
  });
}
