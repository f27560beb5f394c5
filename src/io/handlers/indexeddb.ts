/**
 * 'indexeddb://name': models kept in the browser's IndexedDB (database 'receptive-models',
 * one record per name holding model.json's record and the weights bytes). A record is written
 * in one transaction, so a model is replaced whole or not at all.
 */

import { ArgumentError, IOError } from '../../util/errors.js';
import { ModelFileError, parseModelFile } from '../model_format.js';
import type { ModelIOHandler, ReadModel } from '../router.js';

const SCHEME = 'indexeddb://';
const DATABASE = 'receptive-models';
const STORE = 'models';

interface StoredModel {
  file: unknown;
  weights: Uint8Array;
  savedAt: string;
}

function nameOf(target: string, where: string): string {
  const name = target.slice(SCHEME.length);
  if (name.length === 0)
    throw new ArgumentError(`${where}: '${target}' names no model; write 'indexeddb://name'.`);
  return name;
}

/** The request's result, or its error as an IOError saying what `where` was doing. */
function done<T>(req: IDBRequest<T>, where: string, doing: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(idbError(req.error, where, doing));
  });
}

function idbError(e: DOMException | null, where: string, doing: string): IOError {
  const why =
    e?.name === 'QuotaExceededError'
      ? "the browser's storage quota for this site is used up. Remove saved models or free space"
      : `${e?.name ?? 'an error'}: ${e?.message ?? 'no details'}`;
  return new IOError(`${where}: IndexedDB failed to ${doing}: ${why}.`, undefined, e?.name);
}

async function openDatabase(where: string): Promise<IDBDatabase> {
  const factory = globalThis.indexedDB;
  if (!factory)
    throw new IOError(
      `${where}: IndexedDB is not available here (it is a browser's; a private window may lack it). In Node.js save to a directory instead.`,
    );
  const req = factory.open(DATABASE, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
  };
  return done(req, where, `open the database '${DATABASE}'`);
}

/** Runs `body` in one transaction on the model store and resolves once it has committed. */
async function withStore<T>(
  mode: IDBTransactionMode,
  where: string,
  doing: string,
  body: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDatabase(where);
  try {
    const tx = db.transaction(STORE, mode);
    const result = done(body(tx.objectStore(STORE)), where, doing);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = tx.onerror = () => reject(idbError(tx.error, where, doing));
    });
    return await result;
  } finally {
    db.close();
  }
}

async function load(source: string): Promise<ReadModel> {
  const name = nameOf(source, 'loadModel');
  const record = await withStore<StoredModel | undefined>(
    'readonly',
    'loadModel',
    `read '${name}'`,
    (s) => s.get(name) as IDBRequest<StoredModel | undefined>,
  );
  if (!record) {
    const names = await savedNames('loadModel');
    throw new ModelFileError(
      `loadModel: no model named '${name}' in IndexedDB; ${names.length ? `saved here: ${names.map((n) => `'${SCHEME}${n}'`).join(', ')}` : 'none is saved here'}. Save one with model.save('${source}').`,
    );
  }
  const parsed = parseModelFile(record.file, source);
  return {
    ...parsed,
    weights: record.weights,
    jsonName: source,
    weightsName: `the weights of ${source}`,
  };
}

/** The names of the models saved in IndexedDB. */
async function savedNames(where: string): Promise<string[]> {
  const keys = await withStore('readonly', where, 'list the saved models', (s) => s.getAllKeys());
  return keys.map(String);
}

export const indexedDbHandler: ModelIOHandler = {
  description: "'indexeddb://name' (the browser's IndexedDB)",
  matches: (target) => target.startsWith(SCHEME),
  load,
  async save(target, { file, weights }, where) {
    const name = nameOf(target, where);
    const record: StoredModel = { file, weights, savedAt: new Date().toISOString() };
    await withStore('readwrite', where, `save '${name}'`, (s) => s.put(record, name));
  },
  async exists(target) {
    const name = nameOf(target, 'exists');
    const n = await withStore('readonly', 'BackupAndRestore', `look up '${name}'`, (s) =>
      s.count(name),
    );
    return n > 0;
  },
  async remove(target) {
    const name = nameOf(target, 'remove');
    await withStore('readwrite', 'BackupAndRestore', `remove '${name}'`, (s) => s.delete(name));
  },
};
