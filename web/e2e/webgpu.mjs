// The WebGPU backend's tests, in Chromium on its WebGPU adapter (SwiftShader, a software one,
// where the machine has no GPU): test/page/webgpu_suite.ts, bundled with stand-ins for
// node:test and node:assert/strict (test/page/) and the browser entry in place of the Node
// one, checks the adapter and how tensors are read, then runs the conformance suite
// (test/backend/conformance*.test.ts) with its webgpu target: every kernel against the js
// reference. Prints a line a test (ok / FAIL / skip), the failures' messages, a summary, and
// exits non-zero on any failure. `npm run test:webgpu`.
//
// WEBGPU_ONLY=TEXT runs only the tests whose full name includes TEXT (e.g. elementwise);
// CI runs them all.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInChromium } from './webgpu_page.mjs';

const entry = fileURLToPath(new URL('../../test/page/webgpu_suite.ts', import.meta.url));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: apt-get install -y chromium (or set CHROMIUM).`);
  process.exit(1);
}
const only = process.env.WEBGPU_ONLY ?? '';

/** Node modules the suite imports, and what the page bundles in their place. */
const redirects = {
  'node:test': 'test/page/node_test.ts',
  'node:assert/strict': 'test/page/node_assert.ts',
  'src/index': 'src/browser.ts',
  'src/backend/native/native_addon': 'test/page/no_native_addon.ts',
};

const counts = { pass: 0, fail: 0, skip: 0 };
const failures = [];
function report(o) {
  counts[o.status]++;
  const secs = `(${(o.ms / 1000).toFixed(1)} s)`;
  if (o.status === 'pass') console.log(`ok   ${o.name} ${secs}`);
  else if (o.status === 'skip') console.log(`skip ${o.name}${o.message ? `: ${o.message}` : ''}`);
  else {
    failures.push(o);
    const detail = (o.stack ?? o.message ?? '').split('\n').slice(0, 6).join('\n     ');
    console.log(`FAIL ${o.name} ${secs}\n     ${detail}`);
  }
}

const started = Date.now();
let result;
let errors = [];
try {
  ({ result, errors } = await runInChromium(entry, {
    // A ceiling, not a measure: SwiftShader runs every shader on the CPU.
    timeoutMs: 1_800_000,
    redirects,
    query: only ? `?only=${encodeURIComponent(only)}` : '',
    onLog: (line) => {
      if (line.startsWith('__outcome ')) report(JSON.parse(line.slice('__outcome '.length)));
      else console.log(`[page] ${line}`);
    },
  }));
} catch (e) {
  console.log(`FAIL the page did not finish: ${e?.stack ?? e}`);
  process.exit(1);
}
const secs = ((Date.now() - started) / 1000).toFixed(0);
if (result?.error) {
  console.log(`FAIL ${result.error}`);
  process.exit(1);
}
const a = result.adapter;
console.log(
  `\nadapter: vendor '${a.vendor}', architecture '${a.architecture}'${a.description ? `, ${a.description}` : ''}`,
);
if (result.outcomes.length !== counts.pass + counts.fail + counts.skip) {
  console.log('FAIL the page logged fewer outcomes than it returned');
  counts.fail++;
}
if (errors.length > 0) {
  console.log(`FAIL errors in the page:\n     ${errors.join('\n     ')}`);
  counts.fail++;
}
console.log(
  `webgpu: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped` +
    `${only ? `, ${result.filteredOut} left out by WEBGPU_ONLY=${only}` : ''} (${secs} s)`,
);
if (failures.length > 0) {
  console.log('failed:');
  for (const f of failures) console.log(`  ${f.name}: ${(f.message ?? '').split('\n')[0]}`);
}
process.exit(counts.fail > 0 || result.outcomes.length === 0 ? 1 : 0);
