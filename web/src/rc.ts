/** The library, browser-safe subset (src/browser.ts): everything the playground uses comes from here. */
export * from '../../src/browser.js';
