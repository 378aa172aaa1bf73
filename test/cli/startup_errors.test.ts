// Failing well, on real processes: bad flags refused at parse time, PD unreachable within
// --timeout, a store that waits for PD in plain sight, ports in use and locked data dirs
// as one clear line (for pd start, store start and the playground).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/common/free_port.js';
import { spawn } from 'node:child_process';
import { kill9, lines, nyx, ROOT, RUN, startServer } from './nyx.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return fs.realpathSync(dir);
}

/** Holds a port on 127.0.0.1 for the rest of the test. */
async function occupy(t: TestContext): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => srv.close(r)));
  return (srv.address() as net.AddressInfo).port;
}

/** How long `nyx` takes to start and exit here doing nothing on the network. */
async function startupMs(): Promise<number> {
  const r = await nyx(['tso', '--decode', '1']);
  assert.equal(r.code, 0, r.stderr);
  return r.ms;
}

function assertOneLineError(
  r: { code: number | null; stdout: string; stderr: string },
  line: string,
  stdout = '',
): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, stdout);
  assert.equal(r.stderr, `Error: ${line}\n`);
}

test('bad --pd and listen addresses are refused at parse time, with one line', async () => {
  // A long --timeout: were the address tried on the network, the command would wait.
  const cases: [string[], string][] = [
    [['kv', 'get', 'k', '--pd', 'localhost'], '--pd: "localhost" is not host:port'],
    [
      ['tso', '--pd', '127.0.0.1:99999'],
      '--pd: "127.0.0.1:99999": port 99999 is out of range (1-65535)',
    ],
    [
      ['store', 'list', '--pd', 'a:1,exa mple:2'],
      '--pd: "exa mple:2": "exa mple" is not a valid host name or IP address',
    ],
    [['store', 'start', '--pd', 'localhost'], '--pd: "localhost" is not host:port'],
    [
      ['store', 'start', '--addr', '127.0.0.1:70000'],
      '--addr: "127.0.0.1:70000": port 70000 is out of range (0-65535)',
    ],
    [['pd', 'start', '--status-addr', 'nohost'], '--status-addr: "nohost" is not host:port'],
    [
      ['kv', 'get', 'k', '--timeout', 'soon'],
      '--timeout: "soon" is not a duration (e.g. 5s, 500ms, 2m)',
    ],
    [['kv', 'get'], 'Missing 1 required arg: key'],
  ];
  const base = await startupMs();
  for (const [args, line] of cases) {
    const r = await nyx([
      ...args,
      ...(args.includes('--timeout')
        ? []
        : args[0] === 'kv' || args[0] === 'tso'
          ? ['--timeout', '60s']
          : []),
    ]);
    assertOneLineError(r, line);
    assert.ok(r.ms < base + 5000, `${args.join(' ')} took ${r.ms} ms (startup ${base} ms)`);
  }
});

test('PD unreachable fails within --timeout, saying so', async () => {
  for (const args of [
    ['tso', '--pd', '127.0.0.1:1', '--timeout', '1s'],
    ['kv', 'get', 'k', '--pd', '127.0.0.1:1', '--timeout', '2s'],
    ['store', 'list', '--pd', '127.0.0.1:1', '--timeout', '1500ms'],
  ]) {
    // Startup varies with the machine's load: measured beside each command, the slower of
    // the two runs counts. 2 s on top stays below the default timeout (5 s) it must not wait.
    const before = await startupMs();
    const r = await nyx(args);
    const base = Math.max(before, await startupMs());
    assertOneLineError(r, 'cannot reach PD at 127.0.0.1:1 (connection refused)');
    const timeout =
      Number(/(\d+)/.exec(args.at(-1)!)![1]) * (args.at(-1)!.endsWith('ms') ? 1 : 1000);
    assert.ok(r.ms < base + timeout + 2000, `${args.join(' ')}: ${r.ms} ms (startup ${base} ms)`);
  }
});

