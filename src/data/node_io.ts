/**
 * Node-only helpers for the data loaders, imported lazily so browser bundles stay clean:
 * reading files, gunzip, the cache directory.
 */
/** Reads a file; a fault (missing, unreadable) is an IOError naming it and `where`. */
export async function readFileBytes(path: string, where = 'read'): Promise<Uint8Array> {
  const { readFileChecked } = await import('../io/files.js');
  return readFileChecked(path, where);
}

export async function exists(path: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips when the bytes are gzip, else returns them as they are. */
export async function maybeGunzip(bytes: Uint8Array, what: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const zlib = await import('node:zlib');
  try {
    return new Uint8Array(zlib.gunzipSync(bytes));
  } catch (e) {
    const { DataError } = await import('./errors.js');
    throw new DataError(
      `${what}: the gzip data is corrupt or truncated (${(e as Error).message}). Delete the file and download it again.`,
    );
  }
}

/** Where downloaded datasets live: $RECEPTIVE_CACHE, else ~/.cache/receptive. */
export async function cacheDir(override?: string): Promise<string> {
  if (override) return override;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  if (env?.RECEPTIVE_CACHE) return env.RECEPTIVE_CACHE;
  const os = await import('node:os');
  const path = await import('node:path');
  return path.join(env?.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'receptive');
}
