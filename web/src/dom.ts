/** The one element a selector names; a missing element is a bug in index.html, so it throws. */
export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`playground: no element ${selector} in index.html`);
  return el;
}
