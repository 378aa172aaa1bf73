// Running the real `nyx` binary in tests: one-shot commands (with stdin, timing) and
// long-running servers that are up once they print their ready line.
import type { TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/cli/ -> the package root.
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RUN = path.join(ROOT, 'bin', 'run.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

/** Runs `nyx args` to completion (killed after 60 s); NYX_PD is unset unless given. */
export function nyx(
  args: string[],
  opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [RUN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NYX_PD: '', NYX_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdin.end(opts.input ?? '');
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface Server {
  child: ChildProcess;
  /** The ready line. */
  ready: string;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a long-running `nyx` command and resolves at its ready line; killed after the test. */
export async function startServer(t: TestContext, args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [RUN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NYX_PD: '', NYX_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // Only whole lines: a chunk may end in the middle of the ready line.
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => /ready: grpc /.test(l) || l.startsWith('NyxDB playground is up'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
  return { child, ready, output: () => out, exited };
}

export async function kill9(s: Server): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

/** The lines of a command's stderr. */
export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}
