#!/usr/bin/env node
// Builds the optional native backend (native/: an N-API addon over oneDNN) with node-gyp.
// Runs as package.json's "install" script (again with `npm rebuild receptive`), and in a clone
// as `npm run build:native`. It never fails the install: if the build cannot run or fails (no
// compiler, no oneDNN, another OS), it prints one line saying why and how to build it later,
// writes the reason to native/build-status.txt (the backend's loader repeats it when someone
// asks for 'native'), and exits 0; receptive then runs on 'wasm'. The compiler's output goes to
// native/build.log. RECEPTIVE_NATIVE=0 skips the build (so do npm_config_receptive_native=0,
// which npm sets from `receptive-native=0` in an .npmrc though npm 11 warns of an unknown
// setting, and the older RECEPTIVE_SKIP_NATIVE=1).
//
// RECEPTIVE_NATIVE_SANITIZE=address|thread builds a sanitizer build instead, for hunting memory
// and threading bugs, in native/build-sanitize-<kind>/ (a copy of binding.gyp and src/, so the
// normal build stays), and prints how to run it; this one fails loudly (exit 1) if it cannot.
// Run node with the sanitizer's runtime preloaded (Node itself is not instrumented):
//   LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
//   RECEPTIVE_NATIVE_ADDON=native/build-sanitize-address/build/Release/receptive_native.node node …
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sanitize = process.env.RECEPTIVE_NATIVE_SANITIZE || '';
if (sanitize && sanitize !== 'address' && sanitize !== 'thread') {
  console.error(`RECEPTIVE_NATIVE_SANITIZE must be 'address' or 'thread', got '${sanitize}'.`);
  process.exit(1);
}
const dir = sanitize ? join(root, 'native', `build-sanitize-${sanitize}`) : join(root, 'native');
if (sanitize) {
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, 'native', 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(root, 'native', 'src'), join(dir, 'src'), { recursive: true });
}
const statusFile = join(dir, 'build-status.txt');
const logFile = join(dir, 'build.log');
const addonFile = join(dir, 'build', 'Release', 'receptive_native.node');

/** How to build it later, in a project that depends on receptive and in a clone of receptive. */
const HOW =
  'To build it: npm rebuild receptive (needs g++, make, Python 3 and oneDNN: apt-get install g++ make python3 libdnnl-dev); in a clone of receptive: npm run build:native';

function unavailable(why) {
  if (sanitize) {
    console.error(`receptive: the ${sanitize} sanitizer build failed (${why}).`);
    process.exit(1);
  }
  writeFileSync(statusFile, `${why}\n`);
  console.log(
    `receptive: the native backend was not built: ${why}. receptive runs on 'wasm'. ${HOW}`,
  );
  process.exit(0);
}

/** Which setting asked to skip the build, if one did. */
function skippedBy() {
  const off = (v) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());
  if (off(process.env.RECEPTIVE_NATIVE)) return `RECEPTIVE_NATIVE=${process.env.RECEPTIVE_NATIVE}`;
  if (off(process.env.npm_config_receptive_native))
    return `npm_config_receptive_native=${process.env.npm_config_receptive_native}`;
  const legacy = process.env.RECEPTIVE_SKIP_NATIVE;
  if (legacy && legacy !== '0') return 'RECEPTIVE_SKIP_NATIVE is set';
  return null;
}

/** The executable `cmd` names (a path, or a name looked up on PATH), or null if there is none. */
function which(cmd) {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  return (
    candidates.find((f) => {
      try {
        accessSync(f, constants.X_OK);
        return statSync(f).isFile();
      } catch {
        return false;
      }
    }) ?? null
  );
}

const skip = skippedBy();
if (skip && !sanitize) unavailable(`skipped: ${skip}`);
if (!existsSync(join(dir, 'binding.gyp'))) unavailable('native/binding.gyp is missing');

