/**
 * A small canvas chart of training: loss (left axis) and accuracy (right axis, 0..1) against the
 * training step; each batch faint, an exponential moving average bold, and the test set's loss
 * and accuracy after each epoch as dots. No library: two lines and some axes.
 */

export interface ChartPoint {
  step: number;
  loss: number;
  accuracy: number;
}

const LOSS = '#dc2626';
const ACC = '#2563eb';

export class TrainingChart {
  private batches: ChartPoint[] = [];
  private smooth: ChartPoint[] = [];
  private epochs: ChartPoint[] = [];
  private totalSteps = 1;
  private stepsPerEpoch = 1;
  private frame = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  reset(totalSteps: number, stepsPerEpoch: number): void {
    this.batches = [];
    this.smooth = [];
    this.epochs = [];
    this.totalSteps = Math.max(1, totalSteps);
    this.stepsPerEpoch = Math.max(1, stepsPerEpoch);
    for (const k of ['batches', 'lossFirst', 'lossRecent']) delete this.canvas.dataset[k];
    this.schedule();
  }

  addBatch(p: ChartPoint): void {
    this.batches.push(p);
    // The mean loss of the first and of the latest ten batches, for tests and the curious.
    const mean = (ps: ChartPoint[]) => ps.reduce((s, q) => s + q.loss, 0) / ps.length;
    this.canvas.dataset.batches = String(this.batches.length);
    this.canvas.dataset.lossFirst = mean(this.batches.slice(0, 10)).toFixed(4);
    this.canvas.dataset.lossRecent = mean(this.batches.slice(-10)).toFixed(4);
    const prev = this.smooth[this.smooth.length - 1];
    const a = 0.1;
    this.smooth.push(
      prev
        ? {
            step: p.step,
            loss: prev.loss + a * (p.loss - prev.loss),
            accuracy: prev.accuracy + a * (p.accuracy - prev.accuracy),
          }
        : p,
    );
    this.schedule();
  }

  addEpoch(p: ChartPoint): void {
    this.epochs.push(p);
    this.schedule();
  }

  private schedule(): void {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
  }

  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = c.clientWidth || c.width;
    const cssH = c.clientHeight || c.height;
    if (c.width !== Math.round(cssW * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const left = 48;
    const right = cssW - 48;
    const top = 16;
    const bottom = cssH - 34;
    const maxLoss = Math.max(0.5, ...this.batches.slice(0, 50).map((p) => p.loss)) * 1.05;
    const xOf = (step: number) => left + ((right - left) * step) / this.totalSteps;
    const yLoss = (v: number) => bottom - ((bottom - top) * Math.min(v, maxLoss)) / maxLoss;
    const yAcc = (v: number) => bottom - (bottom - top) * v;

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    // grid and axes
    ctx.strokeStyle = '#eceef2';
    ctx.fillStyle = '#6b7280';
    for (let i = 0; i <= 5; i++) {
      const y = top + ((bottom - top) * i) / 5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(right, y);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillStyle = LOSS;
      ctx.fillText((maxLoss * (1 - i / 5)).toFixed(2), left - 6, y + 4);
      ctx.textAlign = 'left';
      ctx.fillStyle = ACC;
      ctx.fillText(`${Math.round(100 * (1 - i / 5))}%`, right + 6, y + 4);
    }
    ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'center';
    const epochs = Math.round(this.totalSteps / this.stepsPerEpoch);
    for (let e = 0; e <= epochs; e++) {
      const x = xOf(e * this.stepsPerEpoch);
      ctx.strokeStyle = '#d1d5db';
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      if (e < epochs)
        ctx.fillText(`epoch ${e + 1}`, xOf((e + 0.5) * this.stepsPerEpoch), bottom + 14);
    }
    ctx.fillText('training step (batch)', (left + right) / 2, bottom + 28);

    const line = (pts: ChartPoint[], key: 'loss' | 'accuracy', color: string, width: number) => {
      if (pts.length === 0) return;
      const y = key === 'loss' ? yLoss : yAcc;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach((p, i) => {
        if (i === 0) ctx.moveTo(xOf(p.step), y(p[key]));
        else ctx.lineTo(xOf(p.step), y(p[key]));
      });
      ctx.stroke();
    };
    ctx.globalAlpha = 0.25;
    line(this.batches, 'loss', LOSS, 1);
    line(this.batches, 'accuracy', ACC, 1);
    ctx.globalAlpha = 1;
    line(this.smooth, 'loss', LOSS, 2);
    line(this.smooth, 'accuracy', ACC, 2);
    for (const p of this.epochs) {
      for (const [y, color] of [
        [yLoss(p.loss), LOSS],
        [yAcc(p.accuracy), ACC],
      ] as const) {
        ctx.fillStyle = color;
        ctx.strokeStyle = 'white';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.arc(xOf(p.step), y, 4.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    }
    // legend
    ctx.textAlign = 'left';
    ctx.font = '12px system-ui, sans-serif';
    const last = this.smooth[this.smooth.length - 1];
    ctx.fillStyle = LOSS;
    ctx.fillText(`loss${last ? ` ${last.loss.toFixed(3)}` : ''}`, left + 8, top + 14);
    ctx.fillStyle = ACC;
    ctx.fillText(
      `accuracy${last ? ` ${(100 * last.accuracy).toFixed(1)}%` : ''}`,
      left + 110,
      top + 14,
    );
  }
}
