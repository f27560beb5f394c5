/**
 * receptive's own SVG charts, drawn without any package: the training curves (one panel per
 * metric, training and validation lines) and the confusion-matrix heatmap. They stand in for the
 * Vega-Lite charts of plots.ts when vega and vega-lite are not installed, so that training and
 * its report never depend on an optional package. Same colours as Vega's defaults.
 */

/** One line of a panel: its name in the legend and a value per epoch (NaN: none that epoch). */
export interface Series {
  name: string;
  values: readonly number[];
}

export interface Panel {
  /** The panel's title and y-axis label (e.g. 'loss'). */
  metric: string;
  series: readonly Series[];
}

const FONT = 'font-family="sans-serif"';
/** Vega's category10 colours, in the order Vega-Lite gives them to 'training', 'validation'. */
const COLOURS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b'];

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A number for an SVG attribute: two decimals at most, no trailing zeros. */
const n = (v: number) => String(Math.round(v * 100) / 100);

/**
 * Round ticks covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them,
 * and the domain widened to the first and last tick. `integer`: steps of at least 1 (epochs).
 */
export function niceTicks(
  lo: number,
  hi: number,
  count = 5,
  integer = false,
): { domain: [number, number]; ticks: number[]; decimals: number } {
  if (hi - lo < 1e-12) {
    // One value: a band around it (a run of one epoch, a loss that did not move).
    const pad = integer ? 1 : Math.abs(lo) * 0.05 || 0.5;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; first + i * step <= last + step * 1e-9; i++) ticks.push(first + i * step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { domain: [first, last], ticks, decimals };
}

/**
 * Line charts side by side, one per panel, sharing the epoch axis (1, 2, …) and a legend;
 * each point is marked, and a value that is not finite leaves a gap in its line.
 */
export function lineChartsSvg(panels: readonly Panel[], options: { title?: string } = {}): string {
  const W = 320;
  const H = 220;
  const left = 58;
  const gap = 64;
  const top = options.title ? 56 : 30;
  const bottom = 44;
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const legendWidth = 20 + Math.max(...names.map((s) => s.length), 0) * 7 + 28;
  const width = left + panels.length * (W + gap) - gap + 24 + legendWidth;
  const height = top + H + bottom;
  const epochs = Math.max(1, ...panels.flatMap((p) => p.series.map((s) => s.values.length)));
  const xt = niceTicks(1, epochs, Math.min(epochs - 1, 6) || 1, true);
  // The epochs span the width (one epoch: a point in the middle); ticks inside that span.
  const [x0, x1] = epochs === 1 ? [0, 2] : [1, epochs];
  const xTicks = epochs === 1 ? [1] : xt.ticks.filter((t) => t >= 1 && t <= epochs);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  );
  if (options.title)
    out.push(
      `<text x="${n(width / 2)}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
    );
  panels.forEach((panel, p) => {
    const ox = left + p * (W + gap);
    const finite = panel.series.flatMap((s) => s.values.filter(Number.isFinite));
    const yt = niceTicks(Math.min(...finite, Infinity), Math.max(...finite, -Infinity));
    if (finite.length === 0) Object.assign(yt, niceTicks(0, 1));
    const [y0, y1] = yt.domain;
    const sx = (e: number) => ox + ((e - x0) / (x1 - x0)) * W;
    const sy = (v: number) => top + H - ((v - y0) / (y1 - y0)) * H;
    out.push(`<g class="panel">`);
    out.push(
      `<text x="${n(ox + W / 2)}" y="${top - 10}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.metric)}</text>`,
    );
    // Grid and y axis.
    for (const t of yt.ticks) {
      const y = n(sy(t));
      out.push(
        `<line x1="${ox}" x2="${ox + W}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
        `<text x="${ox - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="#333">${t.toFixed(yt.decimals)}</text>`,
      );
    }
    for (const t of xTicks) {
      const x = n(sx(t));
      out.push(
        `<line x1="${x}" x2="${x}" y1="${top}" y2="${top + H}" stroke="#eee"/>`,
        `<line x1="${x}" x2="${x}" y1="${top + H}" y2="${top + H + 5}" stroke="#888"/>`,
        `<text x="${x}" y="${top + H + 17}" text-anchor="middle" fill="#333">${t}</text>`,
      );
    }
    out.push(
      `<line x1="${ox}" x2="${ox}" y1="${top}" y2="${top + H}" stroke="#888"/>`,
      `<line x1="${ox}" x2="${ox + W}" y1="${top + H}" y2="${top + H}" stroke="#888"/>`,
      `<text x="${n(ox + W / 2)}" y="${top + H + 34}" text-anchor="middle" font-weight="bold">epoch</text>`,
      `<text transform="translate(${ox - 44},${n(top + H / 2)}) rotate(-90)" text-anchor="middle" font-weight="bold">${escapeXml(panel.metric)}</text>`,
    );
    // The lines: a path broken where a value is missing, and a dot on every point.
    for (const s of panel.series) {
      const colour = COLOURS[names.indexOf(s.name) % COLOURS.length];
      let d = '';
      let pen = false;
      const dots: string[] = [];
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        const x = n(sx(i + 1));
        const y = n(sy(v));
        d += `${pen ? 'L' : 'M'}${x},${y}`;
        pen = true;
        dots.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${colour}"/>`);
      });
      out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
      if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`, ...dots);
      out.push('</g>');
    }
    out.push('</g>');
  });
  // The legend, right of the last panel.
  const lx = left + panels.length * (W + gap) - gap + 24;
  names.forEach((name, i) => {
    const y = top + 8 + i * 18;
    const colour = COLOURS[i % COLOURS.length];
    out.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"/>`,
      `<circle cx="${lx + 8}" cy="${y}" r="2.5" fill="${colour}"/>`,
      `<text x="${lx + 22}" y="${y}" dy="0.32em" fill="#333">${escapeXml(name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** d3's 'blues' scheme at its ends; a count's share of the largest picks a colour between them. */
function blue(t: number): string {
  const from = [0xf7, 0xfb, 0xff];
  const to = [0x08, 0x30, 0x6b];
  return `rgb(${from.map((f, i) => Math.round(f + (to[i]! - f) * t)).join(',')})`;
}

/**
 * A heatmap of `counts` (rows: true class, columns: predicted), darker for more, each count in
 * its cell (white on dark cells), class names on the top and left.
 */
export function heatmapSvg(
  counts: readonly (readonly number[])[],
  classNames: readonly string[],
  options: { title: string; cell: number },
): string {
  const { cell } = options;
  const k = classNames.length;
  const upright = classNames.every((s) => s.length <= 3);
  const longest = Math.max(1, ...classNames.map((s) => s.length));
  const left = 34 + longest * 7;
  const top = 48 + (upright ? 16 : Math.ceil(longest * 7 * 0.72));
  const width = left + k * cell + 16;
  const height = top + k * cell + 16;
  const max = Math.max(1, ...counts.flat());
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${n(width / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<text x="${n(left + (k * cell) / 2)}" y="36" text-anchor="middle" font-weight="bold">predicted class</text>`,
    `<text transform="translate(14,${n(top + (k * cell) / 2)}) rotate(-90)" text-anchor="middle" font-weight="bold">true class</text>`,
  ];
  classNames.forEach((name, i) => {
    const cx = n(left + (i + 0.5) * cell);
    const cy = n(top + (i + 0.5) * cell);
    out.push(
      upright
        ? `<text x="${cx}" y="${top - 6}" text-anchor="middle">${escapeXml(name)}</text>`
        : `<text transform="translate(${cx},${top - 6}) rotate(-45)">${escapeXml(name)}</text>`,
      `<text x="${left - 6}" y="${cy}" dy="0.32em" text-anchor="end">${escapeXml(name)}</text>`,
    );
  });
  counts.forEach((row, t) => {
    row.forEach((count, p) => {
      const share = count / max;
      const x = left + p * cell;
      const y = top + t * cell;
      out.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blue(share)}" stroke="white"/>`,
        `<text x="${n(x + cell / 2)}" y="${n(y + cell / 2)}" dy="0.32em" text-anchor="middle" font-size="${Math.max(8, Math.round(cell / 3.2))}" fill="${share > 0.5 ? 'white' : 'black'}">${count}</text>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
