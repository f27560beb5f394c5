/**
 * Keeps the values a canvas shows on it (`canvas.values`), for the end-to-end test and the
 * browser's console: the model's input and heat maps in "Draw a digit", the images and weights
 * in "What filters see".
 */
export function keepValues(canvas: HTMLCanvasElement, values: Float32Array | null): void {
  (canvas as HTMLCanvasElement & { values: Float32Array | null }).values = values;
}

/** The one element a selector names; a missing element is a bug in index.html, so it throws. */
export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`playground: no element ${selector} in index.html`);
  return el;
}
