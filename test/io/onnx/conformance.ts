/**
 * ONNX's backend conformance cases (Debian's libonnx-testdata: a model.onnx and
 * test_data_set_N/{input,output}_K.pb each) run through importOnnx. A case's extra graph
 * inputs that feed weights (Conv's W, Gemm's B ...) are made initializers first: receptive
 * models hold their weights; inputs that meet the data in Add/Sub/Mul/Div/Pow/Max/Min/Concat
 * stay inputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as rc from '../../../src/index.js';
import { decodeTensor } from '../../../src/io/onnx/import/decode.js';
import { onnxType } from '../../../src/io/onnx/schema.js';

export const TESTDATA = '/usr/share/libonnx-testdata/data';

export type Outcome = 'pass' | 'fail' | 'unsupported';
export interface CaseResult {
  name: string;
  /** The operator the case is about (its node's, or the one its name starts with). */
  op: string;
  outcome: Outcome;
  detail: string;
}

// biome-ignore lint/suspicious/noExplicitAny: protobufjs's plain objects.
type Plain = any;

const MERGE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Concat']);

function readTensor(path: string): Plain {
  const T = onnxType('TensorProto');
  return T.toObject(T.decode(readFileSync(path)), { longs: Number, defaults: false });
}

/** The case's model with weight-like inputs moved into its initializers, and the inputs left. */
function freezeWeights(
  modelBytes: Uint8Array,
  inputs: Plain[],
): { bytes: Uint8Array; feeds: Plain[] } {
  const M = onnxType('ModelProto');
  const m: Plain = M.toObject(M.decode(modelBytes), { longs: Number, defaults: false });
  const g = m.graph;
  const inits = new Set((g.initializer ?? []).map((t: Plain) => t.name));
  const real = ((g.input ?? []) as Plain[]).filter((i) => !inits.has(i.name));
  const feeds: Plain[] = [];
  const keep: Plain[] = [];
  real.forEach((info, i) => {
    const readers = (g.node as Plain[]).filter((n) => (n.input ?? []).includes(info.name));
    const rank = (inputs[i].dims ?? []).length;
    const stays = i === 0 || (rank >= 2 && readers.every((n) => MERGE_OPS.has(n.op_type)));
    if (stays) {
      keep.push(info);
      feeds.push(inputs[i]);
    } else {
      g.initializer = [...(g.initializer ?? []), { ...inputs[i], name: info.name }];
    }
  });
  g.input = [...keep, ...((g.input ?? []) as Plain[]).filter((i) => inits.has(i.name))];
  return { bytes: M.encode(M.fromObject(m)).finish(), feeds };
}

function caseOp(name: string, nodes: Plain[]): string {
  const key = name
    .replace(/^test_/, '')
    .replace(/_/g, '')
    .toLowerCase();
  const ops = [...new Set(nodes.map((n) => n.op_type as string))];
  // The longest operator name the case's name starts with (an _expanded case's graph lacks it).
  const named = [...new Set([...ops, ...rc.onnxImportableOps()])]
    .filter((o) => key.startsWith(o.toLowerCase()))
    .sort((a, b) => b.length - a.length);
  return (
    named[0] ?? (ops.length === 1 ? ops[0]! : name.replace(/^test_(operator_)?/, '').split('_')[0]!)
  );
}

function asTensor(t: Plain): rc.Tensor {
  const c = decodeTensor(t, 'test data');
  return rc.tensor(Float32Array.from(c.data), c.dims);
}

/** Runs one case directory; 'unsupported' when importOnnx refuses it with an OnnxImportError. */
export function runCase(dir: string, tolerance = 1e-4): CaseResult {
  const name = dir.split('/').pop()!;
  const modelBytes = readFileSync(join(dir, 'model.onnx'));
  const M = onnxType('ModelProto');
  const nodes: Plain[] = (M.toObject(M.decode(modelBytes)) as Plain).graph.node;
  const op = caseOp(name, nodes);
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort();
  const set = join(dir, sets[0]!);
  const files = readdirSync(set).sort(
    (a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]),
  );
  const inputs = files.filter((f) => f.startsWith('input_')).map((f) => readTensor(join(set, f)));
  const outputs = files.filter((f) => f.startsWith('output_')).map((f) => readTensor(join(set, f)));
  const { bytes, feeds } = freezeWeights(modelBytes, inputs);
  let model: rc.Model;
  try {
    model = rc.importOnnxBytes(bytes, { inputLayout: 'nchw' });
  } catch (e) {
    if (e instanceof rc.OnnxImportError)
      return { name, op, outcome: 'unsupported', detail: e.message };
    return {
      name,
      op,
      outcome: 'fail',
      detail: `import threw ${(e as Error).name}: ${(e as Error).message}`,
    };
  }
  try {
    const xs = feeds.map(asTensor);
    const got = model.callAll(xs.length === 1 ? xs[0]! : xs, { training: false });
    for (const [i, want] of outputs.entries()) {
      const w = decodeTensor(want, `output ${i}`);
      const y = got[i];
      if (!y) return { name, op, outcome: 'fail', detail: `output ${i} missing` };
      if (y.shape.join() !== w.dims.join())
        return {
          name,
          op,
          outcome: 'fail',
          detail: `output ${i} shape [${y.shape}] expected [${w.dims}]`,
        };
      const v = y.dataSync();
      for (let k = 0; k < v.length; k++) {
        const [got, want] = [v[k]!, w.data[k]!];
        // Equal values pass (infinities too: float64 data beyond float32's range), NaN for NaN.
        const same = got === want || (Number.isNaN(got) && Number.isNaN(want));
        if (!same && !(Math.abs(got - want) <= tolerance * (1 + Math.abs(want))))
          return {
            name,
            op,
            outcome: 'fail',
            detail: `output ${i}[${k}] = ${v[k]}, expected ${w.data[k]}`,
          };
      }
    }
    return { name, op, outcome: 'pass', detail: '' };
  } catch (e) {
    return {
      name,
      op,
      outcome: 'fail',
      detail: `run threw ${(e as Error).name}: ${(e as Error).message}`,
    };
  }
}

/** Every case directory of a suite ('node', 'pytorch-converted'); [] where the package is absent. */
export function cases(suite: string): string[] {
  const root = join(TESTDATA, suite);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'model.onnx')))
    .sort()
    .map((d) => join(root, d));
}

/** Pass / fail / unsupported counts per operator, as table lines. */
export function tally(results: CaseResult[]): Map<string, Record<Outcome, number>> {
  const byOp = new Map<string, Record<Outcome, number>>();
  for (const r of results) {
    const c = byOp.get(r.op) ?? { pass: 0, fail: 0, unsupported: 0 };
    c[r.outcome]++;
    byOp.set(r.op, c);
  }
  return new Map([...byOp].sort(([a], [b]) => a.localeCompare(b)));
}
