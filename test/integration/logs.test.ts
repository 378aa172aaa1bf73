// Server logs go to stderr or a file, never to stdout (which carries only a command's own
// output, here the ready line); JSON lines with level names by default, text on request.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePortRange } from '../../src/common/free_port.js';
import { ROOT, RUN } from '../cli/nyx.js';

interface Finished {
  stdout: string;
  stderr: string;
  code: number | null;
}

function tmp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-logs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a server command until its ready line, then SIGTERM; everything it printed. */
async function runUntilReady(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const child = spawn(process.execPath, [RUN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NYX_PD: '', NYX_LOG_LEVEL: 'info', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/ready: grpc /.test(stdout)) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(killer);
  return { stdout, stderr, code };
}

async function pdArgs(dir: string): Promise<string[]> {
  const port = await freePortRange(2);
  return [
    'pd',
    'start',
    '--data-dir',
    path.join(dir, 'pd'),
    '--addr',
    `127.0.0.1:${port + 1}`,
    '--status-addr',
    `127.0.0.1:${port}`,
  ];
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('pd start: stdout is the ready line alone; the log is JSON on stderr with level names', async (t) => {
  const r = await runUntilReady(await pdArgs(tmp(t)));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PD ready: grpc 127\.0\.0\.1:\d+, status http:\/\/127\.0\.0\.1:\d+\n$/);
  const lines = jsonLines(r.stderr);
  assert.ok(lines.some((l) => l.msg === 'PD started'));
  assert.ok(lines.some((l) => l.msg === 'PD stopped'));
  for (const l of lines) {
    assert.equal(l.component, 'pd');
    assert.ok(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(l.level as string),
      String(l.level),
    );
    assert.match(String(l.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
});

test('--log-format text: one readable line per record', async (t) => {
  const r = await runUntilReady([...(await pdArgs(tmp(t))), '--log-format', 'text']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PD ready: /);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 2, r.stderr);
  for (const l of lines)
    assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO |WARN |ERROR|DEBUG) pd: /);
  assert.ok(
    lines.some((l) => / INFO {2}pd: PD started clusterId=\d+ grpc=127\.0\.0\.1:\d+ /.test(l)),
  );
  const bad = await runUntilReady([...(await pdArgs(tmp(t))), '--log-format', 'xml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Expected --log-format=xml to be one of: json, text/);
});

test('--log-file: the log goes to the file, stderr and stdout stay clean', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'logs', 'pd.log');
  const r = await runUntilReady([...(await pdArgs(dir)), '--log-file', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^PD ready: [^\n]*\n$/);
  const lines = jsonLines(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(
    lines
      .filter((l) => l.msg === 'PD started' || l.msg === 'PD stopped')
      .map((l) => [l.level, l.msg]),
    [
      ['info', 'PD started'],
      ['info', 'PD stopped'],
    ],
  );
});