async function startPd(t: TestContext, dir: string, initialStores = 1, grpcPort?: number) {
  const [grpc, status] = [grpcPort ?? (await freePort()), await freePort()];
  const pd = await startServer(t, [
    'pd',
    'start',
    '--addr',
    `127.0.0.1:${grpc}`,
    '--status-addr',
    `127.0.0.1:${status}`,
    '--data-dir',
    dir,
    '--initial-stores',
    String(initialStores),
  ]);
  return { ...pd, grpc: `127.0.0.1:${grpc}` };
}

test('a store that cannot reach PD says it is waiting, and gives up at --pd-timeout', async (t) => {
  const dir = tempDir(t);
  const base = await startupMs();
  const r = await nyx([
    'store',
    'start',
    '--pd',
    '127.0.0.1:1',
    '--pd-timeout',
    '4s',
    '--data-dir',
    dir,
    '--addr',
    '127.0.0.1:0',
    '--status-addr',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 1, r.stderr);
  const err = lines(r.stderr);
  assert.match(
    err[0]!,
    /^waiting for PD at 127\.0\.0\.1:1 \(connection refused\); retrying for up to \d s more$/,
  );
  assert.equal(
    err.at(-1),
    'Error: cannot reach PD at 127.0.0.1:1 (connection refused; gave up after 4 s)',
  );
  assert.ok(r.ms < base + 4000 + 2500, `${r.ms} ms (startup ${base} ms)`);
  assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false, 'the lock is released on exit');
});

test('pd start: a port in use and a locked data dir are one line each; a dead holder is taken over', async (t) => {
  const busy = await occupy(t);
  const free = await freePort();
  const a = await nyx([
    'pd',
    'start',
    '--addr',
    `127.0.0.1:${busy}`,
    '--status-addr',
    `127.0.0.1:${free}`,
    '--data-dir',
    tempDir(t),
  ]);
  assertOneLineError(a, `cannot listen on 127.0.0.1:${busy} (address already in use)`);
  const b = await nyx([
    'pd',
    'start',
    '--addr',
    `127.0.0.1:${free}`,
    '--status-addr',
    `127.0.0.1:${busy}`,
    '--data-dir',
    tempDir(t),
  ]);
  assertOneLineError(b, `cannot listen on 127.0.0.1:${busy} (address already in use)`);

  const dir = tempDir(t);
  const first = await startPd(t, dir);
  const second = await nyx([
    'pd',
    'start',
    '--addr',
    '127.0.0.1:0',
    '--status-addr',
    '127.0.0.1:0',
    '--data-dir',
    dir,
  ]);
  assertOneLineError(
    second,
    `data dir ${dir} is in use: locked by process ${first.child.pid} (lock file ${dir}/LOCK)`,
  );
  // kill -9 leaves LOCK behind; its pid is dead, so the next PD takes it over.
  await kill9(first);
  assert.ok(fs.existsSync(path.join(dir, 'LOCK')));
  const third = await startPd(t, dir);
  assert.match(third.ready, /^PD ready: grpc /);
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0);
  assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false, 'a clean stop releases the lock');
});

