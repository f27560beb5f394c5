/**
 * Files that are never half-written, and file-system faults in words. writeFileAtomic writes
 * to a temporary name in the same directory, flushes to disk, then renames over the target (a
 * rename within a directory is atomic); on any failure the temporary file is removed. Every
 * system error (disk full, permission denied, a missing folder, ...) becomes an IOError naming
 * the user's path, what went wrong and what to do. Node only; node:fs is imported lazily so
 * browser bundles do not pull it in.
 */
import { IOError, ReceptiveError } from '../util/errors.js';

type FsPromises = typeof import('node:fs/promises');

/**
 * Tests put a failing file system here to reach faults no real disk gives them (a full disk
 * where nothing can be mounted). Not public API.
 */
export const fileSystemForTests: { fs: FsPromises | null } = { fs: null };

async function fsp(): Promise<FsPromises> {
  return fileSystemForTests.fs ?? (await import('node:fs/promises'));
}

/** What was being done: the verb of the message ("cannot write 'out/model.json'"). */
export type IOAction = 'read' | 'write' | 'create the folder' | 'list the folder' | 'remove';

/** The system's error code in words, and what to do about it. */
function explain(code: string, action: IOAction, path: string): [string, string] {
  switch (code) {
    case 'ENOSPC':
      return ['no space is left on the device', 'Free some space or write somewhere else.'];
    case 'EDQUOT':
      return ['the disk quota is exceeded', 'Free some space or write somewhere else.'];
    case 'EACCES':
    case 'EPERM':
      return action === 'read' || action === 'list the folder'
        ? ['permission denied', 'Check its permissions, or run as a user who may read it.']
        : ['permission denied', 'Choose a folder you may write to, or change its permissions.'];
    case 'EROFS':
      return ['the file system is read-only', 'Write to a folder on a writable disk.'];
    case 'ENOENT':
      return action === 'write'
        ? [
            `its folder '${dirname(path)}' does not exist`,
            'Create the folder first, or choose another path.',
          ]
        : ['it does not exist', 'Check the path (relative paths start from the current folder).'];
    case 'ENOTDIR':
      return action === 'list the folder'
        ? ['it is a file, not a folder', 'Give the path of a folder.']
        : [
            'a part of the path is a file, not a folder',
            'Remove or rename that file, or choose another path.',
          ];
    case 'EISDIR':
      return ['it is a folder, not a file', 'Give the path of a file, or remove the folder.'];
    case 'EEXIST':
      return action === 'create the folder'
        ? [
            'a file of that name is in the way (a folder is needed)',
            'Remove or rename the file, or choose another path.',
          ]
        : ['something of that name is in the way', 'Remove it, or choose another path.'];
    case 'ENOTEMPTY':
      return ['a folder of that name is in the way', 'Remove the folder, or choose another path.'];
    case 'EMFILE':
    case 'ENFILE':
      return ['too many files are open', 'Close other programs, or raise the limit (ulimit -n).'];
    case 'EIO':
      return ['the device reported an input/output error', 'Check the disk.'];
    case 'ENAMETOOLONG':
      return ['the name is too long', 'Use a shorter path.'];
    case 'EFBIG':
      return ['the file is too large for this file system', 'Write it to another disk.'];
    default:
      return [`the system says ${code}`, 'Check the path, the disk and its permissions.'];
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * Turns a Node file-system error into an IOError naming `path` (the user's, not a temporary
 * one) and what `where` (an op, e.g. 'model.save') was doing. Errors without a system code
 * (a ReceptiveError, a bug) pass through unchanged.
 */
export function toIOError(e: unknown, where: string, action: IOAction, path: string): unknown {
  if (e instanceof ReceptiveError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  const [what, todo] = explain(code, action, path);
  return new IOError(`${where}: cannot ${action} '${path}': ${what}. ${todo}`, path, code);
}

/** Writes a file atomically; any failure removes the temporary file and throws an IOError. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  where = 'writeFileAtomic',
): Promise<void> {
  const fs = await fsp();
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let handle: import('node:fs/promises').FileHandle | null = null;
  try {
    handle = await fs.open(tmp, 'w');
    await handle.writeFile(data);
    await handle.sync();
    const h = handle;
    handle = null;
    await h.close();
    await fs.rename(tmp, path);
  } catch (e) {
    // A full disk must not stay full of our litter: close and remove whatever was written.
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw toIOError(e, where, 'write', path);
  }
}

/** Creates a folder and its parents (fine if it exists); faults become IOErrors naming `dir`. */
export async function makeDir(dir: string, where: string): Promise<string | undefined> {
  const fs = await fsp();
  try {
    return await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw toIOError(await realMkdirError(fs, dir, e), where, 'create the folder', dir);
  }
}

/**
 * Node's recursive mkdir reports ENOENT for any failure to create a missing level (a
 * read-only disk, no permission): create the first missing level alone to learn the real one.
 */
async function realMkdirError(fs: FsPromises, dir: string, e: unknown): Promise<unknown> {
  if ((e as { code?: unknown })?.code !== 'ENOENT') return e;
  const path = await import('node:path');
  let child = path.resolve(dir);
  for (let parent = path.dirname(child); parent !== child; parent = path.dirname(parent)) {
    const found = await fs.stat(parent).then(
      () => true,
      () => false,
    );
    if (found)
      return fs.mkdir(child).then(
        () => e,
        (real: unknown) => real,
      );
    child = parent;
  }
  return e;
}

/** Reads a whole file; faults (a missing file first of all) become IOErrors naming it. */
export async function readFileChecked(path: string, where: string): Promise<Uint8Array> {
  const fs = await fsp();
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    throw toIOError(e, where, 'read', path);
  }
}

/**
 * Makes sure results can be written into `dir` before hours of work produce them: creates it
 * (and its parents), writes and removes a probe file. Returns a function that removes the
 * folders this call created (for when the work never starts), or a no-op.
 */
export async function checkWritableDir(dir: string, where: string): Promise<() => Promise<void>> {
  const fs = await fsp();
  const created = await makeDir(dir, where);
  const probe = `${dir.replace(/[/\\]+$/, '')}/.receptive-write-test-${process.pid}`;
  try {
    const h = await fs.open(probe, 'w');
    try {
      await h.writeFile('ok');
      await h.sync();
    } finally {
      await h.close();
    }
  } catch (e) {
    await fs.rm(probe, { force: true }).catch(() => {});
    throw toIOError(e, where, 'write', dir);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => {});
  }
  // Only empty folders are removed (rmdir), from the deepest up to the first one created.
  return async () => {
    if (created === undefined) return;
    const path = await import('node:path');
    const top = path.resolve(created);
    for (let d = path.resolve(dir); d.startsWith(top); d = path.dirname(d)) {
      if (
        !(await fs.rmdir(d).then(
          () => true,
          () => false,
        ))
      )
        return;
      if (d === top) return;
    }
  };
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(data).digest('hex');
}
