/**
 * The `receptive` command as a user runs it: the built dist/cli/main.js in a child process
 * (`npm run build` first; .ci/run does). One runner for every CLI test file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

export const CLI = join(repoRoot, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The folder the command runs in. */
  cwd: string;
  /** Added to the environment (NO_COLOR is always set; give RECEPTIVE_CACHE a scratch folder). */
  env?: Record<string, string>;
  /** Node's own arguments before the script (e.g. `--import hook.mjs`). */
  nodeArgs?: string[];
  /** Sees the output so far, and may send SIGINT (as Ctrl-C does). */
  onStdout?: (soFar: string, interrupt: () => void) => void;
}

/** Runs `receptive ...args` and resolves with its exit code, signal and output. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  if (!existsSync(CLI))
    assert.fail(`${CLI} is missing: run \`npm run build\` before the CLI tests (.ci/run does).`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      options.onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
