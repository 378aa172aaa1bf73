// The failpoint flags of the server commands, on the real `nyx` binary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAILPOINT_PANIC_EXIT_CODE } from '../../src/common/failpoint.js';
import { freePort } from '../../src/common/free_port.js';

const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

function nyx(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('--failpoints and NYX_FAILPOINTS', () => {
  test('an unknown name or a bad action stops the command with one line', async () => {
    let r = await nyx(['store', 'start', '--pd', '127.0.0.1:1', '--failpoints', 'nope=return']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').at(-1), 'Error: unknown failpoint "nope"');
    r = await nyx(['pd', 'start', '--failpoints', 'apply_before=explode']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: unknown failpoint action "explode"/m);
    r = await nyx(['pd', 'start'], { NYX_FAILPOINTS: 'apply_before' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: expected name=action, got "apply_before"/m);
  });

  test('NYX_FAILPOINTS pd_meta_before_write=1*panic crashes PD at its first metadata write; without it PD starts on the same data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-fp-pd-'));
    try {
      const args = [
        'pd',
        'start',
        '--data-dir',
        dir,
        '--addr',
        `127.0.0.1:${await freePort()}`,
        '--status-addr',
        `127.0.0.1:${await freePort()}`,
      ];
      const crashed = await nyx(args, {
        NYX_FAILPOINTS: 'tso_window_persist=off;pd_meta_before_write=1*panic',
      });
      assert.equal(crashed.code, FAILPOINT_PANIC_EXIT_CODE, crashed.stderr);
      assert.doesNotMatch(crashed.stdout, /PD ready/);
      const line = crashed.stderr.split('\n').find((l) => l.includes('failpoint panic'));
      assert.ok(line && JSON.parse(line).failpoint === 'pd_meta_before_write', crashed.stderr);
      assert.match(crashed.stdout + crashed.stderr, /failpoints enabled/);

      // Started normally on the same directory, PD comes up (and is stopped by SIGTERM).
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`PD not ready: ${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('PD ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
      // `nyx pd start` installs its signal handlers just after printing its ready line.
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out + err);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
