#!/usr/bin/env node
// `npm run docs`: the API reference, docs/api/index.html, made by TypeDoc from the doc comments
// of the public entries (src/index.ts for Node, src/browser.ts for bundlers).
//
// TypeDoc 0.28 peers on TypeScript <= 6 while the project builds with TypeScript 7, so TypeDoc
// lives in tools/typedoc/ with its own lockfile (installed here on first use) and reads the
// sources with TypeScript 6 (tools/typedoc/tsconfig.json).
//
// Every warning fails the run (a broken {@link}, a public type that is not exported, ...), and
// so does an exported symbol without a doc comment, except those still listed in
// tools/typedoc/undocumented.txt. That list only shrinks: an entry that has been documented
// must be removed from it, so the check cannot go stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const tool = 'tools/typedoc';
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!existsSync(join(tool, 'node_modules/typedoc/package.json'))) {
  run('npm', ['ci', '--prefix', tool, '--no-audit', '--no-fund']);
}
// The sources import the generated wasm kernels.
if (!existsSync('src/backend/wasm/kernels_wasm.generated.ts')) {
  run(process.execPath, ['scripts/build-wasm.mjs']);
}

const r = spawnSync(
  process.execPath,
  [join(tool, 'node_modules/typedoc/bin/typedoc'), '--options', join(tool, 'typedoc.json')],
  { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
);
// biome-ignore lint/suspicious/noControlCharactersInRegex: TypeDoc colours its output
const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
const lines = output.split('\n');

const allowed = new Set(
  readFileSync(join(tool, 'undocumented.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);
const undocumented =
  /^\[warning\] (.+), defined in receptive\/(\S+), does not have any documentation/;
const seen = new Set();
const problems = [];
for (const line of lines) {
  if (line.startsWith('[error]')) problems.push(line);
  if (!line.startsWith('[warning]') || line.startsWith('[warning] Found ')) continue;
  const m = undocumented.exec(line);
  if (m) {
    const key = `${m[2]}  ${m[1]}`;
    seen.add(key);
    if (!allowed.has(key)) problems.push(line);
  } else {
    problems.push(line);
  }
}
// Warnings about a source position are printed over several lines: show those too.
for (const line of lines) if (/ - \[warning\] /.test(line)) problems.push(line);
const stale = [...allowed].filter((k) => !seen.has(k));

if (r.status !== 0 && problems.length === 0) {
  process.stderr.write(output);
  console.error(`docs: TypeDoc failed (exit ${r.status})`);
  process.exit(1);
}
if (problems.length > 0 || stale.length > 0) {
  for (const p of problems) console.error(p);
  if (stale.length > 0) {
    console.error(`docs: documented now, so remove from ${tool}/undocumented.txt:`);
    for (const s of stale) console.error(`  ${s}`);
  }
  console.error(`docs: ${problems.length} problem(s), ${stale.length} stale allowance(s)`);
  process.exit(1);
}
console.log(
  `docs: docs/api/index.html written (${allowed.size} symbols still undocumented, listed in ${tool}/undocumented.txt)`,
);
