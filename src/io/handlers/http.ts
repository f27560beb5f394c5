/**
 * Loading a model over HTTP with fetch (browsers, and Node 20, which has fetch): model.json,
 * then the weights file it names, resolved against model.json's URL. Progress is reported
 * by bytes of the weights where the server sends a Content-Length. A TensorFlow.js layers
 * model's model.json is built whole (import/tfjs_model.ts).
 */

import { IOError } from '../../util/errors.js';
import { isTfjsModelJson, MODEL_FILE, parseModelFile } from '../model_format.js';
import {
  type ConvertedModel,
  hasScheme,
  type LoadModelOptions,
  type ModelIOHandler,
  type ReadModel,
} from '../router.js';

/** The URL of model.json: `source` itself when it names a .json file, else model.json in it. */
function modelJsonUrl(source: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let url: URL;
  try {
    url = base === undefined ? new URL(source) : new URL(source, base);
  } catch {
    throw new IOError(`loadModel: '${source}' is not a valid URL.`, source);
  }
  if (!/\.json$/i.test(url.pathname)) {
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    url = new URL(MODEL_FILE, url);
  }
  return url.href;
}

/** The body of `url`, read chunk by chunk so that `onBytes(received, total)` can follow it. */
async function fetchBytes(
  url: string,
  what: string,
  onBytes?: (received: number, total: number | null) => void,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new IOError(
      `loadModel: cannot fetch ${what} ${url}: ${(e as Error).message}. Check the URL and that the server is up (and, in a page, that it allows this origin).`,
      url,
    );
  }
  if (!res.ok)
    throw new IOError(
      `loadModel: ${what} ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${res.status === 404 ? ': there is no such file. Give the URL of the model.json that model.save wrote, or of its folder' : ''}.`,
      url,
      `HTTP ${res.status}`,
    );
  const length = Number(res.headers.get('content-length'));
  // A compressed response's Content-Length counts compressed bytes: no total then.
  const total =
    Number.isFinite(length) && length > 0 && !res.headers.get('content-encoding') ? length : null;
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    if (!res.body) {
      const all = new Uint8Array(await res.arrayBuffer());
      chunks.push(all);
      received = all.length;
    } else {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        onBytes?.(received, total);
      }
    }
  } catch (e) {
    throw new IOError(
      `loadModel: the download of ${what} ${url} broke off after ${received} bytes${total ? ` of ${total}` : ''}: ${(e as Error).message}. Try again.`,
      url,
    );
  }
  if (total !== null && received !== total)
    throw new IOError(
      `loadModel: ${what} ${url} is incomplete: ${received} bytes arrived of the ${total} announced. Try again.`,
      url,
    );
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function load(
  source: string,
  options: LoadModelOptions,
): Promise<ReadModel | ConvertedModel> {
  const { onProgress } = options;
  let last = -1;
  // Monotone and within [0, 1], whatever the server announces.
  const report = (f: number) => {
    const v = Math.min(1, Math.max(last, f));
    if (v === last) return;
    last = v;
    onProgress?.(v);
  };
  report(0);
  const jsonUrl = modelJsonUrl(source);
  const text = new TextDecoder().decode(await fetchBytes(jsonUrl, 'the model file'));
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {} // parseModelFile says the file is corrupt
  if (isTfjsModelJson(json)) {
    // A TensorFlow.js model: built whole, its shards resolved against model.json's URL.
    const { tfjsModelFromJson } = await import('../import/tfjs_model.js');
    const converted = await tfjsModelFromJson(json, jsonUrl, (shard) =>
      fetchBytes(new URL(shard, jsonUrl).href, 'the weight shard'),
    );
    report(1);
    return { converted, jsonName: jsonUrl };
  }
  const parsed = parseModelFile(json, jsonUrl);
  const weightsUrl = new URL(parsed.file.weights.file, jsonUrl).href;
  const weights = await fetchBytes(weightsUrl, 'the weights file', (received, total) => {
    // Short of 1 until every byte is in: 1 means done.
    if (total) report(Math.min(received / total, 0.999));
  });
  report(1);
  return { ...parsed, weights, jsonName: jsonUrl, weightsName: weightsUrl };
}

/** http:// and https:// URLs of model.json or of its folder. */
export const httpHandler: ModelIOHandler = {
  description: 'an http(s) URL of model.json or of its folder (loading only)',
  matches: (target) => /^https?:\/\//i.test(target),
  load,
};

/** In a page or a worker, a URL relative to it (as fetch takes it). */
export const relativeUrlHandler: ModelIOHandler = {
  description: "a URL relative to the page, e.g. 'models/mnist/model.json' (loading only)",
  matches: (target) => !hasScheme(target),
  load,
};
