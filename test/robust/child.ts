/**
 * Runs a snippet of ES-module code in its own Node process, for reproductions that could end the
 * process (an abort in the native addon, a crashed worker) or hang it (a timeout ends it).
 * `rc` is receptive's compiled index, already imported.
 */
import { spawnSync } from 'node:child_process';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const index = new URL('../../src/index.js', import.meta.url).href;

export function runChild(
  code: string,
  options: { env?: Record<string, string>; timeoutMs?: number; nodeArgs?: string[] } = {},
): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const r = spawnSync(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--input-type=module',
      '-e',
      `import * as rc from ${JSON.stringify(index)};\n${code}`,
    ],
    { env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 },
  );
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
}

/** A one-line account of a child run, for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `status ${r.status}, signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
}
