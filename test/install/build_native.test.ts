/**
 * scripts/build-native.mjs, the install script, run as npm runs it (a child process) on a copy
 * of the package in a temporary folder, so that the repository's own addon build stays: it never
 * fails the install, says in one line why the native backend was not built and how to build it
 * (in a user's project and in a clone), and names a missing compiler instead of node-gyp's exit code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { notBuiltReason } from '../../src/backend/native/native_addon.js';
import { repoRoot, tempDirs } from '../helpers.js';

const tempDir = tempDirs('receptive-install-');

/** A package folder with the script and native/ as the tarball has them. */
function packageCopy(): string {
  const root = tempDir();
  mkdirSync(join(root, 'scripts'));
  cpSync(join(repoRoot, 'scripts', 'build-native.mjs'), join(root, 'scripts', 'build-native.mjs'));
  cpSync(join(repoRoot, 'native', 'binding.gyp'), join(root, 'native', 'binding.gyp'));
  cpSync(join(repoRoot, 'native', 'src'), join(root, 'native', 'src'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{ "name": "receptive" }\n');
  return root;
}

function install(root: string, env: Record<string, string>) {
  const clean = { ...process.env };
  for (const k of [
    'RECEPTIVE_NATIVE',
    'RECEPTIVE_SKIP_NATIVE',
    'npm_config_receptive_native',
    'CXX',
  ])
    delete clean[k];
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
    cwd: root,
    env: { ...clean, ...env },
    encoding: 'utf8',
  });
  const statusFile = (() => {
    try {
      return readFileSync(join(root, 'native', 'build-status.txt'), 'utf8').trim();
    } catch {
      return null;
    }
  })();
  return { ...r, statusFile };
}

/** The one line every "not built" case prints: why, then how to build it in both places. */
function assertOneLine(stdout: string, why: RegExp) {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, stdout);
  assert.match(lines[0]!, /^receptive: the native backend was not built: /);
  assert.match(lines[0]!, why);
  assert.match(
    lines[0]!,
    /receptive runs on 'wasm'\. To build it: npm rebuild receptive \(needs g\+\+, make, Python 3 and oneDNN: apt-get install g\+\+ make python3 libdnnl-dev\); in a clone of receptive: npm run build:native$/,
  );
}

test('RECEPTIVE_NATIVE=0 skips the build: exit 0, one line, the reason kept for the loader', () => {
  for (const [env, said] of [
    [{ RECEPTIVE_NATIVE: '0' }, 'skipped: RECEPTIVE_NATIVE=0'],
    [{ RECEPTIVE_NATIVE: 'false' }, 'skipped: RECEPTIVE_NATIVE=false'],
    [{ npm_config_receptive_native: '0' }, 'skipped: npm_config_receptive_native=0'],
    [{ RECEPTIVE_SKIP_NATIVE: '1' }, 'skipped: RECEPTIVE_SKIP_NATIVE is set'],
  ] as const) {
    const root = packageCopy();
    const r = install(root, env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assertOneLine(r.stdout, new RegExp(said.replace(/[-=]/g, '\\$&')));
    assert.equal(r.statusFile, said);
  }
});

test('a compiler that is not there is named, before node-gyp runs', () => {
  const root = packageCopy();
  const r = install(root, { CXX: '/nonexistent/g++' });
  assert.equal(r.status, 0, r.stderr);
  assertOneLine(
    r.stdout,
    /the C\+\+ compiler \/nonexistent\/g\+\+ was not found \(CXX=\/nonexistent\/g\+\+\)\./,
  );
  assert.doesNotMatch(r.stdout, /node-gyp exited/);
  // A compiler command with a wrapper: the first word is what must exist.
  const wrapped = install(packageCopy(), { CXX: 'no-such-ccache g++' });
  assertOneLine(wrapped.stdout, /the C\+\+ compiler no-such-ccache was not found/);
});

test('a failure it does not recognise ends with node-gyp’s own last words, not only its exit code', (t) => {
  const root = packageCopy();
  writeFileSync(join(root, 'native', 'binding.gyp'), '{ "targets": [ \n');
  const r = install(root, {});
  assert.equal(r.status, 0, r.stderr);
  if (/node-gyp was not found|compiler .* was not found|make was not found/.test(r.stdout))
    return t.skip(`no build tools here: ${r.stdout}`);
  assertOneLine(r.stdout, /node-gyp exited with 1: .*(SyntaxError|gyp ERR! configure error)/);
  assert.match(r.stdout, /details in native\/build\.log/);
});

test("the loader's reason says what builds the addon in a user's project and in a clone", () => {
  const reason = notBuiltReason('skipped: RECEPTIVE_NATIVE=0');
  assert.match(reason, /^skipped: RECEPTIVE_NATIVE=0; `npm rebuild receptive` builds it/);
  assert.match(reason, /in a clone of receptive: `npm run build:native`/);
  assert.doesNotMatch(
    reason.replace(/in a clone of receptive: `npm run build:native`/, ''),
    /npm run/,
  );
});
