/**
 * 'downloads://name': the browser downloads the model's files, as a link the user clicked
 * would: name.json (model.json, naming its weights file) and name.safetensors. rc.loadModel
 * reads the pair back from a folder holding them (Node: the path of name.json) or from a URL.
 * model.exportOnnx('downloads://name.onnx') downloads the one ONNX file.
 */

import { ArgumentError, IOError } from '../../util/errors.js';
import { modelJsonText } from '../model_format.js';
import type { ModelIOHandler } from '../router.js';

const SCHEME = 'downloads://';

/** Starts the download of `bytes` as `fileName` (an anchor click on a Blob URL). */
function download(bytes: Uint8Array | string, fileName: string, type: string, where: string): void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc || typeof URL.createObjectURL !== 'function')
    throw new IOError(
      `${where}: 'downloads://' needs a page (a document to download from); in a worker, save to 'indexeddb://name' and download from the page, and in Node.js write to a path.`,
    );
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
  // The browser has taken the data by the time the click returns; give it a moment anyway.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function nameOf(target: string, where: string, ext: string): string {
  let name = target.slice(SCHEME.length) || 'model';
  if (/[/\\]/.test(name))
    throw new ArgumentError(
      `${where}: '${target}' has a folder in it; the browser chooses the folder, give a name only ('downloads://name').`,
    );
  if (ext && name.toLowerCase().endsWith(ext)) name = name.slice(0, -ext.length);
  return name;
}

export const downloadsHandler: ModelIOHandler = {
  description: "'downloads://name' (the browser's downloads: name.json and name.safetensors)",
  matches: (target) => target.startsWith(SCHEME),
  async save(target, { file, weights }, where) {
    const name = nameOf(target, where, '.json');
    const weightsFile = `${name}.safetensors`;
    // model.json names its weights file: this pair is found as it is downloaded.
    const json = modelJsonText({ ...file, weights: { ...file.weights, file: weightsFile } });
    download(weights, weightsFile, 'application/octet-stream', where);
    download(json, `${name}.json`, 'application/json', where);
  },
  async writeFile(target, bytes, where) {
    const fileName = target.slice(SCHEME.length);
    nameOf(target, where, '');
    if (!fileName)
      throw new ArgumentError(
        `${where}: '${target}' names no file; write 'downloads://name.onnx'.`,
      );
    download(bytes, fileName, 'application/octet-stream', where);
  },
};
