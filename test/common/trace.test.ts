// The stage tracer: records nothing unless NYX_TRACE names a directory; then one file per
// process with `<µs> <stage>` lines on the machine-wide monotonic clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const traceModule = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'src',
  'common',
  'trace.js',
);

function runChild(env: Record<string, string>): void {
  const script =
    `const t = await import(${JSON.stringify(traceModule)});` +
    `t.trace('first'); t.trace(t.messageStage('send', 'App', 2)); t.trace('last');`;
  const childEnv: Record<string, string> = { ...(process.env as Record<string, string>), ...env };
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: childEnv });
}

test('with NYX_TRACE set, a process writes its stages in order to <dir>/<pid>.trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-trace-'));
  try {
    const before = process.hrtime.bigint() / 1000n;
    runChild({ NYX_TRACE: dir });
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.trace'));
    assert.equal(files.length, 1);
    const lines = fs.readFileSync(path.join(dir, files[0]!), 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[1]),
      ['first', 'send.App+', 'last'],
    );
    const times = lines.map((l) => BigInt(l.split(' ')[0]!));
    // The same clock as this process's (CLOCK_MONOTONIC), so files of processes merge.
    assert.ok(times[0]! >= before, `${times[0]} < ${before}`);
    assert.ok(times[0]! <= times[1]! && times[1]! <= times[2]!);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without NYX_TRACE (or with it empty) the tracer is off', () => {
  const probe =
    `const t = await import(${JSON.stringify(traceModule)});` +
    `process.stdout.write(String(t.tracing));`;
  for (const value of [undefined, '']) {
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete env['NYX_TRACE'];
    if (value !== undefined) env['NYX_TRACE'] = value;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { env });
    assert.equal(out.toString(), 'false');
  }
});