test('store start: a locked data dir and a port in use are one line each', async (t) => {
  const pd = await startPd(t, tempDir(t));
  const dir = tempDir(t);
  const [port, status] = [await freePort(), await freePort()];
  const store = await startServer(t, [
    'store',
    'start',
    '--pd',
    pd.grpc,
    '--data-dir',
    dir,
    '--addr',
    `127.0.0.1:${port}`,
    '--status-addr',
    `127.0.0.1:${status}`,
  ]);
  assert.match(store.ready, /^Store \d+ ready: grpc /);

  const twin = await nyx([
    'store',
    'start',
    '--pd',
    pd.grpc,
    '--data-dir',
    dir,
    '--addr',
    '127.0.0.1:0',
    '--status-addr',
    '127.0.0.1:0',
  ]);
  assertOneLineError(
    twin,
    `data dir ${dir} is in use: locked by process ${store.child.pid} (lock file ${dir}/LOCK)`,
  );

  const clash = await nyx([
    'store',
    'start',
    '--pd',
    pd.grpc,
    '--data-dir',
    tempDir(t),
    '--addr',
    `127.0.0.1:${port}`,
    '--status-addr',
    '127.0.0.1:0',
  ]);
  assertOneLineError(clash, `cannot listen on 127.0.0.1:${port} (address already in use)`);
  const clash2 = await nyx([
    'store',
    'start',
    '--pd',
    pd.grpc,
    '--data-dir',
    tempDir(t),
    '--addr',
    '127.0.0.1:0',
    '--status-addr',
    `127.0.0.1:${status}`,
  ]);
  assertOneLineError(clash2, `cannot listen on 127.0.0.1:${status} (address already in use)`);
});

test('playground: a port it cannot bind is named on the console; a second playground on its dir is refused', async (t) => {
  const dir = tempDir(t);
  const busy = await occupy(t);
  const ports = async () => [
    '--store-port',
    String(await freePort()),
    '--store-status-port',
    String(await freePort()),
  ];
  const r = await nyx([
    'playground',
    '--data-dir',
    dir,
    '--stores',
    '1',
    '--regions',
    '1',
    '--pd-port',
    String(busy),
    ...(await ports()),
  ]);
  assertOneLineError(
    r,
    `pd could not start: cannot listen on 127.0.0.1:${busy} (address already in use); see ${dir}/logs/pd.log`,
    `Starting PD and 1 stores under ${dir} ...\n`,
  );

  const pdPort = (await freePort()) + 1;
  const pg = await startServer(t, [
    'playground',
    '--data-dir',
    dir,
    '--stores',
    '1',
    '--regions',
    '1',
    '--pd-port',
    String(pdPort),
    ...(await ports()),
  ]);
  assert.equal(pg.ready, 'NyxDB playground is up:');
  const again = await nyx([
    'playground',
    '--data-dir',
    dir,
    '--stores',
    '1',
    '--clean',
    '--pd-port',
    String((await freePort()) + 1),
    ...(await ports()),
  ]);
  assertOneLineError(
    again,
    `data dir ${dir} is in use: locked by process ${pg.child.pid} (lock file ${dir}/LOCK)`,
    `Starting PD and 1 stores under ${dir} ...\n`,
  );
  assert.ok(
    fs.existsSync(path.join(dir, 'pd', 'pd.db')),
    '--clean of a running playground deleted nothing',
  );
  pg.child.kill('SIGTERM');
  assert.equal(await pg.exited, 0);
  for (const sub of ['', 'pd', 'store1'])
    assert.equal(
      fs.existsSync(path.join(dir, sub, 'LOCK')),
      false,
      `${sub || 'playground'} lock released`,
    );
});

test('a store started before its PD waits, then comes up once PD does', async (t) => {
  const pdPort = await freePort();
  const dir = tempDir(t);
  const child = spawn(
    process.execPath,
    [
      RUN,
      'store',
      'start',
      '--pd',
      `127.0.0.1:${pdPort}`,
      '--pd-timeout',
      '0',
      '--data-dir',
      dir,
      '--addr',
      '127.0.0.1:0',
      '--status-addr',
      '127.0.0.1:0',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NYX_PD: '', NYX_LOG_LEVEL: 'warn' },
    },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const until = async (what: string, f: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!f()) {
      if (Date.now() > deadline) throw new Error(`no ${what}:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until('waiting line', () =>
    /waiting for PD at .* \(connection refused\); retrying until it answers/.test(stderr),
  );
  await startPd(t, tempDir(t), 1, pdPort);
  await until('ready line', () => /^Store \d+ ready: grpc /m.test(stdout));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
