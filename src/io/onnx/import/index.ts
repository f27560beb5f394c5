/**
 * ONNX import: `rc.importOnnx(pathOrBytes, options?)` builds a functional receptive Model from
 * an ONNX graph: every node becomes receptive layers with the file's weights (trainable as any
 * model's), constant expressions are folded at import, and the NCHW graph is held NHWC so the
 * model takes NHWC input like every receptive model (`inputLayout: 'nchw'` keeps NCHW input).
 * Bytes work anywhere; a path is read with Node's fs (loaded only then).
 */

import { Model } from '../../../model/model.js';
import { Input } from '../../../nn/functional.js';
import type { SymbolicTensor } from '../../../nn/layer.js';
import { Permute } from '../../../nn/layers/tensor_ops.js';
import { ArgumentError, IOError, OnnxImportError, ReceptiveError } from '../../../util/errors.js';
import { converterFor, ImportContext, supportedOps, type TensorVal } from './context.js';
import { decodeModel } from './decode.js';
import { foldableOps, tryFold } from './fold.js';
import './ops/activation.js';
import './ops/conv.js';
import './ops/dense.js';
import './ops/elementwise.js';
import './ops/norm.js';
import './ops/pool.js';
import './ops/resize.js';
import './ops/shape.js';

export interface OnnxImportOptions {
  /**
   * The layout of the model's 4-D inputs and outputs: 'nhwc' (default, receptive's [batch,
   * height, width, channels]) or 'nchw' (the file's own [batch, channels, height, width]).
   */
  inputLayout?: 'nhwc' | 'nchw';
  /** The model's name (default the graph's). */
  name?: string;
}

/** The operators importOnnx reads (converted to layers, or folded as constants), sorted. */
export function onnxImportableOps(): string[] {
  return [...new Set([...supportedOps(), ...foldableOps()])].sort();
}

async function readBytes(source: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  try {
    // Node's Buffer is a Uint8Array: taken as it is (the weights are read from it, not copied).
    return await fs.readFile(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IOError(
      `importOnnx: cannot read '${source}' (${code ?? (e as Error).message}).`,
      source,
      code,
    );
  }
}

/** The functional Model of an ONNX graph (bytes, or a file path under Node). */
export async function importOnnx(
  source: string | Uint8Array | ArrayBuffer,
  options: OnnxImportOptions = {},
): Promise<Model> {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    if (source.length === 0)
      throw new ArgumentError('importOnnx: needs a file path or the bytes of an .onnx file.');
    bytes = await readBytes(source);
  } else if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else
    throw new ArgumentError(
      `importOnnx: expects a file path, a Uint8Array or an ArrayBuffer, got ${source === null ? 'null' : typeof source}.`,
    );
  return importOnnxBytes(bytes, options);
}

