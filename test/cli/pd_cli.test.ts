// The real binary: `nyx pd start` as a child process on free loopback ports with a temp
// data dir, and `nyx tso` against it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeTs } from '../../src/pd/timestamp.js';

// dist/test/cli/ -> the package root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RUN = path.join(ROOT, 'bin', 'run.js');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nyx(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [RUN, ...args],
      { cwd: ROOT, env: { ...process.env, NYX_PD: '' }, timeout: 15_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

interface RunningPd {
  child: ChildProcess;
  grpc: string;
  status: string;
  exited: Promise<number | null>;
}

async function startPd(t: TestContext): Promise<RunningPd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-pd-cli-'));
  const [grpcPort, statusPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      RUN,
      'pd',
      'start',
      '--addr',
      `127.0.0.1:${grpcPort}`,
      '--status-addr',
      `127.0.0.1:${statusPort}`,
      '--data-dir',
      dir,
      '--initial-stores',
      '1',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NYX_LOG_LEVEL: 'warn' },
    },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let out = '';
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PD not ready in time:\n${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // Only whole lines: a chunk may end in the middle of the ready line.
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('PD ready:'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((code) => reject(new Error(`PD exited with ${code}:\n${out}`)));
  });
  assert.equal(
    ready,
    `PD ready: grpc 127.0.0.1:${grpcPort}, status http://127.0.0.1:${statusPort}`,
  );
  return { child, grpc: `127.0.0.1:${grpcPort}`, status: `127.0.0.1:${statusPort}`, exited };
}

test('nyx pd start serves nyx tso, and stops cleanly on SIGTERM', async (t) => {
  const pd = await startPd(t);

  const before = Date.now();
  const run = await nyx(['tso', '--pd', pd.grpc, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const d = JSON.parse(run.stdout) as {
    ts: string;
    physical: number;
    logical: number;
    time: string;
  };
  assert.equal(typeof d.ts, 'string');
  assert.equal(BigInt(d.ts), composeTs(d.physical, d.logical));
  assert.ok(d.logical >= 1);
  assert.ok(Math.abs(d.physical - before) < 60_000, `physical ${d.physical} vs now ${before}`);
  assert.equal(d.time, new Date(d.physical).toISOString());

  // The table form, and the second timestamp is above the first.
  const table = await nyx(['tso', '--pd', pd.grpc]);
  assert.equal(table.code, 0, table.stderr);
  const ts2 = /│ ts\s+│ (\d+)/.exec(table.stdout)?.[1];
  assert.ok(ts2 && BigInt(ts2) > BigInt(d.ts), table.stdout);
  assert.match(table.stdout, /time \(UTC\)/);

  const health = await fetch(`http://${pd.status}/health`);
  assert.equal(health.status, 200);
  const status = (await (await fetch(`http://${pd.status}/status`)).json()) as {
    role: string;
    bootstrapped: boolean;
  };
  assert.equal(status.role, 'pd');
  assert.equal(status.bootstrapped, false);

  pd.child.kill('SIGTERM');
  assert.equal(await pd.exited, 0);
});

test('nyx tso against no PD exits non-zero with one clear line', async () => {
  const run = await nyx(['tso', '--pd', '127.0.0.1:1']);
  assert.notEqual(run.code, 0);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'Error: cannot reach PD at 127.0.0.1:1 (connection refused)\n');
});

test('nyx tso --decode needs no PD', async () => {
  const ts = composeTs(1_700_000_000_000, 42);
  const run = await nyx(['tso', '--decode', ts.toString(), '--json', '--pd', '127.0.0.1:1']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    ts: ts.toString(),
    physical: 1_700_000_000_000,
    logical: 42,
    time: '2023-11-14T22:13:20.000Z',
  });
  const bad = await nyx(['tso', '--decode', 'nope']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.split('\n').filter(Boolean).length, 1);
  assert.match(bad.stderr, /^Error: not a timestamp/);
});
