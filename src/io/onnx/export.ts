/**
 * ONNX export: `model.exportOnnx(path)` writes any Sequential or functional model whose layers
 * have exporters as an ONNX file (opset 17), encoded by protobufjs from the official schema.
 *
 * The graph takes and returns NHWC tensors, as receptive does ([batch, height, width,
 * channels], the batch axis symbolic). Inside, images are NCHW, ONNX's layout for Conv, pooling
 * and BatchNormalization: a Transpose follows the input, kernels are stored OIHW, and
 * Flatten/Reshape/Dense see NHWC again, so every feature keeps its place. Batch normalization is
 * exported in its inference form (moving statistics); dropout is left out; training-only
 * outputs (GoogLeNet's auxiliary classifiers) are not exported.
 */
import { Functional } from '../../nn/functional.js';
import { ArgumentError, fmtShape, NonFiniteError } from '../../util/errors.js';
import { firstNonFinite, fmtNonFinite } from '../../util/finite.js';
import { ExportContext, OnnxExportError } from './context.js';
import { OnnxGraph, type Value } from './graph.js';
import { DataType, IR_VERSION, OPSET, onnxType } from './schema.js';
import './exporters/attention.js';
import './exporters/conv.js';
import './exporters/core.js';
import './exporters/inception.js';
import './exporters/merge.js';
import './exporters/norm.js';
import './exporters/octave.js';
import './exporters/pool.js';
import './exporters/tensor_ops.js';

/** Options of model.exportOnnx and rc.encodeOnnx. */
export interface OnnxExportOptions {
  /** A fixed batch size for the graph's inputs and outputs; default symbolic ('batch'). */
  batchSize?: number;
  /** The graph's name (default the model's). */
  graphName?: string;
  /** Free text stored in the model (ModelProto.doc_string). */
  docString?: string;
}

function valueInfo(name: string, shape: (number | null)[], batchSize?: number) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: {
          dim: shape.map((d, i) =>
            d !== null
              ? { dim_value: d }
              : i === 0 && batchSize !== undefined
                ? { dim_value: batchSize }
                : { dim_param: i === 0 ? 'batch' : `dim${i}` },
          ),
        },
      },
    },
  };
}

/** The model as ONNX ModelProto bytes. */
export function encodeOnnx(model: Functional, options: OnnxExportOptions = {}): Uint8Array {
  if (!(model instanceof Functional))
    throw new ArgumentError('exportOnnx: expects a receptive Model or Sequential.');
  const { batchSize } = options;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))
    throw new ArgumentError(`exportOnnx: batchSize must be a positive integer, got ${batchSize}.`);
  if (model.outputs.length === 0)
    throw new OnnxExportError(
      `exportOnnx: ${model.label} is not built yet: give its first layer an inputShape, or call it on data once.`,
    );
  for (const w of model.weights) {
    const data = w.dataSync();
    const bad = firstNonFinite(data);
    // A runtime would load NaN weights without a word and answer NaN to every input.
    if (bad >= 0)
      throw new NonFiniteError(
        `exportOnnx: weight ${w.name} ${fmtShape(w.shape)} holds ${fmtNonFinite(data[bad]!)} at flat index ${bad}; a model with non-finite weights is not exported. Retrain it (a lower learning rate, clipNorm) or load good weights.`,
      );
  }
  const graph = new OnnxGraph();
  const ctx = new ExportContext(graph);
  const inputs: Value[] = model.inputs.map((t) => {
    const name = graph.uniqueName(t.layer.name);
    return { name, shape: t.shape, nchw: false };
  });
  const outputs = ctx.model(model, inputs).map((v) => graph.toNHWC(v));
  const inputNames = new Set(inputs.map((v) => v.name));
  const seen = new Set<string>();
  const outNames = outputs.map((v, i) => {
    // A graph output must be a node's output of its own: an input passed through, or a value
    // returned twice, goes through an Identity.
    if (inputNames.has(v.name) || seen.has(v.name))
      return graph.node('Identity', [v.name], {}, `output_${i}`);
    seen.add(v.name);
    return v.name;
  });
  const ModelProto = onnxType('ModelProto');
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'receptive',
    producer_version: '0.1.0',
    ...(options.docString ? { doc_string: options.docString } : {}),
    graph: {
      name: options.graphName ?? model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: inputs.map((v) => valueInfo(v.name, v.shape, batchSize)),
      output: outputs.map((v, i) => valueInfo(outNames[i]!, v.shape, batchSize)),
    },
  });
  return ModelProto.encode(message).finish();
}
