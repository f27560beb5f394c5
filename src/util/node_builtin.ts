/**
 * Node's built-in modules for code that runs anywhere but touches Node only when used (a
 * backup on disk, the thread count): reached through process.getBuiltinModule (Node 20.16+),
 * which bundlers do not follow, where `import('node:fs')` makes them fail or warn for the
 * browser build. Undefined outside Node.
 */
export function nodeBuiltin<T>(id: `node:${string}`): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}
