/**
 * ONNX's backend conformance cases, through importOnnx (Debian's libonnx-testdata; CI installs
 * it with apt). Every case of the `node`, `pytorch-converted` and `pytorch-operator` suites is run: it passes
 * (outputs within 1e-4 relative), is refused with an OnnxImportError (counted as unsupported:
 * 1-D and 3-D operators, integer inputs, operators not imported yet), or fails. No case may
 * fail, and the pass counts may not fall below what this version reaches.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { type CaseResult, cases, runCase, TESTDATA, tally } from './conformance.js';

const absent = existsSync(TESTDATA)
  ? false
  : `libonnx-testdata is not installed (${TESTDATA}); apt-get install libonnx-testdata`;

/** The passes this version reaches per suite; a change that loses one fails here. */
const FLOORS: Record<string, number> = {
  node: 133,
  'pytorch-converted': 49,
  'pytorch-operator': 14,
};

for (const suite of Object.keys(FLOORS)) {
  test(`ONNX conformance, ${suite} cases: none fails, passes per operator`, {
    skip: absent,
  }, () => {
    const results: CaseResult[] = cases(suite).map((dir) => runCase(dir));
    assert.ok(results.length > 0, `no cases under ${TESTDATA}/${suite}`);
    const table = [...tally(results)];
    const lines = table
      .filter(([, c]) => c.pass + c.fail > 0)
      .map(
        ([op, c]) =>
          `${op}: ${c.pass} pass${c.fail ? `, ${c.fail} FAIL` : ''}${c.unsupported ? `, ${c.unsupported} unsupported` : ''}`,
      );
    // Operators none of whose cases import, in one line: counted, not hidden.
    const refused = table
      .filter(([, c]) => c.pass + c.fail === 0)
      .map(([op, c]) => `${op} ${c.unsupported}`);
    const count = (o: string) => results.filter((r) => r.outcome === o).length;
    console.log(
      `ONNX conformance (${suite}): ${count('pass')} pass, ${count('fail')} fail, ${count('unsupported')} unsupported of ${results.length}\n  ${lines.join('\n  ')}\n  unsupported only: ${refused.join(', ')}`,
    );
    const failed = results.filter((r) => r.outcome === 'fail');
    assert.deepEqual(
      failed.map((r) => `${r.name}: ${r.detail}`),
      [],
      'cases that import but give other outputs',
    );
    assert.ok(
      count('pass') >= FLOORS[suite]!,
      `${count('pass')} cases pass, ${FLOORS[suite]} did before`,
    );
  });
}