/** node-gyp: npm's own during npm scripts, else a local install, else the one bundled with npm. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  return candidates.find((c) => c && existsSync(c));
}

// The tools node-gyp's Makefile calls, checked first: a missing one is named, where node-gyp
// would only exit with 1. (Windows builds with MSBuild, which node-gyp finds and reports itself.)
if (process.platform !== 'win32') {
  const cxx = process.env.CXX?.trim() || 'g++'; // make's default; CXX may be "ccache g++"
  const exe = cxx.split(/\s+/)[0];
  if (!which(exe))
    unavailable(
      process.env.CXX?.trim()
        ? `the C++ compiler ${exe} was not found (CXX=${process.env.CXX})`
        : `the C++ compiler ${exe} was not found (CXX names another)`,
    );
  if (!which('make')) unavailable('make was not found (apt-get install make)');
}

const gyp = nodeGyp();
if (!gyp) unavailable('node-gyp was not found (it comes with npm)');

// Build against the running Node's own headers where they are installed (Debian's nodejs,
// most distributions), so that node-gyp need not download them.
const args = [gyp, 'rebuild', '--directory', dir];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(process.execPath, args, {
  cwd: dir,
  encoding: 'utf8',
  timeout: 600_000,
  env: { ...process.env, JOBS: process.env.JOBS ?? 'max' },
});
const log = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
writeFileSync(logFile, log);

/** The last lines of node-gyp's stderr that say something (not its stack, versions or paths). */
function tail(stderr) {
  const said = (stderr ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(
      (l) =>
        l.trim() &&
        !/^\s/.test(l) && // a Python traceback's source lines
        !/^gyp (info|http|verb|WARN)|^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok|\$npm_)/.test(
          l,
        ),
    );
  const last = said.slice(-2).join(' / ');
  return last ? `: ${last.length > 240 ? `${last.slice(0, 240)}…` : last}` : '';
}

if (r.status !== 0 || !existsSync(addonFile)) {
  // Name the usual causes; otherwise the first compiler error.
  const causes = [
    [
      /dnnl\.hpp: No such file|cannot find -ldnnl|dnnl\.hpp' file not found/,
      'oneDNN was not found (Debian/Ubuntu: apt-get install libdnnl-dev)',
    ],
    [/ERR! find Python|Could not find any Python/i, 'node-gyp needs Python 3'],
    [/make: (not found|No such file)|spawn make ENOENT|not found: make/, 'make was not found'],
    [
      /(g\+\+|c\+\+|clang\+\+)[^\n]*(not found|No such file)|spawn [^\n]*\+\+ ENOENT|CXX[^\n]*not found/,
      'no C++ compiler was found',
    ],
    [/openmp|omp\.h/i, 'the C++ compiler lacks OpenMP'],
    [
      /EAI_AGAIN|ENOTFOUND|getaddrinfo|ECONNREFUSED/,
      "Node's headers could not be downloaded (offline?)",
    ],
  ];
  // Only the lines that report a problem (node-gyp's info lines name Python, make, the compiler).
  const problems = log
    .split('\n')
    .filter((l) => /error|ERR!|not found|No such file|ENOENT|cannot find/i.test(l));
  const cause = causes.find(([re]) => problems.some((l) => re.test(l)))?.[1];
  // The compiler's first diagnostic, else make's complaint (a compiler that failed silently).
  const diagnostic = problems.find((l) => /\berror:/.test(l))?.trim();
  const compilerFailed = problems.some((l) => /^make: \*\*\*/.test(l));
  const compiler = process.env.CXX ?? 'g++';
  const why =
    r.error?.code === 'ETIMEDOUT'
      ? 'the build took more than 10 minutes'
      : (cause ??
        (diagnostic
          ? `the C++ build failed: ${diagnostic.slice(0, 160)}`
          : compilerFailed
            ? `the C++ compiler (${compiler}) failed`
            : `node-gyp exited with ${r.status}${tail(r.stderr)}`));
  unavailable(`${why}; details in native/build.log`);
}

if (sanitize) {
  // It loads only with the sanitizer's runtime preloaded: say how instead of loading it here.
  const lib = sanitize === 'address' ? 'libasan.so' : 'libtsan.so';
  const opts =
    sanitize === 'address' ? 'ASAN_OPTIONS=detect_leaks=0' : 'TSAN_OPTIONS=report_signal_unsafe=0';
  console.log(
    `receptive: built ${addonFile} with -fsanitize=${sanitize}. Run with:\n` +
      `  LD_PRELOAD=$(\${CXX:-c++} -print-file-name=${lib}) ${opts} RECEPTIVE_NATIVE_ADDON=${addonFile} node …`,
  );
  process.exit(0);
}

// Built: check that it loads (the shared libraries it needs are there).
try {
  const addon = createRequire(import.meta.url)(addonFile);
  const info = addon.info();
  rmSync(statusFile, { force: true });
  console.log(
    `receptive: built the native backend (oneDNN ${info.onednn}, ${info.isa}, ${info.threads} threads).`,
  );
} catch (e) {
  unavailable(`the addon was built but does not load: ${String(e.message).split('\n')[0]}`);
}
