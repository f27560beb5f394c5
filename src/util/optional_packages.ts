/**
 * Optional npm packages, loaded on first use. receptive's heavy extras (vega and vega-lite for the
 * charts, @resvg/resvg-js for PNG) are optional peer dependencies: a plain `npm install receptive`
 * does not pull them. The feature that needs one loads it here, or learns that it is missing
 * through a MissingPackageError that names the package(s) and the command that installs them.
 */
import { MissingPackageError } from './errors.js';

export type PackageImporter = (name: string) => Promise<unknown>;

// The specifier is a variable so that bundlers do not try to resolve (and fail on) a package
// the user has not installed; Node resolves it at run time from the user's node_modules.
const nodeImport: PackageImporter = (name) =>
  import(/* webpackIgnore: true */ /* @vite-ignore */ name);

let importer: PackageImporter = nodeImport;

/**
 * Tests: load packages through `fn` instead (e.g. one that pretends a package is missing);
 * no argument restores Node's own import.
 */
export function setPackageImporter(fn?: PackageImporter): void {
  importer = fn ?? nodeImport;
}

/** Node's "not found" codes: an ES module import, and a require() inside a CommonJS package. */
function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Loads each of `names` for `op` (the function that needs them), whose `use` of them reads well
 * before "needs", e.g. 'drawing a Vega-Lite chart'. If any is not installed: a MissingPackageError
 * naming the missing ones and the command that installs them. Any other failure (a package that
 * is there but broken) is rethrown as it is.
 */
export async function importPackages(
  op: string,
  use: string,
  names: readonly string[],
): Promise<unknown[]> {
  const loaded: unknown[] = [];
  const missing: string[] = [];
  let detail = '';
  for (const name of names) {
    try {
      loaded.push(await importer(name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      missing.push(name);
      // A package that is there but lacks one of its own dependencies (a damaged install):
      // Node's first line names the one that is really missing.
      const first = String((e as Error).message).split('\n')[0] ?? '';
      if (!detail && !names.some((m) => first.includes(`'${m}'`))) detail = ` (${first})`;
    }
  }
  if (missing.length > 0) {
    const many = missing.length > 1;
    throw new MissingPackageError(
      `${op}: ${use} needs the npm package${many ? 's' : ''} ${missing.join(' and ')}, which ` +
        `${many ? 'are' : 'is'} not installed${detail}. Install with: npm install ${names.join(' ')}`,
      missing,
    );
  }
  return loaded;
}

const told = new Set<string>();

/** Prints `message` on stderr the first time it is asked for, and never again in this process. */
export function noticeOnce(message: string): void {
  if (told.has(message)) return;
  told.add(message);
  console.warn(message);
}
