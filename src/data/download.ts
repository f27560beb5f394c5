/**
 * Downloads into the cache: try each mirror in turn, write to a temporary name, verify the
 * published checksum, then rename. A failed or interrupted download never leaves a file
 * under the final name. Offline, the error lists the files and where to put them.
 */
import { DataError, DataNotFoundError } from './errors.js';

/** A file a loader may download: where from and its checksum. */
export interface RemoteFile {
  /** File name in the cache directory. */
  name: string;
  /** Full URLs, tried in order (the official location first, then mirrors). */
  urls: string[];
  /** The sha256 the bytes must have, hex. */
  sha256?: string;
  /** The md5 the bytes must have, hex (where the publisher gives only that). */
  md5?: string;
}

export async function fileDigest(bytes: Uint8Array, algorithm: 'sha256' | 'md5'): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash(algorithm).update(bytes).digest('hex');
}

/** Throws unless the bytes match the file's published checksum. */
export async function verifyChecksum(
  bytes: Uint8Array,
  file: Pick<RemoteFile, 'name' | 'sha256' | 'md5'>,
  where: string,
): Promise<void> {
  for (const alg of ['sha256', 'md5'] as const) {
    const want = file[alg];
    if (!want) continue;
    const got = await fileDigest(bytes, alg);
    if (got !== want) {
      throw new DataError(
        `${where}: ${file.name} fails its ${alg} checksum (got ${got}, expected ${want}); the file is corrupt or a different version. Delete it and try again.`,
      );
    }
    return;
  }
}

/** Downloads one file into dir (atomically, checksum verified) and returns its path. */
export async function download(
  file: RemoteFile,
  dir: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  const path = await import('node:path');
  const { makeDir, writeFileAtomic } = await import('../io/files.js');
  await makeDir(dir, `download ${file.name}`);
  const target = path.join(dir, file.name);
  const errors: string[] = [];
  for (const url of file.urls) {
    let bytes: Uint8Array;
    try {
      log(`Downloading ${url}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
      await verifyChecksum(bytes, file, url);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      errors.push(`${url}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
      continue;
    }
    // A full disk or a read-only cache is not a download problem: no other mirror helps.
    await writeFileAtomic(target, bytes, `download ${file.name}`);
    return target;
  }
  throw new DataNotFoundError(`could not download ${file.name}:\n  ${errors.join('\n  ')}`);
}

/** The message for a dataset that is neither on disk nor downloadable. */
export function offlineMessage(
  dataset: string,
  files: RemoteFile[],
  dir: string,
  reasons: string[],
  extra = '',
  /** How the files may come, after "Place these files". */
  how = '(gzipped or not)',
): string {
  return (
    `${dataset}: the data is not on this machine and could not be downloaded.\n` +
    `Place these files ${how} in ${dir}:\n` +
    files.map((f) => `  ${f.name}   from ${f.urls[0]}`).join('\n') +
    `\nor pass --data-dir DIR (dataDir in code) to read them from another folder.${extra}` +
    (reasons.length ? `\nWhat was tried:\n  ${reasons.join('\n  ')}` : '')
  );
}
