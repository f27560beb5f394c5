/**
 * fit()'s live progress bar in a terminal, drawn by the cli-progress library. Node only: the
 * Node entry (index.ts) and the command line load this file, the browser entry does not, so
 * that bundles for the browser never see cli-progress. The library itself loads on first use.
 */
import { setTerminalBar, type TerminalBar } from './progress.js';

setTerminalBar(async () => {
  const { SingleBar } = (await import('cli-progress')).default;
  return new SingleBar({
    format: '{value}/{total} [{bar}] ETA {eta_formatted} - {metrics}',
    barCompleteChar: '=',
    barIncompleteChar: '.',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 10,
  }) as TerminalBar;
});