/** importOnnx on bytes, synchronously (no file system: works in browsers too). */
export function importOnnxBytes(bytes: Uint8Array, options: OnnxImportOptions = {}): Model {
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError('importOnnxBytes: expects a Uint8Array.');
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(
      `importOnnx: options must be an object, got ${JSON.stringify(options)}.`,
    );
  const layout = options.inputLayout ?? 'nhwc';
  if (layout !== 'nhwc' && layout !== 'nchw')
    throw new ArgumentError(
      `importOnnx: inputLayout must be 'nhwc' or 'nchw', got ${JSON.stringify(options.inputLayout)}.`,
    );
  const graph = decodeModel(bytes);
  const cx = new ImportContext(graph);
  for (const [name, value] of graph.initializers) cx.values.set(name, { kind: 'const', value });

  const inputs: SymbolicTensor[] = [];
  for (const info of graph.inputs) {
    const s = info.shape;
    if (!s || s.length < 2)
      throw new OnnxImportError(
        `importOnnx: input '${info.name}' has ${s ? `rank ${s.length}` : 'no shape'}; importOnnx needs inputs of rank 2 or more: [batch, ...] with fixed sizes after the batch.`,
      );
    // float32, or float64 (computed in float32, as the weights are read).
    if (info.elemType !== 1 && info.elemType !== 11)
      throw new OnnxImportError(
        `importOnnx: input '${info.name}' is not float32 or float64 (element type ${info.elemType}); only floating-point inputs are supported.`,
      );
    const example = s.slice(1);
    if (example.some((d) => d === null))
      throw new OnnxImportError(
        `importOnnx: input '${info.name}' has the shape [${s.map((d) => d ?? '?').join(', ')}]: only the batch axis may be symbolic. Export the model with fixed image sizes.`,
      );
    if (s[0] !== null && cx.batchSize === null) cx.batchSize = s[0]!;
    // A file that already takes NHWC (receptive's own exports) transposes it to NCHW first:
    // that input is taken as it is, and the Transpose folds into the NHWC holding.
    const readers = graph.nodes.filter((n) => n.inputs.includes(info.name));
    const nhwcFile =
      readers.length > 0 &&
      readers.every(
        (n) =>
          n.opType === 'Transpose' &&
          (n.attrs.get('perm') as number[] | undefined)?.join() === '0,3,1,2',
      );
    const image = example.length === 3 && !nhwcFile;
    const nhwcShape = image ? [example[1]!, example[2]!, example[0]!] : (example as number[]);
    const name = cx.layerName(info.name);
    if (image && layout === 'nhwc') {
      const t = Input(nhwcShape as number[], { name });
      inputs.push(t);
      cx.values.set(info.name, cx.tensor(t, { kind: 'nhwc' }));
    } else {
      const t = Input(example as number[], { name });
      inputs.push(t);
      let v: TensorVal = cx.tensor(t);
      if (image) {
        const p = new Permute({ name: cx.layerName(`${info.name}_nhwc`), dims: [2, 3, 1] });
        v = cx.tensor(p.apply(t), { kind: 'nhwc' });
      }
      cx.values.set(info.name, v);
    }
  }
  if (inputs.length === 0)
    throw new OnnxImportError('importOnnx: the graph has no inputs (it computes a constant).');

  for (const node of graph.nodes) {
    if (cx.done.has(node)) continue;
    cx.node = node;
    try {
      if (node.domain && node.domain !== 'ai.onnx')
        throw cx.error(
          `the operator domain '${node.domain}' is not supported (only the default ONNX domain).`,
        );
      if (tryFold(node, cx)) continue;
      const convert = converterFor(node.opType);
      if (!convert)
        throw cx.error(
          `the operator ${node.opType} is not supported. Supported: ${onnxImportableOps().join(', ')}.`,
        );
      convert(node, cx);
      for (const [i, o] of node.outputs.entries())
        if (o && !cx.values.has(o) && cx.readers.get(o))
          throw cx.error(
            `its output ${i} ('${o}') is read by the graph, and importOnnx does not compute it.`,
          );
    } catch (e) {
      if (e instanceof OnnxImportError) throw e;
      // A layer's own error (a shape that does not fit), or a malformed node (an attribute of
      // the wrong kind): either way an import error that names the node.
      const what = e instanceof ReceptiveError ? e.message : `it cannot be read (${String(e)})`;
      throw cx.error(what);
    }
  }
  cx.node = null;

  const outputs = graph.outputs.map((o) => {
    const v = cx.values.get(o.name);
    if (!v)
      throw new OnnxImportError(
        `importOnnx: the graph output '${o.name}' is not computed by any node.`,
      );
    if (v.kind === 'const')
      throw new OnnxImportError(
        `importOnnx: the graph output '${o.name}' is a constant; it does not depend on the inputs.`,
      );
    // NHWC-held images stay NHWC unless the caller asked for the file's layout; a 'flat' value
    // goes back to ONNX's feature order (a user compares it with the original).
    return layout === 'nhwc' && v.layout.kind === 'nhwc' ? v.t : cx.toPlain(v).t;
  });
  try {
    return new Model({
      inputs,
      outputs,
      name: options.name ?? cx.layerName(graph.name || 'onnx_model'),
    });
  } catch (e) {
    if (e instanceof ReceptiveError) throw new OnnxImportError(`importOnnx: ${e.message}`);
    throw e;
  }
}
