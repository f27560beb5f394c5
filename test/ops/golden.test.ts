/**
 * Golden values from PyTorch (float64; test/golden/make_golden.py, schema in test/golden/README.md):
 * for every case, receptive's op on the default backend (float32) must give the same output and
 * the same gradients of sum(output ⊙ upstream) with respect to every input.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as rc from '../../src/index.js';
import { assertClose, readJson, repoRoot } from '../helpers.js';

interface JsonTensor {
  shape: number[];
  data: number[];
  dtype?: 'int32';
}

interface GoldenCase {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: options differ per op and go straight to it
  options: Record<string, any>;
  inputs: Record<string, JsonTensor>;
  output: JsonTensor;
  upstream: JsonTensor;
  grads: Record<string, JsonTensor>;
}

interface GoldenFile {
  op: string;
  cases: GoldenCase[];
}

type Runner = (inputs: Record<string, rc.Tensor>, options: GoldenCase['options']) => rc.Tensor;

/** How each fixture op maps onto receptive's functional API. */
const runners: Record<string, Runner> = {
  conv2d: ({ x, w }, o) => rc.conv2d(x!, w!, o),
  depthwiseConv2d: ({ x, w }, o) => rc.depthwiseConv2d(x!, w!, o),
  conv2dTranspose: ({ x, w }, o) => rc.conv2dTranspose(x!, w!, o),
  maxPool2d: ({ x }, o) => rc.maxPool2d(x!, o),
  avgPool2d: ({ x }, o) => rc.avgPool2d(x!, o),
  batchNorm: ({ x, mean, variance, gamma, beta }, o) =>
    rc.batchNorm(x!, mean!, variance!, gamma!, beta!, o.epsilon),
  lrn: ({ x }, o) => rc.localResponseNorm(x!, o),
  softmaxCrossEntropy: ({ logits, labels }) => rc.softmaxCrossEntropy(logits!, labels!),
};

/**
 * float32 results against float64 references. The worst error seen is 2e-6 · max(1, |expected|),
 * so 1e-5 leaves a 5x margin.
 */
const TOL = { atol: 1e-5, rtol: 1e-5 };

const dir = 'test/fixtures/golden';

/** The op fixtures of test/golden/README.md, file by file. */
const opFiles: Record<string, string> = {
  'conv2d.json': 'conv2d',
  'depthwise_conv2d.json': 'depthwiseConv2d',
  'conv2d_transpose.json': 'conv2dTranspose',
  'max_pool2d.json': 'maxPool2d',
  'avg_pool2d.json': 'avgPool2d',
  'batch_norm.json': 'batchNorm',
  'lrn.json': 'lrn',
  'softmax_cross_entropy.json': 'softmaxCrossEntropy',
};

test('golden fixtures: every op file is present, and every op fixture has a runner', () => {
  for (const [file, op] of Object.entries(opFiles)) {
    assert.equal(readJson<GoldenFile>(join(dir, file)).op, op, file);
  }
  // The folder also holds fixtures of other schemas (optimizers); those with an `op` are ours.
  for (const file of readdirSync(join(repoRoot, dir)).filter((f) => f.endsWith('.json'))) {
    const { op } = readJson<Partial<GoldenFile>>(join(dir, file));
    if (typeof op === 'string') assert.ok(op in runners, `${file}: no runner for op '${op}'`);
  }
  assert.deepEqual(Object.values(opFiles).sort(), Object.keys(runners).sort());
});

function toTensor(t: JsonTensor): rc.Tensor {
  return rc.tensor(t.data, t.shape, t.dtype ?? 'float32');
}

for (const file of Object.keys(opFiles)) {
  const golden = readJson<GoldenFile>(join(dir, file));
  describe(`golden ${golden.op} (${file})`, () => {
    assert.ok(golden.cases.length > 0, `${file} has no cases`);
    for (const c of golden.cases) {
      test(c.name, () => {
        const run = runners[golden.op];
        assert.ok(run, `no runner for op '${golden.op}'`);
        const inputs: Record<string, rc.Tensor> = {};
        for (const [name, t] of Object.entries(c.inputs)) {
          inputs[name] = toTensor(t);
          if (name in c.grads) inputs[name].requiresGrad = true;
        }
        const out = run(inputs, c.options);
        const where = `${golden.op}/${c.name}`;
        assert.deepEqual(out.shape, c.output.shape, `${where}: output shape`);
        assertClose(out.dataSync(), c.output.data, { ...TOL, msg: `${where}: output` });

        rc.sum(rc.mul(out, toTensor(c.upstream))).backward();
        for (const [name, g] of Object.entries(c.grads)) {
          const got = inputs[name]!.grad;
          assert.ok(got, `${where}: no gradient for ${name}`);
          assert.deepEqual(got.shape, g.shape, `${where}: d/d${name} shape`);
          assertClose(got.dataSync(), g.data, { ...TOL, msg: `${where}: d/d${name}` });
        }
        // Inputs without a golden gradient (integer labels, one-hot targets) get none.
        for (const name of Object.keys(c.inputs)) {
          if (!(name in c.grads)) assert.equal(inputs[name]!.grad, null, `${where}: ${name}`);
        }
      });
    }
  });
}
