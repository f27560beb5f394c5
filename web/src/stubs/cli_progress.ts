/**
 * Stands in for the cli-progress package in the browser bundle: the library's ProgressBar loads
 * it only when stdout is a terminal, which a page never has, so this is never called.
 */
class SingleBar {
  constructor() {
    throw new Error('cli-progress: there is no terminal in a browser');
  }
}
export default { SingleBar };
