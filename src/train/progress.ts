/**
 * The Keras-like progress display of fit(): in a terminal, a live bar per epoch with step
 * count, ETA and running loss and metrics (drawn by terminal_bar.ts, which the Node entry
 * loads); elsewhere (logs, CI, the browser console) one line per epoch.
 */
import { Callback, type Logs } from './callbacks.js';

/** A live bar: `{metrics}` in its format shows the payload's metrics. */
export interface TerminalBar {
  start(total: number, value: number, payload: { metrics: string }): void;
  update(value: number, payload: { metrics: string }): void;
  stop(): void;
}

/**
 * Makes the live bar; set by terminal_bar.ts, which only Node loads, so that a browser bundle
 * never holds the terminal library. Unset, fit() prints one line per epoch.
 */
let makeTerminalBar: (() => Promise<TerminalBar>) | null = null;

export function setTerminalBar(make: () => Promise<TerminalBar>): void {
  makeTerminalBar = make;
}

const proc = (globalThis as { process?: { stdout?: { isTTY?: boolean; columns?: number } } })
  .process;

export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'batchLoss' && k !== 'lr')
    .map(([k, v]) => `${k}: ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : v.toFixed(4)}`)
    .join(' - ');
}

function formatTime(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m ${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * Keras's progress bar, one per epoch, with ETA and the running loss and metrics (fit's
 * `verbose: 1` adds it). On a terminal it redraws in place; otherwise it prints one line per epoch.
 */
export class ProgressBar extends Callback {
  private bar: TerminalBar | null = null;
  private epochStart = 0;
  private lastDraw = 0;
  private readonly print: (line: string) => void;

  constructor(options: { print?: (line: string) => void } = {}) {
    super();
    this.print = options.print ?? ((l) => console.log(l));
  }

  private get live(): boolean {
    return this.params.verbose === 1 && Boolean(proc?.stdout?.isTTY) && makeTerminalBar !== null;
  }

  override async onTrainBegin(): Promise<void> {
    if (!this.live || this.bar) return;
    this.bar = await makeTerminalBar!();
  }

  override onEpochBegin(epoch: number): void {
    if (this.params.verbose === 0) return;
    this.print(`Epoch ${epoch + 1}/${this.params.epochs}`);
    this.epochStart = performance.now();
    this.bar?.start(this.params.steps, 0, { metrics: '' });
  }

  override onBatchEnd(batch: number, logs: Logs): void {
    if (!this.bar) return;
    const now = performance.now();
    // Formatting the payload costs little, but not every batch needs it.
    if (now - this.lastDraw > 100 || batch + 1 === this.params.steps) {
      this.lastDraw = now;
      this.bar.update(batch + 1, { metrics: formatLogs(logs) });
    }
  }

  override onEpochEnd(_epoch: number, logs: Logs): void {
    if (this.params.verbose === 0) return;
    this.bar?.stop();
    const secs = (performance.now() - this.epochStart) / 1000;
    const perStep = (secs * 1000) / Math.max(1, this.params.steps);
    this.print(
      `${this.params.steps}/${this.params.steps} - ${formatTime(secs)} ${perStep.toFixed(0)}ms/step - ${formatLogs(logs)}`,
    );
  }

  override onTrainEnd(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
